"""Request parameters: query strings, urlencoded bodies and cookies, and
Kore's whitelist of validated parameters (Kore: http_populate_qs(),
http_populate_post(), http_populate_cookies(), http_argument_add() and
the params checks of src/validator.c).

A parameter is kept only if a rule of the route names it for the request's
method and source (query string for `qs:` rules, body for the others) and
the rule's validator accepts its decoded value; every other parameter is
dropped without a word, as in Kore. Kore's limits apply: 19 pairs per
query string or body, 9 cookies, and pairs with control characters in the
decoded name or value are dropped.

Layer: request core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from korepyd.config import model
from korepyd.config.regex import compile_posix

MAX_PAIRS = 19
MAX_COOKIES = 9

# name, value -> accepted? (the worker binds function validators to the request)
Check = Callable[[str], bool]


def parse_pairs(text: str, limit: int = MAX_PAIRS) -> list[tuple[str, str]]:
    """`a=1&b=2` decoded; pairs without '=' or with control characters dropped."""
    pairs = []
    for piece in text.split("&")[:limit]:
        name, eq, value = piece.partition("=")
        if not eq or not name:
            continue
        value = value.partition("=")[0]
        name, value = _unquote(name), _unquote(value)
        if _has_control(name) or _has_control(value):
            continue
        pairs.append((name, value))
    return pairs


def _unquote(text: str) -> str:
    """unquote_plus(), skipped where there is nothing to decode (most names and values)."""
    return unquote_plus(text, errors="replace") if "%" in text or "+" in text else text


def parse_cookies(header: str) -> list[tuple[str, str]]:
    """Kore's cookie parsing: `;`-separated, at most 9, values not decoded."""
    cookies = []
    for piece in header.split(";")[:MAX_COOKIES]:
        name, eq, value = piece.lstrip(" ").partition("=")
        parts = [p for p in value.split("=") if p]
        if eq and name and parts:
            cookies.append((name, parts[0]))
    return cookies


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _has_control(text: str) -> bool:
    # isprintable() is False for every control character (and for more): only then is the search needed
    return not text.isprintable() and _CONTROL.search(text) is not None


class Validators:
    """The configuration's validators, compiled once per worker."""

    def __init__(self, validators: tuple[model.Validator, ...], resolve: Callable[[str], Callable]):
        self._checks: dict[str, tuple[str, object]] = {}
        for v in validators:
            if v.name in self._checks:  # Kore: the first one declared wins
                continue
            if v.kind == "regex":
                self._checks[v.name] = ("regex", compile_posix(v.pattern))
            else:
                self._checks[v.name] = ("function", resolve(v.function.name))

    def check(self, name: str, value, request) -> bool:
        """Does validator `name` accept `value`? (Synchronous only: it runs
        inside req.populate_*(); an `async def` validator is refused.)"""
        kind, check = self._checks[name]
        if kind == "regex":  # call()'s first case, inline: this runs for every parameter
            return isinstance(value, str) and check.search(value) is not None
        result = self.call(name, value, request)
        if result is True or result is False:
            return result
        if hasattr(result, "__await__"):
            result.close()
            raise TypeError(f"validator '{name}' is async: use it for authentication, not for parameters")
        return result is True

    def call(self, name: str, value, request):
        """The validator's verdict (True/False), or its awaitable. For an
        authentication of type `request`, `value` is None and a function
        validator gets only the request, as in Kore."""
        kind, check = self._checks[name]
        if kind == "regex":
            return isinstance(value, str) and check.search(value) is not None
        return check(request) if value is None else check(request, value)


def filter_params(pairs: list[tuple[str, str]], rules: tuple[model.Param, ...], method: str, from_qs: bool,
                  check: Callable[[str, str, object], bool], request) -> list[tuple[str, str]]:
    """The pairs the route's rules allow: for each pair the first rule for
    its method, source and name decides, through `check(validator, value,
    request)` (Validators.check)."""
    kept = []
    for name, value in pairs:
        for rule in rules:
            if rule.method == method and rule.qs == from_qs and rule.name == name:
                if check(rule.validator, value, request):
                    kept.append((name, value))
                break
    return kept

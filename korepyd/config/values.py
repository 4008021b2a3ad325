"""Parsers for the values of Kore's global settings, with Kore's messages.

Each factory returns a function value -> Python value that raises
ValueProblem with the message Kore prints for that setting ("bad value for
worker '0'"). Kore's numbers are strict decimals with an optional sign (Kore:
kore_strtonum()); only worker_accept_threshold takes C's base 0 (0x10, 010).
Where Kore takes a 64-bit number with no range check (websocket_maxframe,
websocket_timeout, curl_recv_max) and lets a negative wrap around, korepyd
refuses values outside 0..2**64-1 instead.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Parser = Callable[[str], object]

_DECIMAL = re.compile(r"[+-]?[0-9]+\Z")
_BASE0 = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")


class ValueProblem(ValueError):
    """A value a setting does not accept; the message is Kore's wording."""


def integer(low: int, high: int, message: str, *, base0: bool = False) -> Parser:
    """A whole number in [low, high]; `message` has a {value} field."""

    def parse(value: str) -> int:
        pattern = _BASE0 if base0 else _DECIMAL
        if not pattern.match(value):
            raise ValueProblem(message.format(value=value))
        number = _base0(value) if base0 else int(value)
        if not low <= number <= high:
            raise ValueProblem(message.format(value=value) + f" (allowed: {low} to {high})")
        return number

    parse.__doc__ = f"N ({low}-{high})"
    return parse


def _base0(value: str) -> int:
    sign = -1 if value.startswith("-") else 1
    digits = value.lstrip("+-")
    if digits[:2].lower() == "0x":
        return sign * int(digits, 16)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def choice(options: tuple[str, ...], message: str) -> Parser:
    """One of `options`, compared case-sensitively as Kore does."""

    def parse(value: str) -> str:
        if value not in options:
            raise ValueProblem(message.format(value=value))
        return value

    parse.__doc__ = "|".join(options)
    return parse


def yes_no(message: str) -> Parser:
    """`yes` or `no` (lower case only, as in Kore) as a bool."""
    pick = choice(("yes", "no"), message)

    def parse(value: str) -> bool:
        return pick(value) == "yes"

    parse.__doc__ = "yes|no"
    return parse


def text(value: str) -> str:
    """TEXT"""
    return value

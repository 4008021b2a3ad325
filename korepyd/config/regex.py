"""Kore's regular expressions (POSIX extended, glibc flavour) on Python's re.

Routes, validators, redirects and returns in kore.conf are POSIX extended
regular expressions, compiled by Kore with regcomp(REG_EXTENDED). Most of
them mean the same to Python's `re`, with these differences, which
translate() removes:

- `$` is the very end of the subject in POSIX; in Python it also matches
  before a final newline, so `^[0-9]+$` would accept "12\\n". It becomes \\Z.
- `.` matches a newline in POSIX (no REG_NEWLINE); re.DOTALL does that.
- In a bracket expression a backslash is an ordinary character and
  `[:alpha:]`-style classes exist; Python knows neither.
- `\\<` and `\\>` (GNU word boundaries) become \\b.

What is left, POSIX's leftmost-longest choice between alternatives, only
changes which text an alternation captures, never whether a path matches.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import re
import warnings

_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class RegexProblem(ValueError):
    """The pattern is not a valid POSIX extended regular expression."""


def compile_posix(pattern: str) -> re.Pattern[str]:
    """Compile a kore.conf regex; raises RegexProblem with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(translate(pattern), re.DOTALL)
    except (re.error, RegexProblem, OverflowError, RecursionError, ValueError) as exc:
        raise RegexProblem(str(exc)) from None


def translate(pattern: str) -> str:
    """Rewrite a POSIX extended regex as an equivalent Python regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
            continue
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\b" if nxt in "<>" else c + nxt)
            i += 2
            continue
        out.append("\\Z" if c == "$" else c)
        i += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression at `start`; return it and the end."""
    i = start + 1
    out = ["["]
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        c = pattern[i]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        if c == "[" and pattern[i + 1 : i + 2] in (":", ".", "="):
            kind = pattern[i + 1]
            end = pattern.find(kind + "]", i + 2)
            if end < 0:
                raise RegexProblem("unterminated character class")
            name = pattern[i + 2 : end]
            out.append(_bracket_item(kind, name))
            i = end + 2
            continue
        out.append("\\" + c if c in "\\[]^" else c)
        i += 1
    raise RegexProblem("unmatched [")


def _bracket_item(kind: str, name: str) -> str:
    if kind == ":":
        if name not in _CLASSES:
            raise RegexProblem(f"unknown character class [:{name}:]")
        return _CLASSES[name]
    if len(name) != 1:  # [.coll.] and [=equiv=] for one character only
        raise RegexProblem(f"unsupported collating element [{kind}{name}{kind}]")
    return re.escape(name)

"""Conditional and partial requests for files (RFC 9110 sections 13 and
14): ETag, If-None-Match, If-Modified-Since, Range and If-Range. Kore
answers 304 only to an If-Modified-Since equal to the file's time and has
no ranges; these are what a modern static server does. Pure functions.

Layer: request core.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

UNSATISFIABLE = "unsatisfiable"


def etag(size: int, mtime_ns: int) -> str:
    return f'"{mtime_ns:x}-{size:x}"'


_FIELDS = ("if-none-match", "if-modified-since", "range", "if-range")


def request_fields(headers: list[tuple[str, str]]) -> list[str | None]:
    """The last values of If-None-Match, If-Modified-Since, Range and
    If-Range among a request's (lower-case name, value) headers, in that
    order (None where absent): one pass over the headers."""
    found: list[str | None] = [None, None, None, None]
    for name, value in headers:
        if name in _FIELDS:
            found[_FIELDS.index(name)] = value
    return found


def not_modified(if_none_match: str | None, if_modified_since: str | None, tag: str, mtime: float) -> bool:
    """True when the client's copy is current (answer 304)."""
    if if_none_match is not None:  # it takes precedence over If-Modified-Since
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or tag in tags
    if if_modified_since:
        try:
            return int(mtime) <= parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def byte_range(header: str | None, if_range: str | None, tag: str, last_modified: str, size: int):
    """(start, end) inclusive for a satisfiable single range, UNSATISFIABLE,
    or None to send the whole file (no Range, several ranges, a stale
    If-Range, or a header we do not understand)."""
    if not header or (if_range is not None and if_range not in (tag, last_modified)):
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or \
            (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return UNSATISFIABLE
    return start, end

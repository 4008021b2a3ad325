"""The head of an HTTP/1.1 response: status line reason, Kore's own headers
and the user's, checked and written as h11 would write them (Kore:
http_response_normal() in src/http.c). Layer: wire (http1), sans-IO; the
request core decides what a response holds, this module how HTTP/1.1
writes its head.

Kore writes `server`, then `connection` and `keep-alive` (or `connection:
close`), HSTS on TLS, the user's headers in the order they were set (a
header set twice keeps its last value, at the last place), then
`content-length`. korepyd adds `date` after `server`; like Kore it sends
no default Content-Type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}

# h11's grammar for a header line it sends (h11/_abnf.py)
TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
FIELD_VALUE = re.compile(rb"([^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")


def reason(status: int) -> bytes:
    """A reason phrase for every status (Kore leaves unknown ones empty)."""
    return _REASONS.get(status, b"Unknown")


@dataclass(frozen=True)
class HeadPolicy:
    """What every response of a worker carries, encoded once."""

    server: bytes
    keepalive: int            # http_keepalive_time; 0 disables keep-alive
    hsts: int = 0             # max-age on TLS connections; 0 sends none
    _lines: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        keep = b"connection: keep-alive\r\nkeep-alive: timeout=%d\r\n" % self.keepalive
        close = b"connection: close\r\n"
        hsts = b"strict-transport-security: max-age=%d; includeSubDomains\r\n" % self.hsts if self.hsts else b""
        lines = (close, close + hsts, keep, keep + hsts)  # by lines()'s index
        object.__setattr__(self, "_lines", lines if FIELD_VALUE.fullmatch(self.server) else (None,) * 4)

    def lines(self, keep_alive: bool, tls: bool) -> bytes | None:
        """The Connection, Keep-Alive and HSTS lines; None when the server
        name is not a valid header value (h11 then refuses it)."""
        return self._lines[(2 if keep_alive else 0) + (1 if tls else 0)]


def head_headers(policy: HeadPolicy, user: list[tuple[str, str]], *, keep_alive: bool, tls: bool,
                 length: int | None, date: bytes) -> ResponseHead:
    """Kore's response headers, plus Date (RFC 9110 asks for it; Kore sends
    none); `length` None sends no content-length (1xx, 204, 304)."""
    return ResponseHead(policy, user, keep_alive, tls, length, date)


class ResponseHead:
    """The headers of one response. Iterated, they are the (name, value)
    byte pairs the connection classes check and write, in Kore's order.
    `lines` is the same head already written out (each line with its
    CRLF, then the blank line) when every line is known to pass h11's
    checks and none is one whose rules h11 applies on sending (Host,
    Content-Length, Transfer-Encoding, Connection, from the user):
    HttpConnection then writes it as it is. Otherwise `lines` is None
    and the pairs go through every check."""

    _keep_alive: bool
    _tls: bool
    close: bool
    __slots__ = ("_policy", "_user", "_keep_alive", "_tls", "length", "_date", "lines", "close")

    def __init__(self, policy: HeadPolicy, user: list[tuple[str, str]], keep_alive: bool, tls: bool,
                 length: int | None, date: bytes):
        self._policy, self._user, self._date = policy, user, date
        self._keep_alive, self._tls = bool(keep_alive), bool(tls)  # C fields, compiled: the same either way
        self.length = length
        self.close = not keep_alive          # it says Connection: close
        self.lines = _lines(policy, user, keep_alive, tls, length, date)

    def __iter__(self):
        policy = self._policy
        headers = [(b"server", policy.server), (b"date", self._date)]
        if self._keep_alive:
            headers += [(b"connection", b"keep-alive"), (b"keep-alive", b"timeout=%d" % policy.keepalive)]
        else:
            headers.append((b"connection", b"close"))
        if self._tls and policy.hsts:
            headers.append((b"strict-transport-security", b"max-age=%d; includeSubDomains" % policy.hsts))
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self._user]
        if self.length is not None:
            headers.append((b"content-length", b"%d" % self.length))
        return iter(headers)


_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_USER_LINES: dict[tuple[str, str], bytes] = {}   # user headers found valid -> their lines
_LENGTH_LINES: dict[int, bytes] = {}             # content lengths sent -> their lines (a site has few)
_CACHE_MAX = 1024


def _lines(policy: HeadPolicy, user, keep_alive: bool, tls: bool, length: int | None, date: bytes) -> bytes | None:
    """ResponseHead.lines: the order of ResponseHead.__iter__, written out,
    with the blank line that ends a head (tests/http1/test_differential.py
    compares the bytes of both ways)."""
    fixed = policy.lines(keep_alive, tls)
    if fixed is None:
        return None
    parts = [b"server: ", policy.server, b"\r\ndate: ", date, b"\r\n", fixed]
    for header in user:
        line = _USER_LINES.get(header)
        if line is None:
            line = _user_line(header)
            if line is None:
                return None
        parts.append(line)
    if length is not None:
        line = _LENGTH_LINES.get(length)
        if line is None:
            if len(_LENGTH_LINES) >= _CACHE_MAX:
                _LENGTH_LINES.clear()
            line = _LENGTH_LINES[length] = b"content-length: %d\r\n" % length
        parts.append(line)
    parts.append(b"\r\n")
    return b"".join(parts)


def _user_line(header: tuple[str, str]) -> bytes | None:
    """A user header's line if h11 would send it unchanged, else None."""
    name, value = header
    try:
        raw_name, raw_value = name.encode("latin-1"), value.encode("latin-1")
    except (UnicodeEncodeError, AttributeError):
        return None
    if name.lower() in _FRAMING or not TOKEN.fullmatch(raw_name) or not FIELD_VALUE.fullmatch(raw_value):
        return None
    if len(_USER_LINES) >= _CACHE_MAX:
        _USER_LINES.clear()
    line = _USER_LINES[header] = b"%s: %s\r\n" % (raw_name, raw_value)
    return line

"""The writer of a response (h11/_writers.py and h11's header checks): the
status line, the header checks h11 makes before sending (with its
h11.LocalProtocolError), how the body is framed, and the chunked body.
Layer: wire (http1), sans-IO.
"""

from __future__ import annotations

from http import HTTPStatus

import h11

from korepyd.http1.grammar import DIGITS, FIELD_VALUE, TOKEN

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# status -> (its reason phrase, its status line with that phrase)
STATUS_LINES = {s.value: (s.phrase.encode(), b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode())) for s in HTTPStatus}
_FRAMING = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection"})
_NAMES: dict[bytes, bytes] = {}                    # response header names already checked -> lower case
_VALUES: set[bytes] = set()                        # values of the headers korepyd writes itself, already checked
_CACHED_VALUES_OF = frozenset({b"server", b"date", b"connection", b"keep-alive", b"content-length", b"content-type",
                               b"strict-transport-security", b"accept-ranges", b"last-modified", b"etag"})
_CACHE_MAX = 1024


def status_line(status: int, reason: bytes) -> bytes:
    known = STATUS_LINES.get(status)
    return known[1] if known and known[0] == reason else b"HTTP/1.1 %d %s\r\n" % (status, reason)


def head(line: bytes, items: Headers) -> bytes:
    """The whole head: the status line, then the headers (Host first, as h11 writes it)."""
    parts = [line]
    if items.host:
        for name, lower, value in items:
            if lower == b"host":
                parts += (name, b": ", value, b"\r\n")
    for name, lower, value in items:
        if lower != b"host":
            parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (nothing for no data: the last chunk is end()'s)."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b""


class Headers(list):
    """Response header items (name, lower name, value), with what framing needs."""

    __slots__ = ("length", "chunked", "connection", "host")

    def __init__(self, items: list[tuple[bytes, bytes, bytes]]):
        super().__init__(items)
        self.length: bytes | None = None       # the first Content-Length
        self.chunked = False                   # Transfer-Encoding: chunked
        self.connection: list[bytes] = []      # the Connection values
        self.host = False
        for _, lower, value in items:
            if lower in _FRAMING:
                self._note(lower, value)

    def _note(self, lower: bytes, value: bytes) -> None:
        if lower == b"content-length":
            self.length = value if self.length is None else self.length
        elif lower == b"transfer-encoding":
            self.chunked = True
        elif lower == b"connection":
            self.connection.append(value)
        elif lower == b"host":
            self.host = True


def checked_headers(headers) -> Headers:
    """h11's normalize_and_validate for response headers."""
    items = Headers([])
    for name, value in headers:
        if type(name) is not bytes:
            name = bytesify(name)
        if type(value) is not bytes:
            value = bytesify(value)
        lower = _NAMES.get(name)
        if lower is None:
            if not TOKEN.fullmatch(name):
                raise h11.LocalProtocolError(f"Illegal header name {name!r}")
            lower = name.lower()
            if len(_NAMES) >= _CACHE_MAX:
                _NAMES.clear()
            _NAMES[name] = lower
        if value not in _VALUES:
            if not FIELD_VALUE.fullmatch(value):
                raise h11.LocalProtocolError(f"Illegal header value {value!r}")
            if lower in _CACHED_VALUES_OF:
                if len(_VALUES) >= _CACHE_MAX:
                    _VALUES.clear()
                _VALUES.add(value)
        if lower in _FRAMING:
            if lower == b"content-length":
                lengths = {length.strip() for length in value.split(b",")}
                if len(lengths) != 1:
                    raise h11.LocalProtocolError("conflicting Content-Length headers")
                value = lengths.pop()
                if not DIGITS.fullmatch(value):
                    raise h11.LocalProtocolError("bad Content-Length")
                if items.length is not None:
                    if items.length != value:
                        raise h11.LocalProtocolError("conflicting Content-Length headers")
                    continue  # h11 keeps one of equal Content-Lengths
            elif lower == b"transfer-encoding":
                if items.chunked:
                    raise h11.LocalProtocolError("multiple Transfer-Encoding headers")
                value = value.lower()
                if value != b"chunked":
                    raise h11.LocalProtocolError("Only Transfer-Encoding: chunked is supported")
            items._note(lower, value)
        items.append((name, lower, value))
    return items


def body_framing(method: bytes | None, status: int, items: Headers) -> int | str:
    """h11's body_framing for a response: a length, "chunked" or "http/1.0"."""
    if status in (204, 304) or method == b"HEAD" or (method == b"CONNECT" and 200 <= status < 300):
        return 0
    if items.chunked:
        return "chunked"
    return "http/1.0" if items.length is None else int(items.length)


def bytesify(value) -> bytes:
    if isinstance(value, str):
        return value.encode("ascii")
    if isinstance(value, int):
        raise TypeError("expected bytes-like object, not int")
    return bytes(value)

"""The events the HTTP/1.1 engine gives the worker, protocol-neutral in
what they hold: a request head, pieces of its body, its end, a refusal,
and the two pauses (NEED_DATA, CLOSED). Layer: wire (http1), sans-IO.
"""

from __future__ import annotations

from dataclasses import dataclass


class RequestHead:
    """A request's line and headers. A plain class, not a dataclass: it is
    made for every request, and compiled (an extension type) its __init__ is C."""

    __slots__ = ("method", "target", "path", "query", "http_version", "headers", "content_length", "chunked")

    def __init__(self, method: str, target: str, path: str, query: str, http_version: bytes,
                 headers: list[tuple[str, str]], content_length: int | None, chunked: bool):
        self.method = method                # lower case: "get"
        self.target = target
        self.path = path
        self.query = query
        self.http_version = http_version    # b"1.1" or b"1.0"
        self.headers = headers              # (name in lower case, value) in arrival order
        self.content_length = content_length
        self.chunked = chunked

    def _fields(self) -> tuple:
        return (self.method, self.target, self.path, self.query, self.http_version, self.headers,
                self.content_length, self.chunked)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestHead):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(RequestHead.__slots__, self._fields(), strict=True))
        return f"RequestHead({fields})"

    def header(self, name: str) -> str | None:
        """The last value of header `name` (lower case), or None."""
        headers = self.headers
        at = len(headers)
        while at:  # backwards by index: reversed() costs more than the search, for a few headers
            at -= 1
            if headers[at][0] == name:
                return headers[at][1]
        return None


@dataclass(frozen=True)
class BodyData:
    data: bytes


@dataclass(frozen=True)
class EndOfRequest:
    pass


@dataclass(frozen=True)
class Refused:
    """The engine refused the request: answer `status` (if a response can still
    be sent), then close."""

    status: int
    reason: str


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


class _Closed:
    def __repr__(self) -> str:
        return "CLOSED"


NEED_DATA = _NeedData()
CLOSED = _Closed()   # the client closed the connection between requests

Event = RequestHead | BodyData | EndOfRequest | Refused | _NeedData | _Closed

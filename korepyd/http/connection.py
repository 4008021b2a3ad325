"""The server side of one HTTP/1.1 connection, sans-IO: h11 plus the
checks h11 leaves to its user (reference: reliability.md, section 2).

Feed it bytes with receive_data(), take events from next_event(), and turn
responses into bytes with respond(). It never does I/O and never sleeps:
the worker drives it and owns the timeouts.

What it refuses, each with one error response and the connection closed:

- a request head larger than http_header_max, whether it arrives in many
  reads or in one (h11 only limits the former): 431; a request target
  longer than that: 414; more than MAX_HEADERS headers: 431;
- Content-Length together with Transfer-Encoding, Transfer-Encoding in an
  HTTP/1.0 request, two Content-Length headers, folded (obs-fold) header
  lines, a request target that is not `/path`, `http(s)://...` or `*`
  (OPTIONS only), a malformed chunk line (chunks.py): 400;
- an HTTP version other than 1.0 and 1.1: 505;
- a body larger than http_body_max, announced or sent: 413, before the body
  is read when it is announced;
- a body method (POST, PUT, PATCH) without Content-Length or chunked
  Transfer-Encoding: 411, as Kore does; any body while http_body_max is 0:
  405, as Kore does.

Everything else malformed is refused by h11 itself (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import h11

from korepyd.http.chunks import ChunkError, ChunkGuard

MAX_HEADERS = 64
BODY_METHODS = (b"POST", b"PUT", b"PATCH")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_OBS_FOLD = re.compile(rb"\n[ \t]")
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:([^\r\n]*)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    header_max: int = 4096
    body_max: int = 1024000


class RequestHead:
    """A request's line and headers. A plain class, not a dataclass: it is
    made for every request, and compiled (connection.pxd) its __init__ is C."""

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
class Reject:
    """Answer `status` (if a response can still be sent), then close."""

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

Event = RequestHead | BodyData | EndOfRequest | Reject | _NeedData | _Closed


class HttpConnection:
    def __init__(self, limits: Limits):
        self.limits = limits
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.header_max)
        self._guard: ChunkGuard | None = None
        self._body_size = 0
        self._rejected: Reject | None = None
        self.head: RequestHead | None = None
        self.request_method: bytes | None = None   # known once the request line is read, even if refused

    # -- input ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client; b"" means the client closed its side."""
        if self._rejected:
            return
        try:
            if data and self._guard is not None and not self._guard.done:
                self._guard.feed(data)
            self._h11.receive_data(data)
        except ChunkError as exc:
            self._reject(400, str(exc))
        except h11.RemoteProtocolError as exc:
            self._reject(400, str(exc))

    def next_event(self) -> Event:
        if self._rejected:
            return self._rejected
        if self._h11.their_state is h11.IDLE:
            problem = self._check_head_bytes()
            if problem:
                return self._reject(*problem)
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint if exc.error_status_hint >= 400 else 400
            return self._reject(status, str(exc))
        if event is h11.NEED_DATA:
            return NEED_DATA
        if isinstance(event, h11.ConnectionClosed):
            return CLOSED
        if isinstance(event, h11.Request):
            return self._on_request(event)
        if isinstance(event, h11.Data):
            self._body_size += len(event.data)
            if self._body_size > self.limits.body_max:
                return self._reject(413, "body larger than http_body_max")
            return BodyData(bytes(event.data))
        if isinstance(event, h11.EndOfMessage):
            return EndOfRequest()
        return NEED_DATA  # pragma: no cover - h11 sends nothing else to a server

    def _check_head_bytes(self) -> tuple[int, str] | None:
        """Size and folding of a request head still in h11's buffer."""
        pending, _ = self._h11.trailing_data
        if not pending:
            return None
        end = _HEAD_END.search(pending)
        size = end.end() if end else len(pending)
        if size > self.limits.header_max:
            first_line = pending.split(b"\n", 1)[0]
            if len(first_line) > self.limits.header_max:
                return 414, "request line longer than http_header_max"
            return 431, "request head larger than http_header_max"
        if end:
            head = pending[:end.start() + 1]
            if _OBS_FOLD.search(head):
                return 400, "folded header line (obs-fold)"
            lengths = _CONTENT_LENGTH.findall(head)  # h11 merges identical ones: look at the bytes
            if len(lengths) > 1 or any(b"," in v for v in lengths):
                return 400, "more than one Content-Length"
        return None

    def _on_request(self, event: h11.Request) -> Event:
        self.request_method = event.method
        version, target = event.http_version, event.target
        headers = event.headers.raw_items()
        lengths = [v for n, v in headers if n.lower() == b"content-length"]
        encodings = [v for n, v in headers if n.lower() == b"transfer-encoding"]
        problem = refusal(event.method, target, version, len(headers), lengths, encodings, self.limits)
        if problem:
            return self._reject(*problem)
        length = int(lengths[0]) if lengths else None
        chunked = bool(encodings)
        self._body_size = 0
        if chunked:
            self._guard = ChunkGuard()
            try:
                self._guard.feed(self._h11.trailing_data[0])
            except ChunkError as exc:
                return self._reject(400, str(exc))
        text = target.decode("latin-1")
        path, query = split_target(text)
        self.head = RequestHead(
            event.method.decode("ascii").lower(), text, path, query, version,
            [(n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in headers], length, chunked)
        return self.head

    def _reject(self, status: int, reason: str) -> Reject:
        self._rejected = Reject(status, reason)
        return self._rejected

    # -- output ----------------------------------------------------------------

    @property
    def waiting_for_continue(self) -> bool:
        """The client sent Expect: 100-continue and waits before its body."""
        return self._h11.they_are_waiting_for_100_continue

    def send_continue(self) -> bytes:
        return self._h11.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue"))

    def respond(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
        """The response head; raises h11.LocalProtocolError on a bad header."""
        return self._h11.send(h11.Response(status_code=status, headers=headers, reason=reason))

    def respond_complete(self, status: int, reason: bytes, headers, body: bytes = b"") -> bytes:
        """respond(), send_body(body) if there is a body, and end(): a whole response."""
        return self.respond(status, reason, headers) + (self.send_body(body) if body else b"") + self.end()

    def send_body(self, data: bytes) -> bytes:
        return self._h11.send(h11.Data(data=data))

    def send_passthrough(self, length: int) -> None:
        """Account for `length` body bytes the caller sends itself (sendfile)."""
        self._h11.send_with_data_passthrough(h11.Data(data=_Span(length)))

    def end(self) -> bytes:
        return self._h11.send(h11.EndOfMessage())

    @property
    def can_respond(self) -> bool:
        return self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE)

    def start_next_cycle(self) -> bool:
        """Ready for the next request on this connection; False if it must close."""
        if self._rejected or self._h11.our_state is not h11.DONE or self._h11.their_state is not h11.DONE:
            return False
        self._h11.start_next_cycle()
        self._guard = None
        self.head = None
        self.request_method = None
        return True

    def upgraded_data(self) -> bytes:
        """The bytes the client sent after a request that switched protocols."""
        return self._h11.trailing_data[0]

    @property
    def has_buffered_data(self) -> bool:
        return bool(self._h11.trailing_data[0])


class _Span:
    """Stands for body bytes h11 counts but never sees."""

    def __init__(self, length: int):
        self._length = length

    def __len__(self) -> int:
        return self._length


def wants_keep_alive(head: RequestHead) -> bool:
    """HTTP/1.1 without `Connection: close` (HTTP/1.0 always closes, as in Kore)."""
    return head.http_version == b"1.1" and "close" not in (head.header("connection") or "").lower()


def refusal(method: bytes, target: bytes, version: bytes, header_count: int, lengths: list, encodings: list,
            limits: Limits) -> tuple[int, str] | None:
    """korepyd's rules for a request head h11 accepted (the module
    docstring's list), in order: the status and reason of the first one
    broken, or None. `lengths` and `encodings` are the values of the
    Content-Length and Transfer-Encoding headers."""
    if version not in (b"1.0", b"1.1"):
        return 505, f"HTTP version {version.decode('ascii', 'replace')} not supported"
    if header_count > MAX_HEADERS:
        return 431, f"more than {MAX_HEADERS} headers"
    if lengths and encodings:
        return 400, "both Content-Length and Transfer-Encoding"
    if encodings and version == b"1.0":
        return 400, "Transfer-Encoding in an HTTP/1.0 request"
    if not _valid_target(method, target):
        return 400, "request target is not /path, an absolute URL or *"
    length = int(lengths[0]) if lengths else None
    if (encodings or length) and limits.body_max == 0:
        return 405, "http_body_max is 0: no request may have a body"
    if length is not None and length > limits.body_max:
        return 413, "Content-Length larger than http_body_max"
    if method in BODY_METHODS and length is None and not encodings:
        return 411, "a body method without Content-Length"
    return None


def split_target(text: str) -> tuple[str, str]:
    """The path and the query string of a request target (of an absolute
    URL: the path in it)."""
    path, _, query = text.partition("?")
    if path[:1] != "/":  # (a one-character slice is a cached string: cheaper than startswith)
        path = "/" + path.split("://", 1)[-1].partition("/")[2] if "://" in path else path
    return path, query


def _valid_target(method: bytes, target: bytes) -> bool:
    if target[:1] == b"/":
        return True
    if target == b"*":
        return method == b"OPTIONS"
    return target.startswith((b"http://", b"https://"))

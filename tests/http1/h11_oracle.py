"""The oracle the HTTP/1.1 engine is held to: the same interface on h11
itself, plus korepyd's rules (korepyd/http1/rules.py). Test code only:
tests/http1/test_differential.py compares korepyd.http1.HttpConnection with
it, and bench/parser.py measures both.
"""

from __future__ import annotations

import re

import h11

from korepyd.http1.chunks import ChunkError, ChunkGuard
from korepyd.http1.events import CLOSED, NEED_DATA, BodyData, EndOfRequest, Event, Refused, RequestHead
from korepyd.http1.rules import CONTENT_LENGTH, Limits, broken_rule, split_target

HEAD_END = re.compile(rb"\r?\n\r?\n")
_OBS_FOLD = re.compile(rb"\n[ \t]")


class H11Connection:
    def __init__(self, limits: Limits):
        self.limits = limits
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.header_max)
        self._guard: ChunkGuard | None = None
        self._body_size = 0
        self._rejected: Refused | None = None
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
        end = HEAD_END.search(pending)
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
            lengths = CONTENT_LENGTH.findall(head)  # h11 merges identical ones: look at the bytes
            if len(lengths) > 1 or any(b"," in v for v in lengths):
                return 400, "more than one Content-Length"
        return None

    def _on_request(self, event: h11.Request) -> Event:
        self.request_method = event.method
        version, target = event.http_version, event.target
        headers = event.headers.raw_items()
        lengths = [v for n, v in headers if n.lower() == b"content-length"]
        encodings = [v for n, v in headers if n.lower() == b"transfer-encoding"]
        problem = broken_rule(event.method, target, version, len(headers), lengths, encodings, self.limits)
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

    def _reject(self, status: int, reason: str) -> Refused:
        self._rejected = Refused(status, reason)
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



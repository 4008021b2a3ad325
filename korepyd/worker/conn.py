"""One task per connection: the trio side of korepyd.http1.connection.

It reads from the stream into the sans-IO HttpConnection, hands each
request to the dispatcher, and owns Kore's timeouts:

- a connection waits at most http_header_timeout for its first request and
  http_keepalive_time between requests (0: no keep-alive at all); on a
  graceful stop a keep-alive connection between requests is closed at
  once, while a new one still gets its first request answered; when a
  reload retires the worker (Runtime.begin_stop) nothing a client may be
  sending on is closed: a kept-alive connection waits for its next request
  as usual, which is answered with `Connection: close`;
- from the first byte on, a request head must be complete within
  http_header_timeout, and a body within http_body_timeout (408); the
  body is read only when the dispatcher asks for it (BodyReader).

Layer: role (worker).
"""

from __future__ import annotations

import trio

from korepyd import log
from korepyd.core import dispatch
from korepyd.http1.connection import HttpConnection
from korepyd.http1.events import NEED_DATA, BodyData, EndOfRequest, Refused, RequestHead
from korepyd.kore._connection import connection as kore_connection
from korepyd.worker.runtime import Runtime
from korepyd.worker.stream import PlainStream

RECEIVE_SIZE = 65536
_WAIT = object()   # _head_at_once: no head without waiting
STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError)


class _CloseConnection(Exception):
    """End the connection, after an error response when `status` is set."""

    def __init__(self, status: int | None = None, reason: str = ""):
        super().__init__(reason)
        self.status = status


async def serve_connection(rt: Runtime, stream: trio.abc.Stream, server: str, tls: bool,
                           sni: str | None = None) -> None:
    """Serve the requests of one connection; `sni` is the server name a
    TLS client asked for."""
    http = HttpConnection(rt.limits)
    client = kore_connection(stream, sni)
    first = True
    nowait = stream.receive_nowait if isinstance(stream, PlainStream) else None
    try:
        while True:
            try:
                head = _head_at_once(http, nowait) if nowait is not None else _WAIT
                if head is _WAIT:
                    head = await _read_head(rt, http, stream, first)
                if head is None:
                    return
                keep = await dispatch.handle(rt, http, stream, head, server, tls, BodyReader(rt, http, stream, head),
                                             client)
            except _CloseConnection as close:
                if close.status is not None:
                    await dispatch.send_error(rt, http, stream, close.status, tls)
                return
            first = False
            if not keep or rt.stopping and not rt.retiring or not http.start_next_cycle():
                return
    except STREAM_ERRORS:
        return
    finally:
        await _close(stream)


def _head_at_once(http: HttpConnection, nowait) -> RequestHead | None:  # cpdef
    """The next request head if it can be had without waiting (what is
    buffered, or what the stream's receive_nowait has), None if the client
    closed; _WAIT if a wait is needed (for bytes, or for the rest of a head
    begun). The usual case on a busy keep-alive connection: no coroutine."""
    if not http.has_buffered_data:
        data = nowait(RECEIVE_SIZE)
        if data is None:
            return _WAIT
        if not data:
            return None
        http.receive_data(data)
    event = _ready_event(http)
    if event is NEED_DATA:
        return _WAIT
    return event if type(event) is RequestHead else None  # else the client closed the connection


async def _read_head(rt: Runtime, http: HttpConnection, stream, first: bool) -> RequestHead | None:
    """The next request head, waiting for it within Kore's limits; None if
    the client closed the connection or did not send one in time."""
    config = rt.config
    if not http.has_buffered_data:  # nothing there yet: wait, within the idle limit
        idle_limit = config.http_header_timeout if first else config.http_keepalive_time
        with trio.CancelScope(deadline=trio.current_time() + idle_limit) as idle:
            if not first:
                rt.idle.add(idle)
            try:
                data = await stream.receive_some(RECEIVE_SIZE)
            finally:
                rt.idle.discard(idle)
        if idle.cancelled_caught or not data:
            return None
        http.receive_data(data)
    event = _ready_event(http)  # the common case: the whole head came in one read
    if event is NEED_DATA:
        with trio.move_on_after(config.http_header_timeout) as timer:
            event = await _next_event(http, stream)
        if timer.cancelled_caught:
            raise _CloseConnection(408, "request head not complete within http_header_timeout")
    return event if type(event) is RequestHead else None  # else the client closed the connection


class BodyReader:
    """The body of one request, read when the dispatcher asks for it: whole
    (read) or piece by piece (chunks), within http_body_timeout. A body the
    dispatcher never asks for is never read; the connection then closes
    after the response."""

    pending: bool
    __slots__ = ("_rt", "_http", "_stream", "pending")

    def __init__(self, rt: Runtime, http: HttpConnection, stream, head: RequestHead):
        self._rt, self._http, self._stream = rt, http, stream
        self.pending = head.chunked or bool(head.content_length)

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def finish(self) -> None:
        """Take the end of a request without a body (it came with the head)."""
        if _ready_event(self._http) is NEED_DATA:  # pragma: no cover - h11 and llhttp both end it at once
            raise _CloseConnection()

    async def chunks(self):
        if not self.pending:
            self.finish()
            return
        deadline = trio.current_time() + self._rt.config.http_body_timeout
        while True:
            with trio.move_on_at(deadline) as timer:  # never across a yield: the scope must not leak
                event = await _next_event(self._http, self._stream)
                if isinstance(event, EndOfRequest):
                    self.pending = False
                    return
                if not isinstance(event, BodyData):
                    raise _CloseConnection()
            if timer.cancelled_caught:
                raise _CloseConnection(408, "body not complete within http_body_timeout")
            yield event.data


def _ready_event(http: HttpConnection):  # cpdef
    """The next event if it needs no more bytes, else NEED_DATA (nothing consumed)."""
    event = http.next_event()
    if isinstance(event, Refused):
        log.info(f"request refused with {event.status}: {event.reason}")
        raise _CloseConnection(event.status, event.reason)
    return event


async def _next_event(http: HttpConnection, stream):
    while True:
        event = http.next_event()
        if isinstance(event, Refused):
            log.info(f"request refused with {event.status}: {event.reason}")
            raise _CloseConnection(event.status, event.reason)
        if event is not NEED_DATA:
            return event
        if http.waiting_for_continue:
            await stream.send_all(http.send_continue())
        http.receive_data(await stream.receive_some(RECEIVE_SIZE))


async def _close(stream) -> None:
    if isinstance(stream, PlainStream):
        stream.close_last()   # this task is its last user
        return
    with trio.move_on_after(1) as scope:
        scope.shield = True
        try:
            await stream.aclose()
        except STREAM_ERRORS:
            pass

"""One task per connection: bytes from the stream through h11 to the
dispatcher and back (Kore: http_process() and the connection callbacks of
src/http.c), with Kore's limits and timeouts:

- the request head must arrive within http_header_timeout and fit in
  http_header_max bytes (408 and 431 otherwise);
- a body above http_body_max is refused with 413 before it is read, and it
  must arrive within http_body_timeout;
- between requests an idle connection is kept http_keepalive_time seconds
  (0: no keep-alive at all);
- malformed requests get 400 and the connection is closed.

Pipelined requests are answered in order (Kore drops them). The HTTP
hardening beyond h11's own checks (issue 4) belongs in korepyd.http.
"""

from __future__ import annotations

import h11
import trio

from korepyd import log
from korepyd.http.response import head_headers, reason
from korepyd.worker import dispatch
from korepyd.worker.runtime import Runtime

RECEIVE_SIZE = 65536


class _Close(Exception):
    """End the connection after sending `status` (if the state allows)."""

    def __init__(self, status: int | None):
        self.status = status


async def serve_connection(rt: Runtime, stream: trio.abc.Stream, server: str, tls: bool) -> None:
    config = rt.config
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=config.http_header_max)
    first = True
    try:
        while not rt.stopping or first:
            try:
                request = await _read_head(rt, conn, stream, first)
                if request is None:
                    return
                body = await _read_body(rt, conn, stream, request)
            except _Close as close:
                if close.status is not None:
                    await _send_error(rt, conn, stream, close.status, tls)
                return
            first = False
            keep = await dispatch.handle(rt, conn, stream, request, body, server, tls)
            if not keep or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
        return
    finally:
        await _close(stream)


async def _read_head(rt: Runtime, conn: h11.Connection, stream, first: bool) -> h11.Request | None:
    """The next request head, or None when the client left or stayed idle.

    A connection waits at most http_header_timeout for its first request
    and http_keepalive_time between requests; on a graceful stop a
    keep-alive connection between requests is closed at once, while a new
    one still gets its first request answered. From the first byte on, the
    head must be complete within http_header_timeout.
    """
    config = rt.config
    if not conn.trailing_data[0]:
        idle_limit = config.http_header_timeout if first else config.http_keepalive_time
        with trio.CancelScope(deadline=trio.current_time() + idle_limit) as idle:
            if not first:  # a new connection is owed an answer even while stopping
                rt.idle.add(idle)
            try:
                data = await stream.receive_some(RECEIVE_SIZE)
            finally:
                rt.idle.discard(idle)
        if idle.cancelled_caught or not data:
            return None
        _feed(conn, data)
    with trio.move_on_after(config.http_header_timeout) as timer:
        event = await _next_event(conn, stream)
    if timer.cancelled_caught:
        raise _Close(408)
    if isinstance(event, h11.ConnectionClosed):
        return None
    if not isinstance(event, h11.Request):
        raise _Close(400)
    return event


async def _read_body(rt: Runtime, conn: h11.Connection, stream, request: h11.Request) -> bytes:
    config = rt.config
    length = _content_length(request)
    if length is not None and length > config.http_body_max:
        raise _Close(413)
    chunks, size = [], 0
    with trio.move_on_after(config.http_body_timeout) as timer:
        while True:
            event = await _next_event(conn, stream)
            if isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            size += len(event.data)
            if size > config.http_body_max:
                raise _Close(413)
            chunks.append(event.data)
    raise _Close(408 if timer.cancelled_caught else None)


async def _next_event(conn: h11.Connection, stream):
    """The next h11 event, reading as needed; h11 reports the peer's EOF
    as ConnectionClosed, or as an error in the middle of a request."""
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _Close(exc.error_status_hint if exc.error_status_hint >= 400 else 400) from None
        if event is not h11.NEED_DATA:
            return event
        if conn.they_are_waiting_for_100_continue:
            await stream.send_all(conn.send(h11.InformationalResponse(status_code=100, headers=[],
                                                                      reason=b"Continue")))
        _feed(conn, await stream.receive_some(RECEIVE_SIZE))


def _feed(conn: h11.Connection, data: bytes) -> None:
    try:
        conn.receive_data(data)
    except h11.RemoteProtocolError:
        raise _Close(400) from None


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return None


async def _send_error(rt: Runtime, conn: h11.Connection, stream, status: int, tls: bool) -> None:
    """An error Kore makes itself: empty body, connection: close."""
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    headers = head_headers(rt.head, [], keep_alive=False, tls=tls, length=0)
    try:
        await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers, reason=reason(status))))
        await stream.send_all(conn.send(h11.EndOfMessage()))
    except (h11.LocalProtocolError, trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError) as exc:
        log.info(f"could not send {status}: {exc}")


async def _close(stream) -> None:
    with trio.move_on_after(1) as scope:
        scope.shield = True
        try:
            await stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
            pass

"""A websocket on the worker: the connection's task runs it once the
handler accepted the handshake (Kore: kore_websocket_handshake() and the
websocket read/write paths of src/websocket.c).

The app's callbacks, sync or `async def`, are called in order on this
task: onconnect(conn), onmessage(conn, op, data) for each message,
ondisconnect(conn) at the end. An exception in one of them is logged and
closes only this connection (1011); Kore kills the worker. Everything
written to the client goes through one outbox drained by one writer task,
so frames from other tasks (websocket_send, broadcasts) never interleave;
a client that lets more than OUTBOX_MAX frames pile up is disconnected.
On a plain connection a frame is written at once, without the writer, when
nothing is queued before it and the socket takes it whole.

Layer: role (worker).
"""

from __future__ import annotations

import inspect
import math

import trio

from korepyd import log
from korepyd.websocket.session import Closed, WebSocketSession
from korepyd.worker.runtime import Runtime
from korepyd.worker.stream import PlainStream

OUTBOX_MAX = 1024
RECEIVE_SIZE = 65536


class LiveWebSocket:
    """What kore.connection.websocket_send() and broadcasts write to."""

    def __init__(self, session: WebSocketSession, stream=None):
        self.session = session
        self._send, self.outbox = trio.open_memory_channel(OUTBOX_MAX)
        self._plain = stream if isinstance(stream, PlainStream) else None  # for writes at once
        self.queued = 0   # frames in the outbox or being written by the writer

    def send(self, op: int, data) -> None:
        self._queue(self.session.send_message(op, data))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._queue(self.session.close(code, reason))

    def _queue(self, data: bytes) -> None:
        if not data:
            return
        if self._plain is not None and not self.queued:
            try:
                data = data[self._plain.send_nowait(data):]
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return  # a broken connection: the reader sees it end
            if not data:
                return
        try:
            self._send.send_nowait(data)
            self.queued += 1
        except trio.WouldBlock:
            log.warning("websocket client too slow to read its messages: disconnected")
            self.session.closed = self.session.closed or Closed(1008, "too slow")
            self._send.close()
        except trio.ClosedResourceError:
            pass

    def finish(self) -> None:
        self._send.close()


async def serve_websocket(rt: Runtime, stream, session: WebSocketSession, conn, callbacks, pending: bytes) -> None:
    onconnect, onmessage, ondisconnect = callbacks
    live = LiveWebSocket(session, stream)
    conn._websocket = live
    rt.websockets.add(conn)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_writer, stream, live)
            try:
                if await _call(rt, onconnect, conn):
                    await _read(rt, stream, live, conn, onmessage, pending)
            finally:
                rt.websockets.discard(conn)
                with trio.CancelScope(shield=True):
                    await _call(rt, ondisconnect, conn)
                live.close(1001 if rt.stopping else 1000)
                live.finish()
    finally:
        conn._websocket = None


async def _read(rt: Runtime, stream, live: LiveWebSocket, conn, onmessage, data: bytes) -> None:
    """Messages to onmessage until the close handshake, EOF, the idle
    timeout (websocket_timeout) or a graceful stop of the worker."""
    session, timeout = live.session, rt.config.websocket_timeout
    with trio.CancelScope() as idle:  # one scope: a deadline while reading, none while the app works
        while True:
            if data:
                events, reply = session.receive_data(data)
                live._queue(reply)
                for event in events:
                    if isinstance(event, Closed):
                        return
                    if not await _call(rt, onmessage, conn, event.op, event.data):
                        return
            if session.closed is not None or rt.stopping:
                return
            idle.deadline = trio.current_time() + timeout
            data = await stream.receive_some(RECEIVE_SIZE)
            idle.deadline = math.inf
            if not data:
                session.receive_data(None)
                return
    if idle.cancelled_caught:
        live.close(1000, "idle")


async def _writer(stream, live: LiveWebSocket) -> None:
    try:
        async for data in live.outbox:
            await stream.send_all(data)
            live.queued -= 1
    except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
        pass


async def _call(rt: Runtime, callback, *args) -> bool:
    """Run an app callback; False (after closing with 1011) if it raised."""
    if callback is None:
        return True
    try:
        result = callback(*args)
        if result is not None and inspect.isawaitable(result):
            await result
    except trio.Cancelled:
        raise
    except Exception:
        rt.tasks.report(f"websocket callback {getattr(callback, '__qualname__', callback)!r}")
        conn = args[0]
        if conn._websocket is not None:
            conn._websocket.close(1011, "internal error")
        return False
    return True

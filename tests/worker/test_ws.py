"""A websocket on the worker (worker/ws.py) over a real socket pair, with
trio's autojump clock: the idle timeout, slow callbacks, and frames written
at once or through the writer task, always in order."""

import socket
import types

import pytest
import trio
from wsproto.events import BytesMessage, CloseConnection

from korepyd import config
from korepyd.websocket.session import OP_BINARY
from korepyd.worker.runtime import Runtime
from korepyd.worker.stream import PlainStream
from korepyd.worker.ws import serve_websocket
from tests.websocket.test_session import connect

CONF = """
server s {
    bind 127.0.0.1 8888
    tls no
}
websocket_timeout 20
domain * {
    attach s
    route / {
        handler h
    }
}
"""


@pytest.fixture
def runtime():
    loaded = config.loads(CONF, "t.conf", env={}, check_files=False)
    return Runtime.build(1, loaded.config, [types.ModuleType("app")])


class Client:
    """The client end: a wsproto client on a plain trio socket."""

    def __init__(self, sock, ws):
        self.stream, self.ws = PlainStream(sock), ws

    async def send(self, event):
        await self.stream.send_all(self.ws.send(event))

    async def events(self, count):
        """The next `count` events, messages whole (wsproto hands big ones over in parts)."""
        found, partial = [], b""
        while len(found) < count:
            for event in self.ws.events():
                if isinstance(event, BytesMessage) and not event.message_finished:
                    partial += event.data
                    continue
                if isinstance(event, BytesMessage):
                    event, partial = BytesMessage(partial + event.data), b""
                found.append(event)
            if len(found) < count:
                data = await self.stream.receive_some(65536)
                self.ws.receive_data(data or None)
        return found


class KoreConnection:
    """The part of kore.connection the websocket code uses."""

    _websocket = None


async def serve(runtime, nursery, onmessage):
    ws, session = connect()
    ours, theirs = socket.socketpair()
    conn = KoreConnection()
    nursery.start_soon(serve_websocket, runtime, PlainStream(ours), session, conn, (None, onmessage, None), b"")
    return Client(theirs, ws), conn


async def test_an_idle_websocket_is_closed_after_websocket_timeout(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, _ = await serve(runtime, nursery, None)
        start = trio.current_time()
        [close] = await client.events(1)
        assert isinstance(close, CloseConnection) and (close.code, close.reason) == (1000, "idle")
        assert trio.current_time() - start == pytest.approx(20)


async def test_a_slow_callback_is_not_cut_short_by_the_idle_timeout(runtime, autojump_clock):
    async def onmessage(conn, op, data):
        await trio.sleep(30)  # longer than websocket_timeout
        conn._websocket.send(op, data)

    async with trio.open_nursery() as nursery:
        client, _ = await serve(runtime, nursery, onmessage)
        await client.send(BytesMessage(b"slow"))
        first = await client.events(1)
        assert [type(e) for e in first] == [BytesMessage] and first[0].data == b"slow"
        nursery.cancel_scope.cancel()


async def test_frames_keep_their_order_written_at_once_or_queued(runtime, autojump_clock):
    big = b"x" * 300_000  # more than the socket takes at once: the rest goes to the writer

    def onmessage(conn, op, data):
        for n in range(5):
            conn._websocket.send(OP_BINARY, big if n == 2 else b"%d" % n)

    async with trio.open_nursery() as nursery:
        client, conn = await serve(runtime, nursery, onmessage)
        await client.send(BytesMessage(b"go"))
        got = [e.data for e in await client.events(5)]
        assert got == [b"0", b"1", big, b"3", b"4"]
        nursery.cancel_scope.cancel()


class TightSocket:
    """A socket that takes `room` bytes, then would block."""

    def __init__(self, room):
        self.room, self.written = room, b""

    def setblocking(self, flag):
        pass

    def send(self, data, flags=0):
        if not self.room:
            raise BlockingIOError
        taken = bytes(data[:self.room])
        self.room -= len(taken)
        self.written += taken
        return len(taken)


def test_nothing_is_written_at_once_while_frames_wait_in_the_outbox():
    from korepyd.worker.ws import LiveWebSocket

    _, session = connect()
    sock = TightSocket(room=40)
    live = LiveWebSocket(session, PlainStream(sock))
    live.send(OP_BINARY, b"a" * 10)            # written whole
    live.send(OP_BINARY, b"b" * 100)           # written in part, the rest queued
    sock.room = 1000                           # room again, but the writer has not run
    live.send(OP_BINARY, b"c" * 10)            # must wait behind the rest of b
    assert sock.written == session.send_message(OP_BINARY, b"a" * 10) + session.send_message(OP_BINARY, b"b" * 100)[:28]
    assert live.queued == 2

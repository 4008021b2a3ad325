"""The stream of one plain TCP (or unix) connection: trio.SocketStream's
job with less work per request.

trio's SocketStream makes two scheduler passes per call, guards against
concurrent use and wraps every call in context managers; on a keep-alive
connection that is a quarter of a worker's time. PlainStream calls the
socket directly and waits for readiness only when the socket would
block. Fairness is kept with one scheduler pass per request instead of
four: every send_all() ends with one, and a receive_some() that did not
have to wait yields when the call before it did not yield either (so a
task reading a long body or a flood of websocket frames still lets the
others run).

The callers are the connection task and, for websockets, one reader and
one writer task: no call of the same direction ever overlaps, so no
conflict detector is needed (a websocket frame is written with
send_nowait() only while the writer has nothing queued, worker/ws.py).

Layer: role (worker).
"""

from __future__ import annotations

import errno
import socket

import trio
from trio.lowlevel import checkpoint, notify_closing, wait_readable, wait_writable

_BROKEN = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class PlainStream(trio.abc.HalfCloseableStream):
    def __init__(self, sock: socket.socket):
        sock.setblocking(False)
        self.socket = sock
        self._yielded = True     # whether the last call went through the scheduler

    def receive_nowait(self, max_bytes: int = 65536) -> bytes | None:
        """What has arrived already (b"" at the end), or None: nothing yet."""
        try:
            data = self.socket.recv(max_bytes)
        except BlockingIOError:
            return None
        except _BROKEN as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        except OSError as exc:
            raise _translate(exc) from exc
        self._yielded = False
        return data

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        size = max_bytes or 65536
        if not self._yielded:
            await checkpoint()
            self._yielded = True
        while True:
            data = self.receive_nowait(size)
            if data is not None:
                return data
            await wait_readable(self.socket)
            self._yielded = True

    def send_nowait(self, data, flags: int = 0) -> int:
        """How much of `data` the socket took at once (0: none, it would block)."""
        try:
            return self.socket.send(data, flags)
        except BlockingIOError:
            return 0
        except _BROKEN as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        except OSError as exc:
            raise _translate(exc) from exc

    async def send_all(self, data) -> None:
        taken = self.send_nowait(data)  # mostly all of it: no coroutine for the rest
        if taken < len(data):
            await self._send_rest(data, taken, 0)
        await checkpoint()
        self._yielded = True

    async def send_more(self, data) -> None:
        """send_all() with MSG_MORE: the kernel holds the bytes for what the
        caller sends next (sendfile's head), and no scheduler pass."""
        taken = self.send_nowait(data, socket.MSG_MORE)
        if taken < len(data):
            await self._send_rest(data, taken, socket.MSG_MORE)

    async def _send_rest(self, data, sent: int, flags: int) -> None:
        view = memoryview(data)
        while sent < len(view):
            taken = self.send_nowait(view[sent:], flags)
            if not taken:
                await wait_writable(self.socket)
            sent += taken

    async def wait_send_all_might_not_block(self) -> None:
        await wait_writable(self.socket)

    async def send_eof(self) -> None:
        await checkpoint()
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    async def aclose(self) -> None:
        if self.socket.fileno() != -1:
            notify_closing(self.socket)
            self.socket.close()
        await checkpoint()


def _translate(exc: OSError) -> Exception:
    if exc.errno == errno.EBADF:
        return trio.ClosedResourceError("the connection is closed")
    return trio.BrokenResourceError(str(exc))

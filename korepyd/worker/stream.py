"""The stream of one TCP (or unix) connection: trio.SocketStream's job
with less work per request (PlainStream), and the same over TLS with
OpenSSL reading and writing the socket itself (TlsStream).

trio's SocketStream makes two scheduler passes per call, guards against
concurrent use and wraps every call in context managers; on a keep-alive
connection that is a quarter of a worker's time. PlainStream calls the
socket directly and waits for readiness only when the socket would
block. Fairness is kept with one scheduler pass per request instead of
four: every send_all() ends with one, and a receive_some() that did not
have to wait yields when the call before it did not yield either (so a
task reading a long body or a flood of websocket frames still lets the
others run). A receive_nowait() that found nothing makes the next
receive_some() wait for the socket before it reads again: a keep-alive
connection between requests reads twice per request, not three times
(over TLS, one SSL_read that fails is an exception object less).

The callers are the connection task and, for websockets, one reader and
one writer task: no call of the same direction ever overlaps, so no
conflict detector is needed (a websocket frame is written with
send_nowait() only while the writer has nothing queued, worker/ws.py).

A connection's own task closes its stream with close_last(), which
leaves trio out; aclose() is the general close.

TlsStream is trio.SSLStream's job: an ssl.SSLSocket in non-blocking
mode, so a record is read, decrypted, encrypted and written inside
OpenSSL, in one call, instead of being pumped through a memory BIO in
Python (trio's way: over twice a plain request's own work on top of it,
bench --instructions https 322,809 against plain 97,282). It
waits on the descriptor as PlainStream does: OpenSSL says which way
(SSLWantReadError, SSLWantWriteError). An SSL write never takes part of
its data (Python leaves partial writes off): it takes it all, or says it
would block and is called again with the same bytes.

Layer: role (worker).
"""

from __future__ import annotations

import errno
import socket
import ssl  # held unloaded until TLS is used (worker/deferred.py): no ssl name is read at import

import trio
from trio.lowlevel import checkpoint, notify_closing, wait_readable, wait_writable

_BROKEN = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class PlainStream(trio.abc.HalfCloseableStream):
    zero_copy = True         # os.sendfile() may write to the socket (worker/sendfile.py)

    def __init__(self, sock: socket.socket):
        sock.setblocking(False)
        self.socket = sock
        self._yielded = True     # whether the last call went through the scheduler
        self._empty = False      # the last look found nothing: the next receive_some() waits before it looks

    def receive_nowait(self, max_bytes: int = 65536) -> bytes | None:
        """What has arrived already (b"" at the end), or None: nothing yet."""
        try:
            data = self.socket.recv(max_bytes)
        except BlockingIOError:
            self._empty = True
            return None
        except _BROKEN as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        except OSError as exc:
            raise _translate(exc) from exc
        self._yielded = False
        return data

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        size = max_bytes or 65536
        if not (self._yielded or self._empty):
            await checkpoint()
            self._yielded = True
        while True:
            if self._empty:
                await self._wait_for_data()
                self._empty = False
                self._yielded = True
            data = self.receive_nowait(size)
            if data is not None:
                return data

    async def _wait_for_data(self) -> None:
        await wait_readable(self.socket)

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
            self._before_close()
            notify_closing(self.socket)
            self.socket.close()
        await checkpoint()

    def close_last(self) -> None:
        """Close, called by the stream's last user (the connection task, its
        websocket tasks done): with no task waiting on the socket, trio need
        not be told (notify_closing costs an epoll_ctl per connection; the
        kernel drops a closed descriptor from epoll by itself)."""
        if self.socket.fileno() != -1:
            self._before_close()
            self.socket.close()

    def _before_close(self) -> None:
        """What the protocol says before the socket closes: nothing here."""


class TlsStream(PlainStream):
    """A TLS connection on a non-blocking ssl.SSLSocket (context.wrap_socket
    with do_handshake_on_connect=False); do_handshake() first."""

    zero_copy = False

    def __init__(self, sock: ssl.SSLSocket):
        super().__init__(sock)
        self._want_write = False   # OpenSSL must write before it can read on (a TLS 1.3 KeyUpdate)

    async def do_handshake(self) -> None:
        """Complete the handshake; an SSLError (or OSError) if it fails."""
        while True:
            try:
                self.socket.do_handshake()
                return
            except ssl.SSLWantReadError:
                await wait_readable(self.socket)
            except ssl.SSLWantWriteError:
                await wait_writable(self.socket)

    def receive_nowait(self, max_bytes: int = 65536) -> bytes | None:
        try:
            data = self.socket.recv(max_bytes)   # b"" at close_notify and, suppressed, at a bare EOF
        except ssl.SSLWantReadError:
            self._empty = True
            return None
        except ssl.SSLWantWriteError:
            self._empty = self._want_write = True
            return None
        except ssl.SSLError as exc:   # a bad record, an alert
            raise trio.BrokenResourceError(str(exc)) from exc
        except OSError as exc:
            raise _translate(exc) from exc
        self._yielded = False
        return data

    async def _wait_for_data(self) -> None:
        if self._want_write:
            self._want_write = False
            await wait_writable(self.socket)
        else:
            await wait_readable(self.socket)

    def send_nowait(self, data, flags: int = 0) -> int:
        """All of `data` (the records are written), or 0: call again with
        the same bytes once the socket can take more. `flags` (MSG_MORE)
        do not apply to TLS."""
        try:
            return self.socket.send(data)
        except ssl.SSLWantWriteError:
            return 0
        except ssl.SSLWantReadError as exc:   # only a renegotiation would; contexts refuse them
            raise trio.BrokenResourceError("TLS renegotiation refused") from exc
        except ssl.SSLError as exc:   # a bad record, an alert
            raise trio.BrokenResourceError(str(exc)) from exc
        except OSError as exc:
            raise _translate(exc) from exc

    def getpeercert(self, binary_form: bool = False):
        """The client's certificate (client_verify), as ssl.SSLSocket gives it."""
        return self.socket.getpeercert(binary_form)

    async def send_eof(self) -> None:
        """TLS has no half-close: the end is close_notify, sent at the close."""
        await checkpoint()

    def _before_close(self) -> None:
        """Send close_notify, without waiting for the client's."""
        try:
            self.socket.unwrap()
        except (OSError, ValueError):
            pass   # the client's close_notify has not come (usual), or the connection is broken


def _translate(exc: OSError) -> Exception:
    if exc.errno == errno.EBADF:
        return trio.ClosedResourceError("the connection is closed")
    return trio.BrokenResourceError(str(exc))

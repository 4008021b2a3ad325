"""kore.proc and kore.socket_wrap: child processes and sockets for
coroutines, on trio (Kore: pyproc and pysocket in src/python.c, reference
sections 1.7.5 and 1.7.6).

No trio exception reaches the app: a closed or broken pipe is Kore's
RuntimeError ("stdin closed", "stdout closed").

Departures from Kore: a proc without `env` gets an empty environment (as
Kore 4.2; master passes garbage), the command is found on PATH when it is
not absolute, socket_wrap also takes IPv6 sockets, and a second concurrent
receive (or send) on one socket raises the same RuntimeError as in Kore.

Layer: app API (kore).
"""

from __future__ import annotations

import os
import shlex
import socket as _socket
import subprocess

import trio

from korepyd.kore import _state

CHUNK = 65536


def _in_worker_task(what: str) -> None:
    if _state.runtime is None:
        raise RuntimeError(f"{what} only available in coroutines of a worker")
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        raise RuntimeError(f"{what} only available in coroutines") from None


async def _timed(op, timeout_ms: int, message: str):
    if timeout_ms is None or timeout_ms < 0:
        return await op
    with trio.move_on_after(timeout_ms / 1000) as scope:
        return await op
    if scope.cancelled_caught:
        raise TimeoutError(message)


class proc:
    """kore.proc(cmd, timeout_ms=-1, env=[...]): a child process whose stdin
    is a pipe and whose stdout and stderr share one pipe."""

    def __init__(self, cmd: str, timeout_ms: int = -1, env: list[str] | None = None):
        _in_worker_task("kore.proc")
        argv = shlex.split(cmd)
        if not argv or len(argv) > 31:
            raise RuntimeError("kore.proc: give a command of 1 to 31 words")
        if env is not None and len(env) > 32:
            raise RuntimeError("kore.proc: at most 32 environment entries")
        environment = dict(item.split("=", 1) for item in (env or []) if "=" in item)
        try:
            self._popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, env=environment, close_fds=True)
        except OSError as exc:
            raise RuntimeError(f"kore.proc: {argv[0]}: {exc.strerror}") from None
        self._stdin = trio.lowlevel.FdStream(os.dup(self._popen.stdin.fileno()))
        self._stdout = trio.lowlevel.FdStream(os.dup(self._popen.stdout.fileno()))
        self._popen.stdin.close()
        self._popen.stdout.close()
        self._stdin_open = True
        self._stdout_closed = False
        self._deadline = trio.current_time() + timeout_ms / 1000 if timeout_ms and timeout_ms > 0 else None
        self._reaping = False

    @property
    def pid(self) -> int:
        return self._popen.pid

    async def _bounded(self, op):
        """Run `op` until the proc's own timeout, which, once it fires, makes
        the pending (or next) operation raise TimeoutError, once."""
        if self._deadline is None:
            return await op
        with trio.move_on_at(self._deadline):
            return await op
        self._deadline = None
        raise TimeoutError("timeout before process exited")

    async def recv(self, length: int, timeout_ms: int = -1) -> bytes | None:
        if self._stdout_closed:
            raise RuntimeError("stdout closed")
        receive = _timed(self._stdout.receive_some(length), timeout_ms, "timeout before operation completed")
        try:
            return await self._bounded(receive) or None
        except trio.BusyResourceError:
            raise RuntimeError("only one recv operation can be done per process") from None
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise RuntimeError("stdout closed") from None

    async def send(self, data: bytes) -> None:
        if not self._stdin_open:
            raise RuntimeError("stdin closed")
        try:
            await self._bounded(self._stdin.send_all(data))
        except trio.BusyResourceError:
            raise RuntimeError("only one send operation can be done per process") from None
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            raise RuntimeError("stdin closed: the process no longer reads it") from None

    def close_stdin(self) -> bool:
        if self._stdin_open:
            self._stdin_open = False
            self._stdin.close()
        return True

    async def reap(self) -> int:
        """Wait for the child; its exit code, or the signal number that killed it."""
        if self._reaping:
            raise RuntimeError(f"process {self.pid} already being reaped")
        if self._deadline is not None and trio.current_time() >= self._deadline:
            self._deadline = None
            raise TimeoutError("timeout before process exited")
        self._reaping = True
        self._deadline = None  # Kore: reap() cancels the timeout
        pidfd = os.pidfd_open(self.pid)
        try:
            await trio.lowlevel.wait_readable(pidfd)
        finally:
            os.close(pidfd)
        status = self._popen.wait()
        self.close_stdin()
        self._stdout_closed = True
        await self._stdout.aclose()
        return -status if status < 0 else status

    def kill(self) -> bool:
        if self._popen.poll() is None:
            self._popen.kill()
        return True


class socket:
    """kore.socket: a Python socket made awaitable (socket_wrap(), accept())."""

    def __init__(self, sock):
        if sock.family not in (_socket.AF_INET, _socket.AF_INET6, _socket.AF_UNIX):
            raise RuntimeError("unsupported family")
        self._py = sock  # keep the Python socket alive, as Kore does
        self._sock = trio.socket.from_stdlib_socket(sock) if isinstance(sock, _socket.socket) else sock
        self._receiving = False
        self._sending = False
        self._closed = False

    async def _op(self, kind: str, coro):
        busy = "_receiving" if kind == "recv" else "_sending"
        if getattr(self, busy):
            coro.close()
            raise RuntimeError("only one recv/send operation can be done per socket")
        if self._closed:
            coro.close()
            return None
        setattr(self, busy, True)
        try:
            return await coro
        except TimeoutError:
            raise
        except OSError as exc:
            raise RuntimeError(exc.strerror or str(exc)) from None
        finally:
            setattr(self, busy, False)

    async def recv(self, length: int, timeout_ms: int = -1) -> bytes | None:
        data = await self._op("recv", _timed(self._sock.recv(length), timeout_ms,
                                             "timeout before operation completed"))
        return data or None

    async def recvfrom(self, length: int):
        result = await self._op("recv", self._sock.recvfrom(length))
        if result is None:
            return None
        data, address = result
        if self._sock.family == _socket.AF_UNIX:
            return (address or None, data)
        return (address[0], address[1], data)

    async def recvmsg(self, length: int):
        result = await self._op("recv", self._sock.recvmsg(length, 1024))
        if result is None:
            return None
        data, ancillary, _, address = result
        cmsgs = [(len(d), level, kind, d) for level, kind, d in ancillary]
        if self._sock.family == _socket.AF_UNIX:
            return (address or None, data, cmsgs)
        return (address[0], address[1], data, cmsgs)

    async def send(self, data: bytes) -> None:
        async def send_all():
            view = memoryview(data)
            while view:
                view = view[await self._sock.send(view):]
        await self._op("send", send_all())

    async def sendto(self, *args) -> None:
        if self._sock.family == _socket.AF_UNIX:
            path, data = args
            address = "\0" + path[1:] if path.startswith("@") else path
        else:
            host, port, data = args
            if not 1 <= port <= 65534:
                raise RuntimeError("invalid port")
            address = (host, port)
        await self._op("send", self._sock.sendto(data, address))

    async def connect(self, host: str, port: int = 0) -> None:
        if self._sock.family == _socket.AF_UNIX:
            address = "\0" + host[1:] if host.startswith("@") else host
        else:
            address = (host, port)
        await self._op("send", self._sock.connect(address))

    async def accept(self):
        result = await self._op("recv", self._sock.accept())
        return None if result is None else socket(result[0])

    def close(self) -> bool:
        self._closed = True
        self._sock.close()
        return True


def socket_wrap(sock) -> socket:
    return socket(sock)


def curl(url: str):
    raise NotImplementedError("kore.curl needs libcurl, which korepyd does not use; "
                              "kore.httpclient(url) does HTTP and HTTPS requests")

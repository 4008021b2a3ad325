"""Zero-copy file bodies: os.sendfile(2) on a plain connection (PlainStream),
driven by trio's readiness waits; any other stream (TLS) gets the file in
read chunks."""

from __future__ import annotations

import os

import trio

from korepyd.worker.stream import PlainStream

CHUNK = 1 << 20


async def send_file(stream: trio.abc.SendStream, fd: int, offset: int, count: int) -> None:
    if isinstance(stream, PlainStream):
        await _sendfile(stream.socket, fd, offset, count)
        return
    while count:
        data = await trio.to_thread.run_sync(os.pread, fd, min(count, CHUNK), offset)
        if not data:
            raise trio.BrokenResourceError("the file got shorter while it was sent")
        await stream.send_all(data)
        offset += len(data)
        count -= len(data)


async def _sendfile(sock, fd: int, offset: int, count: int) -> None:
    while count:
        try:
            sent = os.sendfile(sock.fileno(), fd, offset, min(count, CHUNK))
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)
            continue
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        if sent == 0:
            raise trio.BrokenResourceError("the file got shorter while it was sent")
        offset += sent
        count -= sent
        await trio.lowlevel.checkpoint()  # let other connections run between chunks

"""Zero-copy file bodies: os.sendfile(2) on a plain connection (PlainStream),
driven by trio's readiness waits, the response head sent just before with
MSG_MORE so that head and file leave together; any other stream (TLS:
the bytes must pass through OpenSSL) gets the head, then the file in read
chunks.

Layer: role (worker).
"""

from __future__ import annotations

import os

import trio
from trio.lowlevel import checkpoint, wait_writable

from korepyd.worker.stream import PlainStream

CHUNK = 1 << 20


async def send_file(stream: trio.abc.SendStream, head: bytes, fd: int, offset: int, count: int) -> None:
    """`head`, then `count` bytes of the file `fd` from `offset`."""
    if isinstance(stream, PlainStream) and stream.zero_copy:
        await stream.send_more(head)
        await _sendfile(stream.socket, fd, offset, count)
        return
    await stream.send_all(head)
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
            await wait_writable(sock)
            continue
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        if sent == 0:
            raise trio.BrokenResourceError("the file got shorter while it was sent")
        offset += sent
        count -= sent
        await checkpoint()  # let other connections run between chunks

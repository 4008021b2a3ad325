"""The trio side of IPC: a Channel carries Messages over the socketpair
between the parent and one child, framed by korepyd.ipc.codec.

Sending is serialised by a lock so that two tasks never interleave the
bytes of two frames; receiving is done by one task per channel.

Layer: ipc (what the roles share besides config and log).
"""

from __future__ import annotations

import socket

import trio

from korepyd.ipc.codec import Decoder, encode
from korepyd.ipc.messages import Message

RECEIVE_SIZE = 65536


class Channel:
    def __init__(self, sock: socket.socket, pending: bytes = b""):
        self._stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
        self._decoder = Decoder()
        self._decoder.receive_data(pending)
        self._send_lock = trio.Lock()

    async def send(self, msg: Message) -> None:
        data = encode(msg)
        async with self._send_lock:
            await self._stream.send_all(data)

    async def receive(self) -> Message | None:
        """The next message, or None once the peer has closed its end (or
        exited with messages unread, which resets the connection)."""
        while True:
            msg = self._decoder.next_message()
            if msg is not None:
                return msg
            try:
                data = await self._stream.receive_some(RECEIVE_SIZE)
            except trio.BrokenResourceError:
                return None
            if not data:
                return None
            self._decoder.receive_data(data)

    async def aclose(self) -> None:
        await self._stream.aclose()

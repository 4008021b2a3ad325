"""A stream that first gives back bytes already read from it.

A TLS listener reads the ClientHello before it knows which SSL context
to use (korepyd.tls.clienthello); those bytes must then reach the
handshake. ReplayStream wraps the TCP stream for trio.SSLStream: its first
receive_some() returns the buffered bytes, everything else goes straight
through.

Layer: role (worker).
"""

from __future__ import annotations

import trio


class ReplayStream(trio.abc.HalfCloseableStream):
    def __init__(self, stream: trio.abc.HalfCloseableStream, buffered: bytes):
        self.transport = stream
        self._buffered = buffered

    @property
    def socket(self):
        return self.transport.socket

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._buffered:
            await trio.lowlevel.checkpoint()
            size = len(self._buffered) if max_bytes is None else max_bytes
            data, self._buffered = self._buffered[:size], self._buffered[size:]
            return data
        return await self.transport.receive_some(max_bytes)

    async def send_all(self, data) -> None:
        await self.transport.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.transport.send_eof()

    async def aclose(self) -> None:
        await self.transport.aclose()

"""Sans-IO framing of IPC messages over a byte stream (a socketpair).

A frame is a fixed header, network byte order, then the payload:

    id (u8) | src (u16) | dst (u16) | length (u32) | payload

Kore sends its native C struct; korepyd fixes the layout so that both ends
need not be the same build. The decoder is fed whatever the socket gave
(receive_data) and hands out whole messages (next_message); a frame larger
than the limit is an IpcError, never an allocation of the claimed size.

Layer: ipc (what the roles share besides config and log).
"""

from __future__ import annotations

import struct

from korepyd.errors import KorepydError
from korepyd.ipc.messages import Message

HEADER = struct.Struct("!BHHI")
MAX_PAYLOAD = 64 * 1024 * 1024


class IpcError(KorepydError):
    """The peer sent something that is not a valid frame."""


def encode(msg: Message) -> bytes:
    if len(msg.payload) > MAX_PAYLOAD:
        raise IpcError(f"message of {len(msg.payload)} bytes is over the {MAX_PAYLOAD} byte limit")
    return HEADER.pack(msg.id, msg.src, msg.dst, len(msg.payload)) + msg.payload


class Decoder:
    def __init__(self, max_payload: int = MAX_PAYLOAD):
        self._buffer = bytearray()
        self._max = max_payload

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def next_message(self) -> Message | None:
        """The next whole message, or None until more data arrives."""
        if len(self._buffer) < HEADER.size:
            return None
        msg_id, src, dst, length = HEADER.unpack_from(self._buffer)
        if length > self._max:
            raise IpcError(f"frame of {length} bytes announced, the limit is {self._max}")
        end = HEADER.size + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[HEADER.size:end])
        del self._buffer[:end]
        return Message(msg_id, src, dst, payload)

    def messages(self):
        """Every whole message buffered so far."""
        while (msg := self.next_message()) is not None:
            yield msg

    def take_pending(self) -> bytes:
        """Hand over the buffered bytes (to another decoder)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a returned message."""
        return len(self._buffer)

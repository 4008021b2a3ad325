"""One websocket connection's protocol state, sans-IO, on wsproto (Kore:
src/websocket.c), with the limits Kore enforces and wsproto does not:

- a message (all its frames, after inflating) larger than
  websocket_maxframe closes the connection with 1009, as soon as it grows
  past the limit: nothing larger is ever buffered;
- permessage-deflate is offered and accepted, with the inflater capped at
  the same limit, so a small frame cannot inflate into gigabytes (1009);
- pings are answered, the close handshake is completed with the peer's
  code, and text that is not UTF-8 closes the connection with 1007.

receive_data() returns the complete messages and the bytes to send back
(pongs, the close reply); send_message() and close() return bytes.

Where no extension was agreed, the common frames (whole, small messages
and pings) are read and written by korepyd.websocket.frames, about four
times faster; the first frame that is anything else hands this connection's
input to wsproto for good, from that frame on.

Layer: wire (websockets), sans-IO.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason

from korepyd.websocket import frames

OP_TEXT = frames.OP_TEXT
OP_BINARY = frames.OP_BINARY


@dataclass(frozen=True)
class Message:
    op: int                 # OP_TEXT (data is str) or OP_BINARY (data is bytes)
    data: str | bytes


@dataclass(frozen=True)
class Closed:
    code: int
    reason: str


class CappedDeflate(PerMessageDeflate):
    """permessage-deflate whose inflater never produces more than `limit`
    bytes for one message."""

    def __init__(self, limit: int, **kwargs):
        super().__init__(**kwargs)
        self.limit = limit
        self._inflated = 0

    def frame_inbound_payload_data(self, proto, data):
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        room = self.limit - self._inflated
        try:
            out = self._decompressor.decompress(bytes(data), room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        if self._decompressor.unconsumed_tail or self._inflated > self.limit:
            return CloseReason.MESSAGE_TOO_BIG
        return out

    def frame_inbound_complete(self, proto, fin):
        result = super().frame_inbound_complete(proto, fin)
        if fin:
            self._inflated = 0
        return result


class WebSocketSession:
    def __init__(self, maxframe: int, *, deflate: bool = True, fast: bool = True):
        self._ws = WSConnection(ConnectionType.SERVER)
        self._maxframe = maxframe
        self._deflate = deflate
        self._fast = fast            # may the fast path be used at all (False: wsproto alone, for tests)
        self._fast_in = False        # input read by frames.read_simple(), until wsproto took some
        self._fast_out = False       # messages written by frames.frame()
        self._parts: list = []
        self._size = 0
        self.closed: Closed | None = None

    def accept(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]],
               extra_headers: list[tuple[bytes, bytes]]) -> bytes:
        """The 101 response to a handshake already parsed (by h11)."""
        self._ws.initiate_upgrade_connection(headers, target)
        request = next(self._ws.events())
        assert isinstance(request, Request)
        extensions = [CappedDeflate(self._maxframe)] if self._deflate else []
        self._fast_in = self._fast_out = self._fast and not (extensions and request.extensions)
        return self._ws.send(AcceptConnection(extensions=extensions, extra_headers=extra_headers))

    def receive_data(self, data: bytes | None) -> tuple[list[Message | Closed], bytes]:
        """Feed bytes (None: the peer went away); complete messages and the
        bytes to send back."""
        out, events = [], []
        if self._fast_in and data:
            messages, pongs, used = frames.read_simple(data, self._maxframe)
            events = [Message(op, payload) for op, payload in messages]
            if used == len(data):
                return events, pongs
            out.append(pongs)
            self._fast_in = False
            data = data[used:]
        self._ws.receive_data(data)
        for event in self._ws.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                self._size += len(event.data)
                if self._size > self._maxframe:
                    out.append(self.close(1009, "message too big"))
                    events.append(self.closed)
                    break
                self._parts.append(event.data)
                if event.message_finished:
                    joined = "".join(self._parts) if isinstance(event, TextMessage) else b"".join(self._parts)
                    events.append(Message(OP_TEXT if isinstance(event, TextMessage) else OP_BINARY, joined))
                    self._parts, self._size = [], 0
            elif isinstance(event, Ping):
                out.append(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                if self._ws.state is not ConnectionState.CLOSED:
                    out.append(self._ws.send(event.response()))
                self.closed = Closed(event.code, event.reason or "")
                events.append(self.closed)
                break
        return events, b"".join(out)

    def send_message(self, op: int, data: str | bytes) -> bytes:
        if self.closed is not None:
            return b""
        if self._fast_out and self._ws.state is ConnectionState.OPEN:
            if op == OP_TEXT:  # what is not UTF-8 raises, as below
                return frames.frame(OP_TEXT, (data if isinstance(data, str) else data.decode("utf-8")).encode())
            return frames.frame(OP_BINARY, data if isinstance(data, bytes) else data.encode())
        if op == OP_TEXT:
            return self._ws.send(TextMessage(data=data if isinstance(data, str) else data.decode("utf-8")))
        return self._ws.send(BytesMessage(data=data if isinstance(data, bytes) else data.encode()))

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """Start the close handshake (or do nothing if it has begun)."""
        if self.closed is not None or self._ws.state is not ConnectionState.OPEN:
            return b""
        self.closed = Closed(code, reason)
        return self._ws.send(CloseConnection(code=code, reason=reason or None))

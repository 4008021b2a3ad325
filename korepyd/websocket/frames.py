"""The common websocket frames, read and written without wsproto: the fast
path of WebSocketSession (RFC 6455, section 5).

A "simple" frame from a client is one whose every property is the plain
case: FIN set, no RSV bits, masked, a text, binary, ping or pong opcode,
its length in the 7-bit or the 16-bit form (each the shortest one), no
longer than the session's limit, a control frame no longer than 125 bytes,
text that is UTF-8. read_simple() takes such frames off the front of a
buffer and stops at the first one that is anything else, or incomplete;
that frame and all that follows are wsproto's, which knows every rule and
every error (tests/websocket/test_frames.py feeds both the same bytes and
compares what comes out).

Layer: wire (websockets), sans-IO.
"""

from __future__ import annotations

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_PING = 0x9
OP_PONG = 0xA

_MESSAGE_HEADS = {0x80 | OP_TEXT: OP_TEXT, 0x80 | OP_BINARY: OP_BINARY}
_CONTROL_HEADS = {0x80 | OP_PING: OP_PING, 0x80 | OP_PONG: OP_PONG}


def read_simple(data: bytes, limit: int) -> tuple[list[tuple[int, bytes | str]], bytes, int]:
    """The simple frames at the front of `data`, none longer than `limit`:
    the messages [(op, payload)], the pong frames that answer its pings,
    and how many bytes they took. The rest of `data` was not looked at
    beyond its first frame's header."""
    messages, pongs, pos, size = [], [], 0, len(data)
    while size - pos >= 6:
        head, length = data[pos], data[pos + 1]
        op = _MESSAGE_HEADS.get(head) or _CONTROL_HEADS.get(head)
        if op is None or not length & 0x80:
            break  # fragmented, RSV bits, close, an unknown opcode, or not masked
        length &= 0x7F
        start = pos + 6
        if length == 126:
            if op >= OP_PING:
                break
            length = int.from_bytes(data[pos + 2:pos + 4], "big")
            if length < 126:
                break  # not the shortest form: a protocol error for wsproto to report
            start += 2
        elif length == 127:
            break
        if length > limit or start + length > size:
            break
        payload = unmask(data[start - 4:start], data[start:start + length])
        if op == OP_TEXT:
            try:
                payload = payload.decode("utf-8")
            except UnicodeDecodeError:
                break  # wsproto closes with 1007
        if op == OP_PING:
            pongs.append(frame(OP_PONG, payload))
        elif op != OP_PONG:
            messages.append((op, payload))
        pos = start + length
    return messages, b"".join(pongs), pos


def unmask(mask: bytes, payload: bytes) -> bytes:
    size = len(payload)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


def frame(op: int, payload: bytes) -> bytes:
    """One whole, unmasked frame (a server's)."""
    size = len(payload)
    if size < 126:
        return bytes((0x80 | op, size)) + payload
    if size < 65536:
        return bytes((0x80 | op, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x80 | op, 127)) + size.to_bytes(8, "big") + payload

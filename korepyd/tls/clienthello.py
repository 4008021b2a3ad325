"""Read the server name (SNI) and ALPN protocols a TLS client offers,
from the first bytes of the connection, before the handshake starts.

Python's ssl module has no ALPN-select callback, so a server that must
answer ACME's tls-alpn-01 (RFC 8737: a special certificate, only to
clients offering `acme-tls/1`) has to look at the ClientHello itself and
then pick the SSL context; the bytes read are replayed to the handshake.

parse() takes whatever has arrived so far: it returns a Hello once the
whole ClientHello is there, None while more is needed, and raises NotTLS
for a connection that does not start with a TLS handshake record and
MalformedHello for garbage (record layer: RFC 8446 section 5.1;
ClientHello: section 4.1.2; server_name: RFC 6066 section 3; ALPN: RFC
7301). It reads at most MAX_HELLO bytes. When it wants more, wanted()
says how many bytes in all it needs to go on (the end of the record
begun), so a reader that only peeks can wait for exactly that.

Layer: wire (TLS), sans-IO.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HELLO = 64 * 1024
HANDSHAKE = 22
CLIENT_HELLO = 1
EXT_SERVER_NAME = 0
EXT_ALPN = 16


class NotTLS(ValueError):
    """The client does not speak TLS (plain HTTP on a TLS port, say)."""


class MalformedHello(ValueError):
    """The bytes claim to be a ClientHello but are not one."""


@dataclass(frozen=True)
class Hello:
    server_name: str | None
    alpn: tuple[bytes, ...]


def parse(data: bytes) -> Hello | None:
    if not data:
        return None
    if data[0] != HANDSHAKE:
        raise NotTLS("not a TLS handshake")
    if len(data) > MAX_HELLO:
        raise MalformedHello("ClientHello larger than 64 KiB")
    body = _handshake_bytes(data)
    if body is None:
        return None
    if len(body) < 4:
        return None
    if body[0] != CLIENT_HELLO:
        raise MalformedHello("the first handshake message is not a ClientHello")
    length = int.from_bytes(body[1:4], "big")
    if len(body) < 4 + length:
        return None
    return _client_hello(memoryview(body)[4:4 + length])


def wanted(data: bytes) -> int:
    """How many bytes parse() needs in all to get further, when it
    returned None for `data`: the end of the first record not whole yet."""
    i = 0
    while i + 5 <= len(data):
        end = i + 5 + int.from_bytes(data[i + 3:i + 5], "big")
        if end > len(data):
            return min(end, MAX_HELLO + 1)
        i = end
    return min(i + 5, MAX_HELLO + 1)


def _handshake_bytes(data: bytes) -> bytes | None:
    """Join the payloads of the handshake records received so far."""
    out, i = bytearray(), 0
    while i + 5 <= len(data):
        if data[i] != HANDSHAKE:
            raise MalformedHello("a non-handshake record inside the ClientHello")
        length = int.from_bytes(data[i + 3:i + 5], "big")
        if length == 0 or length > 16384 + 2048:
            raise MalformedHello("bad TLS record length")
        if i + 5 + length > len(data):
            out += data[i + 5:]
            return bytes(out) if len(out) >= 4 and _complete(out) else None
        out += data[i + 5:i + 5 + length]
        i += 5 + length
        if _complete(out):
            return bytes(out)
    return None


def _complete(body: bytearray) -> bool:
    return len(body) >= 4 and len(body) >= 4 + int.from_bytes(body[1:4], "big")


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise MalformedHello("ClientHello truncated")
        part = self.data[self.pos:self.pos + n]
        self.pos += n
        return part

    def number(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes: int) -> memoryview:
        return self.take(self.number(length_bytes))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def _client_hello(data: memoryview) -> Hello:
    r = _Reader(data)
    r.take(2 + 32)   # legacy_version, random
    r.vector(1)      # legacy_session_id
    r.vector(2)      # cipher_suites
    r.vector(1)      # legacy_compression_methods
    name, alpn = None, ()
    if r.left:
        extensions = _Reader(r.vector(2))
        while extensions.left:
            kind, value = extensions.number(2), extensions.vector(2)
            if kind == EXT_SERVER_NAME:
                name = _server_name(_Reader(value))
            elif kind == EXT_ALPN:
                alpn = _alpn(_Reader(value))
    return Hello(name, alpn)


def _server_name(r: _Reader) -> str | None:
    names = _Reader(r.vector(2))
    while names.left:
        kind, value = names.number(1), bytes(names.vector(2))
        if kind == 0:
            try:
                return value.decode("ascii").lower()
            except UnicodeDecodeError:
                raise MalformedHello("server name is not ASCII") from None
    return None


def _alpn(r: _Reader) -> tuple[bytes, ...]:
    protocols = _Reader(r.vector(2))
    found = []
    while protocols.left:
        found.append(bytes(protocols.vector(1)))
    return tuple(found)

"""The payloads keymgr sends workers (sans-IO): a domain's certificate
chain and key (CERTIFICATE), an ACME challenge to answer or forget
(ACME_CHALLENGE, ACME_CHALLENGE_CLEAR), and the worker's acknowledgement
(ACME_CHALLENGE_SET).

A payload is a sequence of byte fields, each preceded by its length (u32,
network order); a malformed one raises IpcError.

Layer: ipc (what the roles share besides config and log).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from korepyd.ipc.codec import IpcError

LENGTH = struct.Struct("!I")
TLS_ALPN_01 = "tls-alpn-01"
HTTP_01 = "http-01"


def pack(*fields: bytes) -> bytes:
    return b"".join(LENGTH.pack(len(f)) + f for f in fields)


def unpack(payload: bytes, count: int) -> list[bytes]:
    fields, pos = [], 0
    for _ in range(count):
        if pos + LENGTH.size > len(payload):
            raise IpcError("truncated key material message")
        (size,) = LENGTH.unpack_from(payload, pos)
        pos += LENGTH.size
        if pos + size > len(payload):
            raise IpcError("truncated key material message")
        fields.append(payload[pos:pos + size])
        pos += size
    if pos != len(payload):
        raise IpcError("trailing bytes in a key material message")
    return fields


@dataclass(frozen=True)
class Certificate:
    """A domain's certificate chain (PEM) and key (PEM); `placeholder`
    marks a self-signed stand-in while ACME has not issued one."""

    domain: str
    chain: bytes
    key: bytes
    placeholder: bool = False

    def encode(self) -> bytes:
        return pack(self.domain.encode(), self.chain, self.key, b"1" if self.placeholder else b"")

    @classmethod
    def decode(cls, payload: bytes) -> Certificate:
        domain, chain, key, placeholder = unpack(payload, 4)
        return cls(domain.decode(), chain, key, placeholder == b"1")


@dataclass(frozen=True)
class Challenge:
    """An ACME challenge for workers to answer: tls-alpn-01 carries the
    challenge certificate and key, http-01 the key authorization (in
    `chain`, `key` empty). A clear message carries only kind, domain and
    token."""

    kind: str
    domain: str
    token: str
    chain: bytes = b""
    key: bytes = b""

    def encode(self) -> bytes:
        return pack(self.kind.encode(), self.domain.encode(), self.token.encode(), self.chain, self.key)

    @classmethod
    def decode(cls, payload: bytes) -> Challenge:
        kind, domain, token, chain, key = unpack(payload, 5)
        try:
            return cls(kind.decode(), domain.decode(), token.decode(), chain, key)
        except UnicodeDecodeError:
            raise IpcError("a challenge message with a name that is not UTF-8") from None

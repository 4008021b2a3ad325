"""kore.connection: the client connection of a request (Kore:
pyconnection in src/python.c). korepyd hands out one object per
connection, so it can be kept and compared (Kore makes a new wrapper each
time). Websocket sending is added by the websocket support.

Layer: app API (kore).
"""

from __future__ import annotations

import socket as _socket


class connection:
    def __init__(self, stream, sni: str | None = None):
        self._stream = stream
        self.sni = sni           # the server name a TLS client asked for
        self._websocket = None   # a worker.ws.LiveWebSocket once upgraded
        self.closing = False

    @property
    def _socket(self):
        return getattr(getattr(self._stream, "transport_stream", self._stream), "socket", None)

    @property
    def fd(self) -> int:
        sock = self._socket
        return sock.fileno() if sock is not None else -1

    @property
    def addr(self) -> str:
        sock = self._socket
        if sock is None or sock.family == _socket.AF_UNIX:
            raise RuntimeError("invalid family")
        return sock.getpeername()[0]

    def _peer_certificate(self, binary_form: bool = False):
        """ssl's getpeercert() of a TLS connection's stream; None on plain ones."""
        getpeercert = getattr(self._stream, "getpeercert", None)
        return getpeercert(binary_form) if getpeercert is not None else None

    @property
    def x509(self) -> bytes | None:
        """The client's certificate (DER), when it sent one."""
        return self._peer_certificate(binary_form=True)

    @property
    def x509dict(self) -> dict | None:
        cert = self._peer_certificate()
        if not cert:
            return None
        names = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
                 "countryName": "C", "stateOrProvinceName": "ST", "localityName": "L",
                 "emailAddress": "emailAddress"}
        return {part: {names.get(k, k): v for rdn in cert.get(part, ()) for k, v in rdn}
                for part in ("issuer", "subject")}

    def disconnect(self) -> bool:
        """Close the connection: a websocket at once (close code 1000), an
        HTTP connection once the current request is answered."""
        self.closing = True
        if self._websocket is not None:
            self._websocket.close(1000)
        return True

    def websocket_send(self, op: int, data) -> bool:
        """Send one message (op: WEBSOCKET_OP_TEXT or WEBSOCKET_OP_BINARY)."""
        if self._websocket is None:
            raise TypeError("not a websocket connection")
        if op not in (1, 2):
            raise TypeError("invalid op parameter")
        self._websocket.send(op, data)
        return True

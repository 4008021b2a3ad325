"""Test Responders for issue(): they answer pebble's validations the way
korepyd's workers will, on 127.0.0.1 and ::1.

- TlsAlpnResponder: peeks at the ClientHello first (korepyd.tls.clienthello),
  and only for ALPN acme-tls/1 and a name with a live challenge hands the
  connection to trio.SSLStream with the challenge certificate.
- Http01Responder: a tiny h11 server answering the http-01 path.

`async with serving(responder, port):` runs one while the body runs.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

import h11
import trio

from korepyd.acme.challenge import ACME_TLS_ALPN, http01_path, tlsalpn01_certificate
from korepyd.tls import clienthello
from korepyd.tls.context import challenge_context

HOSTS = ("127.0.0.1", "::1")
READ_TIMEOUT = 10.0


class Recorder:
    """Counts what issue() asked for."""

    def __init__(self) -> None:
        self.presented: list[tuple[str, str, str]] = []     # (kind, domain, token)
        self.cleared: list[tuple[str, str, str]] = []
        self.errors: list[BaseException] = []

    async def present(self, kind: str, domain: str, token: str, key_authorization: str) -> None:
        self.presented.append((kind, domain, token))
        self.install(kind, domain, token, key_authorization)

    async def clear(self, kind: str, domain: str, token: str) -> None:
        self.cleared.append((kind, domain, token))
        self.remove(kind, domain, token)

    def install(self, kind, domain, token, key_authorization) -> None:
        pass

    def remove(self, kind, domain, token) -> None:
        pass


class TlsAlpnResponder(Recorder):
    def __init__(self, *, wrong_key_authorization: bool = False) -> None:
        super().__init__()
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.handshakes: list[str] = []
        self.wrong = wrong_key_authorization

    def install(self, kind, domain, token, key_authorization) -> None:
        assert kind == "tls-alpn-01"
        if self.wrong:
            key_authorization = token + ".not-the-account-thumbprint"
        self.contexts[domain] = challenge_context(*tlsalpn01_certificate(domain, key_authorization))

    def remove(self, kind, domain, token) -> None:
        self.contexts.pop(domain, None)

    async def handle(self, stream: trio.SocketStream) -> None:
        try:
            async with stream:
                hello = None
                with trio.move_on_after(READ_TIMEOUT):
                    while hello is None:   # peeked: the handshake reads the same bytes again
                        data = await stream.socket.recv(16384, socket.MSG_PEEK)
                        if not data:
                            return
                        hello = clienthello.parse(data)
                        if hello is None:
                            await trio.sleep(0.01)
                context = self.contexts.get(hello.server_name) if hello else None
                if context is None or ACME_TLS_ALPN.encode() not in hello.alpn:
                    return
                tls = trio.SSLStream(stream, context, server_side=True)
                with trio.move_on_after(READ_TIMEOUT):
                    await tls.do_handshake()
                    self.handshakes.append(hello.server_name)
                    while await tls.receive_some():     # the validator closes right after the handshake
                        pass
        except (trio.BrokenResourceError, trio.ClosedResourceError, clienthello.NotTLS,
                clienthello.MalformedHello) as exc:
            self.errors.append(exc)


class Http01Responder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, bytes] = {}
        self.requests: list[str] = []

    def install(self, kind, domain, token, key_authorization) -> None:
        assert kind == "http-01"
        self.answers[http01_path(token)] = key_authorization.encode()

    def remove(self, kind, domain, token) -> None:
        self.answers.pop(http01_path(token), None)

    async def handle(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            async with stream:
                with trio.move_on_after(READ_TIMEOUT):
                    while True:
                        event = conn.next_event()
                        if event is h11.NEED_DATA:
                            conn.receive_data(await stream.receive_some(16384))
                            continue
                        if isinstance(event, h11.Request):
                            target = event.target.decode()
                            self.requests.append(target)
                            body = self.answers.get(target)
                            status = 200 if body is not None else 404
                            body = body if body is not None else b"not found\n"
                            headers = [("Content-Type", "application/octet-stream"),
                                       ("Content-Length", str(len(body))), ("Connection", "close")]
                            await stream.send_all(conn.send(h11.Response(status_code=status, headers=headers))
                                                  + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
                            return
                        return      # closed, or anything else: done
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError) as exc:
            self.errors.append(exc)


@contextlib.asynccontextmanager
async def serving(responder, port: int):
    """Run `responder`'s handle() on `port` of 127.0.0.1 and ::1."""
    listeners = []
    for host in HOSTS:
        listeners += await trio.open_tcp_listeners(port, host=host)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, responder.handle, listeners)
        yield responder
        nursery.cancel_scope.cancel()

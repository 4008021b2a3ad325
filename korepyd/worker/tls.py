"""TLS in a worker: the contexts keymgr's material builds, and the
handshake of each connection on a TLS listener (Kore: the SNI and ALPN
callbacks of src/tls_openssl.c).

A connection's ClientHello is read first (korepyd.tls.clienthello), by
peeking, so that it stays in the kernel for OpenSSL, and the context is
picked before the handshake starts:

- a client offering `acme-tls/1` for a domain with a pending tls-alpn-01
  challenge gets the challenge certificate, and the connection ends after
  the handshake (RFC 8737); without a pending challenge it is refused;
- any other client gets the context of the domain its server name (SNI)
  matches on that server, or the server's first domain when it sent no
  name or an unknown one.

The handshake and every record after it are OpenSSL's own work on the
socket (worker/stream.py's TlsStream). Contexts are replaced whenever
keymgr sends new material; connections already established keep the
context they started with. The worker never reads key files: the files a context needs besides the key material
(tls_dhparam, client_verify's CA and CRL) are read before the worker
drops its privileges.

Layer: role (worker).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile

import trio
from trio.lowlevel import wait_readable

from korepyd import log
from korepyd.config import model
from korepyd.core.router import Router
from korepyd.ipc.keymaterial import HTTP_01, Certificate, Challenge
from korepyd.tls import clienthello
from korepyd.tls.context import ACME_TLS_ALPN, Profile, challenge_context, server_context
from korepyd.worker.stream import PlainStream, TlsStream

HELLO_POLL = 0.01   # seconds between peeks where the socket cannot wait for a whole record


class TlsState:
    def __init__(self, config: model.Config, routers: dict[str, Router], profiles: dict[str, Profile]):
        self.config = config
        self.routers = routers
        self.profiles = profiles                      # by domain name
        self.first: dict[str, str] = {}               # server -> its first domain
        for d in config.domains:
            if d.name in profiles:
                self.first.setdefault(d.attach, d.name)
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.challenges: dict[str, ssl.SSLContext] = {}     # tls-alpn-01, by domain
        self.tokens: dict[str, bytes] = {}                  # http-01: token -> key authorization
        self.complete = trio.Event()                        # every domain has a context
        self.scratch: str | None = None                     # private directory for Python's ssl files

    @classmethod
    def load(cls, config: model.Config, routers: dict[str, Router]) -> TlsState | None:
        """The state for the TLS domains of `config`, None without any; reads
        the files the contexts need, so call it before dropping privileges."""
        tls_servers = {s.name for s in config.servers if s.tls}
        if not tls_servers:
            return None
        dhparam = _read(config.tls_dhparam)
        profiles = {}
        for d in config.domains:
            if d.attach in tls_servers:
                verify = d.client_verify
                profiles[d.name] = Profile(config.tls_version, config.tls_cipher, dhparam,
                                           _read(verify.ca) if verify else None,
                                           _read(verify.crl) if verify and verify.crl else None)
        return cls(config, routers, profiles)

    # -- material from keymgr --------------------------------------------------------

    def install(self, cert: Certificate) -> None:
        profile = self.profiles.get(cert.domain)
        if profile is None:
            return
        try:
            self.contexts[cert.domain] = server_context(cert.chain, cert.key, profile, self.scratch)
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.error(f"TLS for {cert.domain}: the certificate or key from keymgr is unusable ({exc})")
            return
        if all(name in self.contexts for name in self.profiles):
            self.complete.set()

    def set_challenge(self, challenge: Challenge) -> None:
        if challenge.kind == HTTP_01:
            self.tokens[challenge.token] = challenge.chain
        else:
            self.challenges[challenge.domain] = challenge_context(challenge.chain, challenge.key, self.scratch)

    def clear_challenge(self, challenge: Challenge) -> None:
        if challenge.kind == HTTP_01:
            self.tokens.pop(challenge.token, None)
        else:
            self.challenges.pop(challenge.domain, None)

    # -- connections -----------------------------------------------------------------------

    def choose(self, server: str, hello: clienthello.Hello) -> tuple[ssl.SSLContext | None, bool]:
        """The context for a ClientHello on `server`, and whether it is an
        ACME challenge context."""
        router = self.routers.get(server)
        found = router.domain(hello.server_name) if router and hello.server_name else None
        name = found.domain.name if found is not None else None
        if ACME_TLS_ALPN.encode() in hello.alpn:
            return self.challenges.get(name) if name else None, True
        context = self.contexts.get(name) if name else None
        if context is None and server in self.first:
            context = self.contexts.get(self.first[server])
        return context, False

    async def accept(self, sock: socket.socket, server: str,
                     timeout: float) -> tuple[TlsStream, str | None] | None:
        """Read the ClientHello and complete the handshake within `timeout`
        seconds; the TLS stream and the client's server name, or None when
        the connection is to be closed (it is then closed)."""
        conn: PlainStream = PlainStream(sock)
        with trio.move_on_after(timeout):
            try:
                hello = await _peek_hello(conn)
                context, acme = self.choose(server, hello) if hello is not None else (None, False)
                if context is not None:
                    conn = TlsStream(context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False))
                    await _handshake(conn, hello, context)
                    if not acme:  # an ACME validator has seen the certificate: close (RFC 8737 3)
                        return conn, hello.server_name
            except (OSError, trio.BrokenResourceError):
                pass  # ssl.SSLError is an OSError
        await trio.aclose_forcefully(conn)
        return None


async def _peek_hello(conn: PlainStream) -> clienthello.Hello | None:
    """The ClientHello, read with MSG_PEEK so that it stays in the kernel for
    OpenSSL to read; None when the client closed or sent no ClientHello
    (plain HTTP is answered). While the hello is incomplete, SO_RCVLOWAT makes the wait
    end only once the record begun is whole."""
    sock, low_water, seen = conn.socket, 1, 0
    try:
        while True:
            try:
                data = sock.recv(clienthello.MAX_HELLO + 1, socket.MSG_PEEK)
            except BlockingIOError:
                await wait_readable(sock)
                continue
            if not data:
                return None
            try:
                hello = clienthello.parse(data)
            except (clienthello.NotTLS, clienthello.MalformedHello):
                conn.receive_nowait(len(data))  # taken: the close is then a FIN, not a reset
                if data[:1].isalpha():  # plain HTTP on the TLS port
                    await _plain_http_answer(conn)
                return None
            if hello is not None:
                return hello
            if len(data) == seen:  # no progress: a socket without SO_RCVLOWAT in poll (unix)
                await trio.sleep(HELLO_POLL)
            seen, low_water = len(data), clienthello.wanted(data)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, low_water)
            await wait_readable(sock)
    finally:
        if low_water != 1 and sock.fileno() != -1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)


async def _handshake(conn: TlsStream, hello: clienthello.Hello, context: ssl.SSLContext) -> None:
    try:
        await conn.do_handshake()
    except OSError as exc:
        if context.verify_mode == ssl.CERT_REQUIRED:  # as Kore: worth a line only where certificates are checked
            reason = getattr(exc, "reason", None) or str(exc) or "connection closed"
            log.info(f"TLS handshake for {hello.server_name or '(no name)'} failed: {reason}")
        raise


PLAIN_HTTP_BODY = b"This port speaks HTTPS: use an https:// URL.\n"
PLAIN_HTTP_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n"
                     b"content-length: %d\r\n\r\n%s" % (len(PLAIN_HTTP_BODY), PLAIN_HTTP_BODY))


async def _plain_http_answer(conn: PlainStream) -> None:
    """What nginx and Caddy do for a plain HTTP request on a TLS port."""
    try:
        await conn.send_all(PLAIN_HTTP_ANSWER)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as file:
        return file.read()


def make_scratch(root: str, chroot: bool, owner: tuple[int, int] | None) -> tuple[str, str]:
    """A private (0700) directory for Python's ssl, which loads material
    only from files: inside the root when the worker will chroot there.
    Returns its path now and its path once privileges are dropped."""
    path = tempfile.mkdtemp(prefix=".korepyd-tls-", dir=root if chroot else None)
    if owner is not None:
        os.chown(path, *owner)
    return path, ("/" + os.path.relpath(path, root)) if chroot else path


def remove_scratch(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)

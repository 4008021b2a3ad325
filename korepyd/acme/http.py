"""A small HTTPS client for ACME on trio and h11: one request at a time,
JSON or PEM bodies, the connection kept alive for the next request to
the same host.

Trust comes from PEM bytes the caller read before dropping privileges
(`context(ca_pem)`), so nothing is read from disk here. Responses are
capped at MAX_BODY bytes; every failure (connect, TLS, protocol, size,
time) is an HttpError saying which URL.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401  (ssl encodes server_hostname with it: import before any chroot)
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
import trio

MAX_BODY = 1 << 20
REQUEST_TIMEOUT = 30.0
RECEIVE_SIZE = 65536


class HttpError(Exception):
    """A request failed before a complete response arrived."""


def context(ca_pem: bytes | None) -> ssl.SSLContext:
    """Verify servers against `ca_pem` (PEM bytes), or against the system's
    CAs when None (which needs them readable: call before chroot)."""
    if ca_pem is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"CA certificates: not usable PEM ({exc})") from None


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]     # names lower case
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class _Connection:
    origin: tuple[str, int]
    stream: trio.SSLStream
    h11: h11.Connection


class HttpsClient:
    """Use as `async with HttpsClient(context, user_agent) as http:`."""

    def __init__(self, ssl_context: ssl.SSLContext, user_agent: str, *, timeout: float = REQUEST_TIMEOUT):
        self.ssl_context = ssl_context
        self.user_agent = user_agent
        self.timeout = timeout
        self._idle: _Connection | None = None

    async def __aenter__(self) -> HttpsClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._idle is not None:
            idle, self._idle = self._idle, None
            await trio.aclose_forcefully(idle.stream)

    async def request(self, method: str, url: str, body: bytes = b"",
                      headers: list[tuple[str, str]] | None = None) -> Response:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise HttpError(f"{url}: not an https:// URL")
        try:
            port = parts.port or 443
        except ValueError:
            raise HttpError(f"{url}: bad port") from None
        origin = (parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fields = [("Host", parts.netloc.rsplit("@", 1)[-1]), ("User-Agent", self.user_agent),
                  ("Content-Length", str(len(body))), *(headers or [])]
        request = h11.Request(method=method, target=target, headers=fields)
        try:
            with trio.fail_after(self.timeout):
                return await self._exchange(origin, request, body)
        except trio.TooSlowError:
            raise HttpError(f"{method} {url}: no response in {self.timeout:g} s") from None
        except HttpError as exc:
            raise HttpError(f"{method} {url}: {exc}") from None

    async def _exchange(self, origin: tuple[str, int], request: h11.Request, body: bytes) -> Response:
        conn, self._idle = self._idle, None
        if conn is not None and conn.origin != origin:
            await trio.aclose_forcefully(conn.stream)
            conn = None
        if conn is not None:
            try:
                return await self._once(conn, request, body)
            except _Stale:
                pass    # the server closed the kept-alive connection: once more on a new one
        conn = await self._connect(origin)
        try:
            return await self._once(conn, request, body)
        except _Stale as exc:
            raise HttpError(f"no response: {exc}") from None

    async def _connect(self, origin: tuple[str, int]) -> _Connection:
        host, port = origin
        try:
            stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=self.ssl_context,
                                                         https_compatible=True)
        except OSError as exc:
            raise HttpError(f"cannot connect to {host} port {port}: {exc}") from None
        try:
            await stream.do_handshake()
        except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
            await trio.aclose_forcefully(stream)
            raise HttpError(f"TLS with {host} port {port} failed: {_cause(exc)}") from None
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return _Connection(origin, stream, h11.Connection(h11.CLIENT))

    async def _once(self, conn: _Connection, request: h11.Request, body: bytes) -> Response:
        """One exchange; _Stale if nothing at all came back."""
        received_any = False
        try:
            data = conn.h11.send(request) + (conn.h11.send(h11.Data(data=body)) if body else b"")
            await conn.stream.send_all(data + conn.h11.send(h11.EndOfMessage()))
            response, chunks, size = None, [], 0
            while True:
                event = conn.h11.next_event()
                if event is h11.NEED_DATA:
                    data = await conn.stream.receive_some(RECEIVE_SIZE)
                    received_any = received_any or bool(data)
                    conn.h11.receive_data(data)
                elif isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > MAX_BODY:
                        raise HttpError(f"response larger than {MAX_BODY} bytes")
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise h11.RemoteProtocolError("connection closed")
        except (h11.ProtocolError, trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError,
                HttpError) as exc:
            await trio.aclose_forcefully(conn.stream)
            if not received_any and not isinstance(exc, HttpError):
                raise _Stale(_cause(exc)) from None
            raise HttpError(str(exc) if isinstance(exc, HttpError) else f"bad response: {_cause(exc)}") from None
        except BaseException:       # cancelled (timeout): never leave a half-used connection open
            await trio.aclose_forcefully(conn.stream)
            raise
        headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers)
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
            self._idle = conn
        else:
            await trio.aclose_forcefully(conn.stream)
        return Response(response.status_code, headers, b"".join(chunks))


class _Stale(Exception):
    """A connection gave nothing back: on a kept-alive one, try a new one."""


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__

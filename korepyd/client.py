"""The one HTTP client: HTTP/1.1 over TCP, TLS or a unix socket, on trio and
h11, with kept-alive connections reused per origin. Layer: a library below
the roles and the app APIs; its users are keymgr's ACME client
(acme/client.py) and kore.httpclient (kore/_httpclient.py), and it knows
neither.

A Client is one trust configuration (the SSL context of its https
requests) and the pool of its idle connections. A response is read whole,
at most `max_body` bytes of body; every failure (connect, TLS, protocol,
size, time) is a ClientError that names the request and the cause. A
kept-alive connection that gives nothing back (the server closed it
meanwhile) is replaced by a new one, once.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
import trio

RECEIVE_SIZE = 65536
IDLE_PER_ORIGIN = 4
BODY_METHODS = ("POST", "PUT", "PATCH")   # sent with a Content-Length even when empty


class ClientError(Exception):
    """A request failed before a complete response arrived: "METHOD URL: reason"."""

    def __init__(self, reason: str, request: str = ""):
        super().__init__(f"{request}: {reason}" if request else reason)
        self.reason = reason


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]     # names lower case, in the order received
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Origin:
    """Where a connection goes: a URL's scheme, host and port, or a unix
    socket (`@name`: Linux's abstract namespace) that speaks for them."""

    tls: bool
    host: str
    port: int
    unix: str | None = None


@dataclass
class _Connection:
    origin: Origin
    stream: trio.abc.Stream
    h11: h11.Connection


class Client:
    """Use as `async with Client(user_agent, ...) as client:`, or keep one
    for the life of the process (kore.httpclient's pool)."""

    def __init__(self, user_agent: str, *, ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0,
                 max_body: int = 1 << 20, what_max_body: str = ""):
        self.user_agent = user_agent
        self.ssl_context = ssl_context          # None: the system's CAs, made on the first https request
        self.timeout = timeout
        self.max_body = max_body
        self.what_max_body = what_max_body      # the setting's name, for the error: "curl_recv_max"
        self._idle: dict[Origin, list[_Connection]] = {}

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                await trio.aclose_forcefully(conn.stream)

    async def request(self, method: str, url: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None,
                      *, unix: str | None = None) -> Response:
        """One request and its whole response; ClientError("METHOD URL: why")."""
        try:
            origin, target, authority = _parse(url, unix)
            fields = [("Host", authority), ("User-Agent", self.user_agent), *(headers or [])]
            if body or method in BODY_METHODS:
                fields.append(("Content-Length", str(len(body))))
            request = h11.Request(method=method, target=target, headers=fields)
            with trio.fail_after(self.timeout):
                return await self._exchange(origin, request, body)
        except trio.TooSlowError:
            raise ClientError(f"no response in {self.timeout:g} s", f"{method} {url}") from None
        except ClientError as exc:
            raise ClientError(exc.reason, f"{method} {url}") from None
        except h11.LocalProtocolError as exc:
            raise ClientError(f"cannot be sent: {exc}", f"{method} {url}") from None

    async def _exchange(self, origin: Origin, request: h11.Request, body: bytes) -> Response:
        idle = self._idle.get(origin)
        if idle:
            try:
                return await self._once(idle.pop(), request, body)
            except _Stale:
                pass    # the server closed the kept-alive connection: once more on a new one
        try:
            return await self._once(await self._connect(origin), request, body)
        except _Stale as exc:
            raise ClientError(f"no response: {exc}") from None

    async def _connect(self, origin: Origin) -> _Connection:
        where = f"{origin.host} port {origin.port}" if origin.unix is None else f"unix socket {origin.unix}"
        try:
            if origin.unix is not None:
                path = "\0" + origin.unix[1:] if origin.unix.startswith("@") else origin.unix
                stream = await trio.open_unix_socket(path)
            else:
                stream = await trio.open_tcp_stream(origin.host, origin.port)
        except OSError as exc:
            raise ClientError(f"cannot connect to {where}: {exc}") from None
        if origin.tls:
            if self.ssl_context is None:
                self.ssl_context = ssl.create_default_context()
            stream = trio.SSLStream(stream, self.ssl_context, server_hostname=origin.host, https_compatible=True)
            try:
                await stream.do_handshake()
            except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
                await trio.aclose_forcefully(stream)
                raise ClientError(f"TLS with {where} failed: {_cause(exc)}") from None
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
        return _Connection(origin, stream, h11.Connection(h11.CLIENT))

    async def _once(self, conn: _Connection, request: h11.Request, body: bytes) -> Response:
        """One exchange on `conn`; _Stale if nothing at all came back."""
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
                    if size > self.max_body:
                        setting = f" ({self.what_max_body})" if self.what_max_body else ""
                        raise ClientError(f"response larger than {self.max_body} bytes{setting}")
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise h11.RemoteProtocolError("connection closed")
        except (h11.ProtocolError, trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError,
                ClientError) as exc:
            await trio.aclose_forcefully(conn.stream)
            if not received_any and not isinstance(exc, ClientError):
                raise _Stale(_cause(exc)) from None
            raise ClientError(str(exc) if isinstance(exc, ClientError) else f"bad response: {_cause(exc)}") from None
        except BaseException:       # cancelled (timeout): never leave a half-used connection open
            await trio.aclose_forcefully(conn.stream)
            raise
        await self._keep(conn)
        headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers)
        return Response(response.status_code, headers, b"".join(chunks))

    async def _keep(self, conn: _Connection) -> None:
        """Back to the pool if the exchange left it reusable; closed otherwise."""
        idle = self._idle.setdefault(conn.origin, [])
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE and len(idle) < IDLE_PER_ORIGIN:
            conn.h11.start_next_cycle()
            idle.append(conn)
        else:
            await trio.aclose_forcefully(conn.stream)


def _parse(url: str, unix: str | None) -> tuple[Origin, str, str]:
    """A URL's origin, its request target and its Host header."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError("not an http:// or https:// URL with a host")
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        raise ClientError("bad port") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(tls, parts.hostname, port, unix), target, parts.netloc.rsplit("@", 1)[-1]


class _Stale(Exception):
    """A connection gave nothing back: on a kept-alive one, try a new one."""


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__

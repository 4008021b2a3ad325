"""kore.httpclient on trio and h11 (Kore: the curl-based pyhttp_client,
reference section 1.7.8): HTTP and HTTPS, unix sockets, client
certificates, and kept-alive connections reused per host.

Requests time out after `curl_timeout` seconds and refuse responses larger
than `curl_recv_max` bytes, as Kore's do. The `curlopt` keyword has no
meaning here and is refused.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import h11
import trio

from korepyd import __version__
from korepyd.kore import _state

IDLE_PER_HOST = 4
_idle: dict[tuple, list[tuple[trio.abc.Stream, h11.Connection]]] = {}


class httpclient:
    """kore.httpclient(url, tlscert=, tlskey=, cabundle=, unix=, tlsverify=True)."""

    def __init__(self, url: str, *, tlscert: str | None = None, tlskey: str | None = None,
                 cabundle: str | None = None, unix: str | None = None, tlsverify: bool = True, curlopt=None):
        if bool(tlscert) != bool(tlskey):
            raise RuntimeError("invalid TLS client configuration")
        if curlopt:
            raise RuntimeError("curlopt is not supported: korepyd's httpclient does not use libcurl")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RuntimeError(f"invalid url '{url}': http:// or https:// and a host")
        self.url = url
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._authority = parts.netloc.rsplit("@", 1)[-1]
        self._unix = unix
        self._tls_options = (cabundle, tlsverify, tlscert, tlskey)
        self._key = (self._tls, self._host, self._port, unix, self._tls_options)

    # Kore's request methods: each returns an awaitable.
    def get(self, **kw):
        return self._request("GET", kw)

    def head(self, **kw):
        return self._request("HEAD", kw)

    def options(self, **kw):
        return self._request("OPTIONS", kw)

    def delete(self, **kw):
        return self._request("DELETE", kw)

    def post(self, **kw):
        return self._request("POST", kw, body_required=True)

    def put(self, **kw):
        return self._request("PUT", kw, body_required=True)

    def patch(self, **kw):
        return self._request("PATCH", kw, body_required=True)

    def _request(self, method: str, kw: dict, body_required: bool = False):
        if body_required and not kw:
            raise RuntimeError("no keyword arguments given, but body expected")
        if body_required and "body" not in kw:
            raise RuntimeError("body keyword expected")
        headers = kw.get("headers", {})
        if not isinstance(headers, dict):
            raise RuntimeError("headers keyword must be a dict")
        body = kw.get("body", b"")
        if not isinstance(body, (bytes, bytearray)):
            raise TypeError("body must be bytes")
        return self._run(method, headers, bytes(body), bool(kw.get("return_headers")))

    async def _run(self, method: str, headers: dict, body: bytes, return_headers: bool):
        config = _state.runtime.config if _state.runtime else None
        timeout = config.curl_timeout if config else 60
        limit = config.curl_recv_max if config else 2097152
        with trio.move_on_after(timeout) as scope:
            try:
                status, response_headers, data = await self._exchange(method, headers, body, limit)
            except (OSError, trio.BrokenResourceError, h11.ProtocolError, ssl.SSLError) as exc:
                raise RuntimeError(f"request to '{self.url}' failed: {exc}") from None
        if scope.cancelled_caught:
            raise RuntimeError(f"request to '{self.url}' failed: timed out after {timeout} s")
        if return_headers:
            return status, response_headers, data
        return status, data

    async def _exchange(self, method: str, headers: dict, body: bytes, limit: int):
        stream, conn = await self._connection()
        request_headers = [("Host", self._authority), ("User-Agent", f"korepyd/{__version__}")]
        request_headers += [(str(k), str(v)) for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            request_headers.append(("Content-Length", str(len(body))))
        try:
            data = conn.send(h11.Request(method=method, target=self._target, headers=request_headers))
            if body:
                data += conn.send(h11.Data(data=body))
            await stream.send_all(data + conn.send(h11.EndOfMessage()))
            response, chunks, size = None, [], 0
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > limit:
                        raise OSError(f"response larger than curl_recv_max ({limit} bytes)")
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise OSError("the server closed the connection")
        except BaseException:
            await stream.aclose()
            raise
        if not self._keep(stream, conn):
            await stream.aclose()
        names = {n.decode("latin-1").lower(): v.decode("latin-1") for n, v in response.headers}
        return response.status_code, names, b"".join(chunks)

    async def _connection(self):
        idle = _idle.get(self._key, [])
        while idle:
            stream, conn = idle.pop()
            if conn.our_state is h11.IDLE:
                return stream, conn
            await stream.aclose()
        if self._unix:
            path = "\0" + self._unix[1:] if self._unix.startswith("@") else self._unix
            stream = await trio.open_unix_socket(path)
        else:
            stream = await trio.open_tcp_stream(self._host, self._port)
        if self._tls:
            stream = trio.SSLStream(stream, self._ssl_context(), server_hostname=self._host)
        return stream, h11.Connection(h11.CLIENT)

    def _ssl_context(self) -> ssl.SSLContext:
        cabundle, verify, cert, key = self._tls_options
        context = ssl.create_default_context(cafile=cabundle)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert:
            context.load_cert_chain(cert, key)
        return context

    def _keep(self, stream, conn: h11.Connection) -> bool:
        """Put a reusable connection back in the pool; False if it is not."""
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            pool = _idle.setdefault(self._key, [])
            if len(pool) < IDLE_PER_HOST:
                conn.start_next_cycle()
                pool.append((stream, conn))
                return True
        return False

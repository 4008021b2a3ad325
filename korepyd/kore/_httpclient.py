"""kore.httpclient (Kore: the curl-based pyhttp_client, reference section
1.7.8) on korepyd's one HTTP client (korepyd/client.py): HTTP and HTTPS,
unix sockets, client certificates, and kept-alive connections reused per
host and trust settings for the life of the worker. Layer: app API (kore).

Requests time out after `curl_timeout` seconds and refuse responses larger
than `curl_recv_max` bytes, as Kore's do. The `curlopt` keyword has no
meaning here and is refused.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

from korepyd import __version__
from korepyd.client import Client, ClientError
from korepyd.kore import _state

CLIENTS_MAX = 64   # kept Clients (one per set of TLS options and limits), each with its idle connections
_clients: dict[tuple, Client] = {}

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
        self._unix = unix
        self._tls_options = (cabundle, bool(tlsverify), tlscert, tlskey)

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
        fields = [(str(k), str(v)) for k, v in headers.items()]
        try:
            client = _client(self._tls_options, timeout, limit)
            response = await client.request(method, self.url, body, fields, unix=self._unix)
        except ClientError as exc:
            raise RuntimeError(f"request to '{self.url}' failed: {exc.reason}") from None
        except OSError as exc:  # the files of cabundle, tlscert, tlskey
            raise RuntimeError(f"request to '{self.url}' failed: {exc}") from None
        if return_headers:
            return response.status, dict(response.headers), response.body
        return response.status, response.body


def _client(tls_options: tuple, timeout: float, limit: int) -> Client:
    key = (tls_options, timeout, limit)
    client = _clients.get(key)
    if client is None:
        if len(_clients) >= CLIENTS_MAX:
            _clients.pop(next(iter(_clients)))    # its idle connections close when collected
        client = _clients[key] = Client(f"korepyd/{__version__}", ssl_context=_ssl_context(*tls_options),
                                        timeout=timeout, max_body=limit, what_max_body="curl_recv_max")
    return client


def _ssl_context(cabundle: str | None, verify: bool, cert: str | None, key: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cabundle)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert:
        context.load_cert_chain(cert, key)
    return context

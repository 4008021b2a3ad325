"""The response writer of the request core: one response, with Kore's
headers (the worker's HeadPolicy), a pretty error page where Kore's
http_pretty_error asks for one, and the body in one write or in
SEND_SIZE pieces, or from a file; the bytes are the wire protocol's
(korepyd.http1.HttpConnection). Layer: request core; it does its I/O on
the stream the worker gives it and imports no trio.
"""

from __future__ import annotations

import h11

from korepyd import log
from korepyd.core.response import pretty_error
from korepyd.http1.response import head_headers, reason

SEND_SIZE = 65536


class Reply:
    """Writes one response through the wire protocol's connection (`http`) to
    the stream. `rt` is the worker's runtime: its HeadPolicy (`head`), date(),
    config and send_file(); `head_only` is true for a HEAD request."""

    tls: bool
    head_only: bool
    __slots__ = ("rt", "http", "stream", "tls", "head_only", "status", "length", "connection")

    def __init__(self, rt, http, stream, tls: bool, head_only: bool = False, connection=None):
        self.rt, self.http, self.stream = rt, http, stream
        self.tls, self.head_only = bool(tls), bool(head_only)  # C fields, compiled: the same either way
        self.status: int | None = None   # what was sent, for the access log
        self.length = 0
        self.connection = connection     # what the app API knows of the connection (sni, x509, closing)

    async def send_file(self, status: int, user_headers, fd: int, offset: int, length: int, *, keep: bool) -> bool:
        """A file's bytes after the head: sendfile(2) where the stream allows."""
        headers = head_headers(self.rt.head, user_headers, keep_alive=keep, tls=self.tls, length=length,
                               date=self.rt.date())
        response_head = self.http.respond(status, reason(status), headers)
        self.status, self.length = status, 0 if self.head_only else length
        if not self.head_only and length:
            self.http.send_passthrough(length)
            await self.rt.send_file(self.stream, response_head, fd, offset, length)
        else:
            await self.stream.send_all(response_head)
        tail = self.http.end()  # nothing, after a Content-Length body
        if tail:
            await self.stream.send_all(tail)
        return keep

    async def send(self, status: int, user_headers=(), body: bytes = b"", *, keep: bool,
                   length: int | None = -1) -> bool:
        """`length` -1: the body's; None: no content-length (1xx, 204, 304)."""
        rt = self.rt
        if not body and status >= 400 and rt.config.http_pretty_error:
            body = pretty_error(status)
            user_headers = [*user_headers, ("content-type", "text/html")]
        if length == -1:
            length = None if status < 200 or status == 204 else len(body)
        whole = self.head_only or len(body) <= SEND_SIZE  # one write for head and body
        try:
            headers = head_headers(rt.head, user_headers, keep_alive=keep, tls=self.tls, length=length,
                                   date=rt.date())
            if whole:
                data = self.http.respond_complete(status, reason(status), headers, b"" if self.head_only else body)
            else:
                data = self.http.respond(status, reason(status), headers)
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            log.error(f"cannot send the response ({exc}); sent 500 instead")
            headers = head_headers(rt.head, [], keep_alive=False, tls=self.tls, length=0, date=rt.date())
            data = self.http.respond_complete(500, reason(500), headers)
            status, body, keep, whole = 500, b"", False, True
        self.status, self.length = status, 0 if self.head_only else len(body)
        await self.stream.send_all(data)
        if not whole:
            view = memoryview(body)
            for start in range(0, len(view), SEND_SIZE):
                await self.stream.send_all(self.http.send_body(view[start:start + SEND_SIZE]))
            await self.stream.send_all(self.http.end())
        return keep

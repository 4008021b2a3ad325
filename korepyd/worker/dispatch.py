"""From a parsed request to the response on the wire (Kore:
http_process_request() and python_runtime_http_request()).

The router decides (rewrite rule, 404/405, a route, a filemap); a route's
handler is called as `handler(req, *captures)`, sync or `async def`, and
whatever it recorded on `req` is sent. The handler contract, where Kore
would kill the worker or hang the client, korepyd answers and logs:

- an exception before a response: 500 and the traceback in the log;
- a handler that returns without responding: 500, logged;
- a sync handler that returns something other than None or
  kore.RESULT_OK: logged, the response it recorded still goes out;
- a second response(): ignored and logged.
"""

from __future__ import annotations

import inspect
import os
from email.utils import formatdate

import h11
import trio

from korepyd import log
from korepyd.config import model
from korepyd.http import filemap
from korepyd.http.connection import HttpConnection, RequestHead, wants_keep_alive
from korepyd.http.response import head_headers, pretty_error, reason
from korepyd.http.router import Match, Refusal, Rewrite
from korepyd.kore._constants import RESULT_OK
from korepyd.kore._request import HttpRequest
from korepyd.worker.runtime import Runtime

SEND_SIZE = 65536


async def handle(rt: Runtime, http: HttpConnection, stream, head: RequestHead, body: bytes, server: str,
                 tls: bool) -> bool:
    """Answer one request; return whether the connection may be kept."""
    method, path = head.method, head.path
    keep = rt.config.http_keepalive_time > 0 and not rt.stopping and wants_keep_alive(head)
    reply = _Reply(rt, http, stream, tls, head=method == "head")
    router = rt.routers.get(server)
    domain = router.domain(head.header("host") or "") if router else None
    if domain is None:
        return await reply.send(404, keep=False)
    outcome = domain.resolve(method, path, head.query)
    if isinstance(outcome, Refusal):
        return await reply.send(outcome.status, keep=False)
    if isinstance(outcome, Rewrite):
        extra = [("location", outcome.location)] if outcome.location is not None else []
        return await reply.send(outcome.status, extra, keep=keep)
    assert isinstance(outcome, Match)
    if isinstance(outcome.route, model.Filemap):
        return await _serve_file(rt, reply, outcome.route, path, keep)
    req = HttpRequest(method=method, path=path, query=head.query, headers=head.headers, body=body, tls=tls,
                      route=outcome.route, check=rt.validators.check)
    status, user_headers, payload = await _run_handler(rt, outcome.route, req, outcome.captures)
    return await reply.send(status, user_headers, payload, keep=keep and status < 500)


async def send_error(rt: Runtime, http: HttpConnection, stream, status: int, tls: bool) -> None:
    """An error korepyd makes itself (a refused request): connection: close."""
    if http.can_respond:
        await _Reply(rt, http, stream, tls).send(status, keep=False)


async def _run_handler(rt: Runtime, route: model.Route, req: HttpRequest, captures) -> tuple[int, list, bytes]:
    handler = rt.resolve(route.handler.name)
    where = f"handler '{route.handler.name}' for {route.path}"
    try:
        result = handler(req, *captures)
        if inspect.isawaitable(result):
            result = await result
        elif result is not None and result != RESULT_OK:
            log.warning(f"{where} returned {result!r}; handlers return None (ignored)")
    except trio.Cancelled:
        raise
    except Exception:
        log.exception(f"{where} raised an exception")
        if req.status is None:
            return 500, [], b""
    for warning in req.warnings:
        log.warning(f"{where}: {warning}")
    if req.status is None:
        log.warning(f"{where} returned without a response; sent 500")
        return 500, [], b""
    return req.status, req.response_headers, req.response_body or b""


async def _serve_file(rt: Runtime, reply: _Reply, item: model.Filemap, path: str, keep: bool) -> bool:
    config = rt.config
    found = filemap.resolve(rt.filemap_roots[item.path], item.uri, path, index=config.filemap_index,
                            ext=config.filemap_ext, types=rt.media_types)
    if found is None:
        return await reply.send(404, keep=keep)
    if isinstance(found, filemap.FileRedirect):
        return await reply.send(302, [("location", found.location)], keep=keep)
    headers = [("last-modified", formatdate(found.mtime, usegmt=True))]
    if found.content_type:
        headers.append(("content-type", found.content_type))
    try:
        data = b"" if reply.head else await trio.to_thread.run_sync(_read_file, found.path)
    except PermissionError:
        return await reply.send(403, keep=keep)
    except OSError:
        return await reply.send(404, keep=keep)
    return await reply.send(200, headers, data, keep=keep, length=found.size)


def _read_file(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        return f.read()


class _Reply:
    """Writes one response through the HttpConnection to the stream."""

    def __init__(self, rt: Runtime, http: HttpConnection, stream, tls: bool, *, head: bool = False):
        self.rt, self.http, self.stream, self.tls, self.head = rt, http, stream, tls, head

    async def send(self, status: int, user_headers=(), body: bytes = b"", *, keep: bool,
                   length: int | None = None) -> bool:
        rt = self.rt
        if not body and status >= 400 and rt.config.http_pretty_error:
            body = pretty_error(status)
            user_headers = [*user_headers, ("content-type", "text/html")]
        if length is None:
            length = None if status < 200 or status == 204 else len(body)
        try:
            headers = head_headers(rt.head, list(user_headers), keep_alive=keep, tls=self.tls, length=length)
            data = self.http.respond(status, reason(status), headers)
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            log.error(f"cannot send the response ({exc}); sent 500 instead")
            headers = head_headers(rt.head, [], keep_alive=False, tls=self.tls, length=0)
            data = self.http.respond(500, reason(500), headers)
            body, keep = b"", False
        if self.head or not body:
            await self.stream.send_all(data + self.http.end())
        elif len(body) <= SEND_SIZE:  # one write for head and body
            await self.stream.send_all(data + self.http.send_body(body) + self.http.end())
        else:
            await self.stream.send_all(data)
            view = memoryview(body)
            for start in range(0, len(view), SEND_SIZE):
                await self.stream.send_all(self.http.send_body(view[start:start + SEND_SIZE]))
            await self.stream.send_all(self.http.end())
        return keep

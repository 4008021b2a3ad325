"""From a request head to the response on the wire (Kore:
http_process_request(), python_runtime_http_request() and the route hooks
of src/http.c), in Kore's order:

1. the domain by Host, then `redirect`/`return` rules, then the route
   (404, 405) - all before the body is read;
2. `on_headers(req, *captures)`; returning False (or kore.RESULT_ERROR)
   ends the request: with the hook's own response, else 403;
3. the body: streamed to `on_body_chunk(req, data)` when the route has
   one, else read whole (and offloaded to a file above
   http_body_disk_offload);
4. the authentication block, if the route or filemap names one;
5. the handler `handler(req, *captures)`, sync or `async def`, or the
   filemap;
6. the response, then `on_free(req)`.

Where Kore would kill the worker or leave the client hanging, korepyd
answers and logs: an exception before a response gives 500 with the
traceback in the log, a handler that returns without responding gives 500,
a sync handler that returns something other than None or RESULT_OK is
logged, and a second response() is ignored and logged.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from time import monotonic

import h11
import trio

from korepyd import log
from korepyd.config import model
from korepyd.core import auth, conditional, filemap
from korepyd.core.response import last_modified, pretty_error
from korepyd.core.router import NOT_FOUND, Match, NoRoute, strip_port
from korepyd.http1.connection import HttpConnection
from korepyd.http1.events import RequestHead
from korepyd.http1.response import head_headers, reason
from korepyd.http1.rules import wants_keep_alive
from korepyd.kore._constants import RESULT_ERROR, RESULT_OK
from korepyd.kore._request import HttpRequest
from korepyd.websocket import upgrade
from korepyd.worker.preload import optional
from korepyd.worker.runtime import Runtime
from korepyd.worker.sendfile import send_file

SEND_SIZE = 65536
ACME_HTTP01 = "/.well-known/acme-challenge/"   # RFC 8555 8.3, answered on any server and name
_FAILED = object()                             # a handler raised


async def handle(rt: Runtime, http: HttpConnection, stream, head: RequestHead, server: str, tls: bool,
                 body, client) -> bool:
    """Answer one request; return whether the connection may be kept.
    `body` is the connection's BodyReader for this request, `client` its
    kore.connection."""
    reply = _Reply(rt, http, stream, tls, head.method == "head", client)
    router = rt.routers.get(server)
    domain = router.domain(head.header("host") or "") if router else None
    try:
        return await _answer(rt, reply, head, domain, body, tls)
    finally:
        if domain is not None and domain.accesslog and reply.status is not None:
            rt.access(domain.accesslog, head, reply.status, reply.length, stream)


async def _answer(rt: Runtime, reply: _Reply, head: RequestHead, domain, body, tls: bool) -> bool:
    keep = rt.keepalive and not rt.stopping and wants_keep_alive(head)
    if rt.tls is not None and rt.tls.tokens and head.path.startswith(ACME_HTTP01):
        key_authorization = rt.tls.tokens.get(head.path[len(ACME_HTTP01):])
        if key_authorization is not None:
            return await reply.send(200, [("content-type", "application/octet-stream")], key_authorization,
                                    keep=False)
    sni = reply.connection.sni
    if sni is not None and strip_port(head.header("host") or "").lower() != sni:
        return await reply.send(421, keep=False)  # a request for another name than the handshake's
    if domain is not None and domain.client_verify and reply.connection.x509 is None:
        return await reply.send(403, keep=False)
    outcome = domain.resolve(head.method, head.path, head.query) if domain else NOT_FOUND
    if type(outcome) is not Match:
        if isinstance(outcome, NoRoute):
            return await reply.send(outcome.status, keep=False)
        extra = [("location", outcome.location)] if outcome.location is not None else []  # a Rewrite
        if not body.pending:
            body.finish()  # so that the connection can be kept
        return await reply.send(outcome.status, extra, keep=keep and not body.pending)
    if rt.request_limit and rt.requests >= rt.request_limit:
        return await reply.send(503, keep=False)
    rt.requests += 1
    try:
        return await _routed(rt, reply, head, outcome, body, keep, tls)
    finally:
        rt.requests -= 1


async def _routed(rt: Runtime, reply: _Reply, head: RequestHead, match: Match, body, keep: bool,
                  tls: bool) -> bool:
    route, plain = match.route, match.plain
    req = HttpRequest(method=head.method, path=head.path, query=head.query, headers=head.headers, body=b"",
                      tls=tls, route=route, check=rt.check, connection=reply.connection)
    try:
        if plain:  # the usual route: nothing to do before the handler but read the body
            if body.pending:
                await _receive_body(rt, req, body)
            else:
                body.finish()
        else:
            kept = await _before_handler(rt, reply, head, match, req, body, keep)
            if kept is not None:
                return kept
        for hook in rt.prerequest:
            if not await _hook(rt, hook, req):
                return await reply.send_request(req, default=403, keep=keep)
        pending = _start_handler(rt, route, req, match.captures)  # a sync handler runs whole, at once
        if pending is not None and pending is not _FAILED:
            pending = await _finish_handler(rt, route, pending)
        status, user_headers, payload = _handler_outcome(route, req, pending is _FAILED)
        if req.websocket is not None and status < 500:
            return await _websocket(rt, reply, head, req)
        keep = keep and status < 500 and not reply.connection.closing
        return await reply.send(status, user_headers, payload, keep=keep)
    finally:
        if not plain and isinstance(route, model.Route) and route.on_free:  # (a filemap has no hooks)
            await _hook(rt, route.on_free, req)
        if req.body_path is not None:
            os.unlink(req.body_path)


async def _before_handler(rt: Runtime, reply: _Reply, head: RequestHead, match: Match, req: HttpRequest, body,
                          keep: bool) -> bool | None:
    """Steps 2 to 4 for a route with hooks or authentication, or a filemap
    (which is served here): None to go on to the handler, else whether the
    connection may be kept after the response sent instead."""
    route = match.route
    is_route = isinstance(route, model.Route)
    if is_route and route.on_headers:
        if not await _hook(rt, route.on_headers, req, *match.captures):
            return await reply.send_request(req, default=403, keep=False)
    if is_route and route.on_body_chunk:
        chunk_hook = rt.resolve(route.on_body_chunk.name)
        async for chunk in body.chunks():
            result = chunk_hook(req, chunk)
            if inspect.isawaitable(result):
                await result
    elif body.pending:
        await _receive_body(rt, req, body)
    else:
        body.finish()
    if route.authenticate and not await _authenticated(rt, route.authenticate, req):
        failed = rt.authentications[route.authenticate]
        if failed.type == "request" and req.status is not None:
            return await reply.send_request(req, default=403, keep=keep)
        status, headers = auth.failure(failed)
        return await reply.send(status, headers, keep=keep)
    if not is_route:
        return await _serve_file(rt, reply, route, head, keep)
    return None


async def _receive_body(rt: Runtime, req: HttpRequest, body) -> None:
    """The whole body in memory, or in a file under http_body_disk_path
    once it grows past http_body_disk_offload (Kore: http_body_offload)."""
    limit = rt.config.http_body_disk_offload
    chunks, size, fd = [], 0, None
    try:
        async for chunk in body.chunks():
            size += len(chunk)
            if fd is None and limit and size > limit:
                fd, req._body_path = tempfile.mkstemp(prefix="body-", dir=rt.config.http_body_disk_path)
                os.write(fd, b"".join(chunks))
                chunks = []
            if fd is None:
                chunks.append(chunk)
            else:
                os.write(fd, chunk)
    finally:
        if fd is not None:
            os.close(fd)
    req._body = b"".join(chunks)


async def _hook(rt: Runtime, callback, *args) -> bool:
    """Run a route hook (a Callback) or a prerequest hook (a callable);
    False if it failed or refused the request."""
    fn = rt.resolve(callback.name) if isinstance(callback, model.Callback) else callback
    try:
        result = fn(*args)
        if result is not None and inspect.isawaitable(result):
            result = await result
    except trio.Cancelled:
        raise
    except Exception:
        rt.tasks.report(f"hook {getattr(fn, '__qualname__', fn)!r}")
        return False
    return result is not False and result != RESULT_ERROR


async def _authenticated(rt: Runtime, name: str, req: HttpRequest) -> bool:
    block = rt.authentications[name]
    value = None if block.type == "request" else auth.credential(block, req._headers)
    if value is None and block.type != "request":
        return False
    try:
        verdict = rt.validators.call(block.validator, value, req)
        if inspect.isawaitable(verdict):
            verdict = await verdict
    except trio.Cancelled:
        raise
    except Exception:
        log.exception(f"authentication validator '{block.validator}' raised an exception")
        return False
    return verdict is True


def _start_handler(rt: Runtime, route: model.Route, req: HttpRequest, captures):
    """Call the handler: None once a sync one returned, the awaitable an
    `async def` one gives, or _FAILED if it raised (the traceback logged)."""
    try:
        result = rt.resolve(route.handler.name)(req, *captures)
        if result is not None:
            if inspect.isawaitable(result):
                return result
            if result != RESULT_OK:
                log.warning(f"{_where(route)} returned {result!r}; handlers return None (ignored)")
    except Exception:
        rt.tasks.report(_where(route))
        return _FAILED
    return None


async def _finish_handler(rt: Runtime, route: model.Route, pending):
    """Run an `async def` handler to its end: None, or _FAILED if it raised."""
    try:
        await pending
    except trio.Cancelled:
        raise
    except Exception:
        rt.tasks.report(_where(route))
        return _FAILED
    return None


def _handler_outcome(route: model.Route, req: HttpRequest, failed: bool) -> tuple[int, list, bytes]:
    """The status, headers and body the handler left on `req`."""
    if failed and req.status is None:
        return 500, [], b""
    for warning in req.warnings:
        log.warning(f"{_where(route)}: {warning}")
    if req.websocket is not None and req.status is None:
        return 101, req.response_headers, b""
    if req.status is None:
        log.warning(f"{_where(route)} returned without a response; sent 500")
        return 500, [], b""
    return req.status, req.response_headers, req.response_body or b""


def _where(route: model.Route) -> str:
    return f"handler '{route.handler.name}' for {route.path}"


async def _websocket(rt: Runtime, reply: _Reply, head: RequestHead, req: HttpRequest) -> bool:
    """Answer 101 and run the websocket until it closes (Kore's checks first)."""
    try:
        ws = optional("korepyd.worker.ws")  # wsproto: imported for apps with websockets (worker/preload.py)
    except RuntimeError as exc:
        log.error(str(exc))
        return await reply.send(500, keep=False)
    refusal = upgrade.check(head.method, head.headers)
    if refusal is not None:
        return await reply.send(refusal.status, list(refusal.headers), keep=False)
    callbacks = tuple(rt.resolve(cb) if isinstance(cb, str) else cb for cb in req.websocket)
    session = ws.WebSocketSession(rt.config.websocket_maxframe)
    extra = [(b"server", rt.head.server)] + [(n.encode("latin-1"), v.encode("latin-1"))
                                              for n, v in req.response_headers]
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in head.headers]
    await reply.stream.send_all(session.accept(b"GET", head.target.encode("latin-1"), raw, extra))
    reply.status = 101
    await ws.serve_websocket(rt, reply.stream, session, reply.connection, callbacks, reply.http.upgraded_data())
    return False


async def _serve_file(rt: Runtime, reply: _Reply, item: model.Filemap, head: RequestHead, keep: bool) -> bool:
    config = rt.config
    found = filemap.resolve(rt.filemap_roots[item.path], item.uri, head.path, index=config.filemap_index,
                            ext=config.filemap_ext, types=rt.media_types)
    if found is None:
        return await reply.send(404, keep=keep)
    if isinstance(found, filemap.FileRedirect):
        return await reply.send(302, [("location", found.location)], keep=keep)
    tag, modified = conditional.etag(found.size, found.mtime_ns), last_modified(found.mtime)
    headers = [("last-modified", modified), ("etag", tag), ("accept-ranges", "bytes")]
    if found.content_type:
        headers.append(("content-type", found.content_type))
    if_none_match, if_modified_since, ranges, if_range = conditional.request_fields(head.headers)
    if conditional.not_modified(if_none_match, if_modified_since, tag, found.mtime):
        return await reply.send(304, headers, keep=keep, length=None)
    span = conditional.byte_range(ranges, if_range, tag, modified, found.size)
    if span == conditional.UNSATISFIABLE:
        return await reply.send(416, [("content-range", f"bytes */{found.size}")], keep=keep)
    start, end = span or (0, found.size - 1)
    if span:
        headers.append(("content-range", f"bytes {start}-{end}/{found.size}"))
    files = rt.filerefs
    try:
        ref = files.acquire(found.path, found.identity, monotonic())
    except PermissionError:
        return await reply.send(403, keep=keep)
    except OSError:
        return await reply.send(404, keep=keep)
    try:
        return await reply.send_file(206 if span else 200, headers, ref.fd, start, end - start + 1, keep=keep)
    finally:
        files.release(ref)


async def send_error(rt: Runtime, http: HttpConnection, stream, status: int, tls: bool) -> None:
    """An error korepyd makes itself (a refused request): connection: close."""
    if http.can_respond:  # a HEAD request whose head was read gets no body, not even an error page
        await _Reply(rt, http, stream, tls, http.request_method == b"HEAD").send(status, keep=False)


class _Reply:
    """Writes one response through the HttpConnection to the stream."""

    def __init__(self, rt: Runtime, http: HttpConnection, stream, tls: bool, head: bool = False, connection=None):
        self.rt, self.http, self.stream, self.tls, self.head = rt, http, stream, tls, head
        self.status: int | None = None   # what was sent, for the access log
        self.length = 0
        self.connection = connection     # the kore.connection of the request

    async def send_request(self, req: HttpRequest, *, default: int, keep: bool) -> bool:
        """What a hook or validator recorded on `req`, else `default`."""
        if req.status is None:
            return await self.send(default, keep=keep)
        return await self.send(req.status, req.response_headers, req.response_body or b"", keep=keep)

    async def send_file(self, status: int, user_headers, fd: int, offset: int, length: int, *, keep: bool) -> bool:
        """A file's bytes after the head: sendfile(2) where the stream allows."""
        headers = head_headers(self.rt.head, user_headers, keep_alive=keep, tls=self.tls, length=length,
                               date=self.rt.date())
        head = self.http.respond(status, reason(status), headers)
        self.status, self.length = status, 0 if self.head else length
        if not self.head and length:
            self.http.send_passthrough(length)
            await send_file(self.stream, head, fd, offset, length)
        else:
            await self.stream.send_all(head)
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
        whole = self.head or len(body) <= SEND_SIZE  # one write for head and body
        try:
            headers = head_headers(rt.head, user_headers, keep_alive=keep, tls=self.tls, length=length,
                                   date=rt.date())
            if whole:
                data = self.http.respond_complete(status, reason(status), headers, b"" if self.head else body)
            else:
                data = self.http.respond(status, reason(status), headers)
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            log.error(f"cannot send the response ({exc}); sent 500 instead")
            headers = head_headers(rt.head, [], keep_alive=False, tls=self.tls, length=0, date=rt.date())
            data = self.http.respond_complete(500, reason(500), headers)
            status, body, keep, whole = 500, b"", False, True
        self.status, self.length = status, 0 if self.head else len(body)
        await self.stream.send_all(data)
        if not whole:
            view = memoryview(body)
            for start in range(0, len(view), SEND_SIZE):
                await self.stream.send_all(self.http.send_body(view[start:start + SEND_SIZE]))
            await self.stream.send_all(self.http.end())
        return keep

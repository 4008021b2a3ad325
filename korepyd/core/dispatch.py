"""From a request head to its response, as far as it is the same for every
app API (Kore: http_process_request() in src/http.c). Layer: request core;
it knows the neutral request (http1.events.RequestHead), the worker's
runtime by what it reads of it, and no app API: a request routed to a
handler goes to the app API the worker runs (`rt.app_api`, for Kore apps
korepyd/kore/_adapter.py), which builds its own request object, runs
Kore's hooks and the handler and answers through the same Reply.

In Kore's order, all before the body is read: the ACME http-01 answer,
421 for a Host other than the TLS server name, 403 without a client
certificate where one is required, the domain's `redirect`/`return` rules
and the route (404, 405), http_request_limit (503). A filemap is served
here: its body read (or offloaded), its authentication block checked, the
file sent with ETag, Last-Modified, ranges and 304.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from time import monotonic

from korepyd import log
from korepyd.config.model import Filemap
from korepyd.core import auth, conditional, filemap
from korepyd.core.reply import Reply
from korepyd.core.response import last_modified
from korepyd.core.router import NOT_FOUND, Match, NoRoute, strip_port
from korepyd.http1.events import RequestHead
from korepyd.http1.rules import wants_keep_alive

ACME_HTTP01 = "/.well-known/acme-challenge/"   # RFC 8555 8.3, answered on any server and name


async def handle(rt, http, stream, head: RequestHead, server: str, tls: bool, body, connection) -> bool:
    """Answer one request; return whether the connection may be kept.
    `http` is the wire protocol's connection, `body` the BodyReader of this
    request, `connection` what the app API knows of the connection."""
    reply = Reply(rt, http, stream, tls, head.method == "head", connection)
    router = rt.routers.get(server)
    domain = router.domain(head.header("host") or "") if router else None
    try:
        return await _answer(rt, reply, head, domain, body, tls)
    finally:
        if domain is not None and domain.accesslog and reply.status is not None:
            rt.access(domain.accesslog, head, reply.status, reply.length, stream)


async def _answer(rt, reply: Reply, head: RequestHead, domain, body, tls: bool) -> bool:
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
        if type(outcome.route) is Filemap:
            return await _filemap(rt, reply, head, outcome.route, body, keep, tls)
        return await rt.app_api.serve(rt, reply, head, outcome, body, keep, tls)
    finally:
        rt.requests -= 1


async def receive_body(rt, body) -> tuple[bytes, str | None]:
    """The whole body: in memory, or in a file under http_body_disk_path
    once it grows past http_body_disk_offload (Kore: http_body_offload);
    returns the bytes in memory and the file's path (the caller removes it)."""
    limit = rt.config.http_body_disk_offload
    chunks, size, fd, path = [], 0, None, None
    try:
        async for chunk in body.chunks():
            size += len(chunk)
            if fd is None and limit and size > limit:
                fd, path = tempfile.mkstemp(prefix="body-", dir=rt.config.http_body_disk_path)
                os.write(fd, b"".join(chunks))
                chunks = []
            if fd is None:
                chunks.append(chunk)
            else:
                os.write(fd, chunk)
    finally:
        if fd is not None:
            os.close(fd)
    return b"".join(chunks), path


async def authenticated(rt, name: str, headers: list[tuple[str, str]], req) -> bool:
    """The verdict of authentication block `name` on a request with
    `headers`; `req` is the app API's request, which a validator receives."""
    block = rt.authentications[name]
    value = None if block.type == "request" else auth.credential(block, headers)
    if value is None and block.type != "request":
        return False
    try:
        verdict = rt.validators.call(block.validator, value, req)
        if inspect.isawaitable(verdict):
            verdict = await verdict
    except Exception:
        log.exception(f"authentication validator '{block.validator}' raised an exception")
        return False
    return verdict is True


async def _filemap(rt, reply: Reply, head: RequestHead, item: Filemap, body, keep: bool, tls: bool) -> bool:
    """A filemap hit: its body (unread by anyone but a `request` validator),
    its authentication block, then the file."""
    data, path = b"", None
    if body.pending:
        data, path = await receive_body(rt, body)
    else:
        body.finish()
    try:
        if item.authenticate:
            req = rt.app_api.request(rt, head, item, reply.connection, tls, data, path)
            if not await authenticated(rt, item.authenticate, head.headers, req):
                return await fail_authentication(rt, reply, item.authenticate, req, keep)
        return await _serve_file(rt, reply, item, head, keep)
    finally:
        if path is not None:
            os.unlink(path)


async def fail_authentication(rt, reply: Reply, name: str, req, keep: bool) -> bool:
    """The answer to a request authentication block `name` refused: what a
    `request` validator recorded on the app's request, else the block's
    (403, or its authentication_uri's redirect)."""
    block = rt.authentications[name]
    if block.type == "request":
        recorded = rt.app_api.recorded(req)
        if recorded is not None:
            return await reply.send(*recorded, keep=keep)
    status, headers = auth.failure(block)
    return await reply.send(status, headers, keep=keep)


async def _serve_file(rt, reply: Reply, item: Filemap, head: RequestHead, keep: bool) -> bool:
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


async def send_error(rt, http, stream, status: int, tls: bool) -> None:
    """An error korepyd makes itself (a refused request): connection: close."""
    if http.can_respond:  # a HEAD request whose head was read gets no body, not even an error page
        await Reply(rt, http, stream, tls, http.request_method == b"HEAD").send(status, keep=False)

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
from korepyd.http.response import head_headers, reason
from korepyd.http.router import Match, Refusal, Rewrite
from korepyd.kore._constants import RESULT_OK
from korepyd.kore._request import HttpRequest
from korepyd.worker.runtime import Runtime

SEND_SIZE = 65536


async def handle(rt: Runtime, conn: h11.Connection, stream, request: h11.Request, body: bytes, server: str,
                 tls: bool) -> bool:
    """Answer one request; return whether the connection may be kept."""
    method = request.method.decode("ascii", "replace").lower()
    target = request.target.decode("latin-1")
    path, _, query = target.partition("?")
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers]
    keep = rt.config.http_keepalive_time > 0 and not rt.stopping and conn.their_http_version == b"1.1"
    router = rt.routers.get(server)
    host = next((v for n, v in headers if n == "host"), "")
    domain = router.domain(host) if router else None
    if domain is None:
        return await _send(rt, conn, stream, 404, [], b"", tls, keep=False, head=method == "head")
    outcome = domain.resolve(method, path, query)
    if isinstance(outcome, Refusal):
        return await _send(rt, conn, stream, outcome.status, [], b"", tls, keep=False, head=method == "head")
    if isinstance(outcome, Rewrite):
        extra = [("location", outcome.location)] if outcome.location is not None else []
        return await _send(rt, conn, stream, outcome.status, extra, b"", tls, keep=keep, head=method == "head")
    assert isinstance(outcome, Match)
    if isinstance(outcome.route, model.Filemap):
        return await _serve_file(rt, conn, stream, outcome.route, path, method, tls, keep)
    req = HttpRequest(method=method, path=path, query=query, headers=headers, body=body, tls=tls,
                      route=outcome.route, check=rt.validators.check)
    status, user_headers, payload = await _run_handler(rt, outcome.route, req, outcome.captures)
    return await _send(rt, conn, stream, status, user_headers, payload, tls, keep=keep and status < 500,
                       head=method == "head")


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


async def _serve_file(rt: Runtime, conn, stream, item: model.Filemap, path: str, method: str, tls: bool,
                      keep: bool) -> bool:
    config = rt.config
    found = filemap.resolve(rt.filemap_roots[item.path], item.uri, path, index=config.filemap_index,
                            ext=config.filemap_ext, types=rt.media_types)
    head = method == "head"
    if found is None:
        return await _send(rt, conn, stream, 404, [], b"", tls, keep=keep, head=head)
    if isinstance(found, filemap.FileRedirect):
        return await _send(rt, conn, stream, 302, [("location", found.location)], b"", tls, keep=keep, head=head)
    headers = [("last-modified", formatdate(found.mtime, usegmt=True))]
    if found.content_type:
        headers.append(("content-type", found.content_type))
    try:
        data = await trio.to_thread.run_sync(_read_file, found.path) if not head else b""
    except PermissionError:
        return await _send(rt, conn, stream, 403, [], b"", tls, keep=keep, head=head)
    except OSError:
        return await _send(rt, conn, stream, 404, [], b"", tls, keep=keep, head=head)
    return await _send(rt, conn, stream, 200, headers, data, tls, keep=keep, head=head, length=found.size)


def _read_file(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        return f.read()


async def _send(rt: Runtime, conn: h11.Connection, stream, status: int, user_headers, body: bytes, tls: bool, *,
                keep: bool, head: bool, length: int | None = None) -> bool:
    if length is None:
        length = None if status < 200 or status == 204 else len(body)
    try:
        headers = head_headers(rt.head, user_headers, keep_alive=keep, tls=tls, length=length)
        response = conn.send(h11.Response(status_code=status, headers=headers, reason=reason(status)))
    except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
        log.error(f"cannot send the response ({exc}); sent 500 instead")
        headers = head_headers(rt.head, [], keep_alive=False, tls=tls, length=0)
        response = conn.send(h11.Response(status_code=500, headers=headers, reason=reason(500)))
        body, keep, head = b"", False, True
    await stream.send_all(response)
    if body and not head:
        view = memoryview(body)
        for start in range(0, len(view), SEND_SIZE):
            await stream.send_all(conn.send(h11.Data(data=view[start:start + SEND_SIZE])))
    await stream.send_all(conn.send(h11.EndOfMessage()))
    return keep

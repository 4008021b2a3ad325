"""The kore app API's side of a request (Kore: python_runtime_http_request()
and the route hooks of src/http.c): the request core (core/dispatch.py)
hands it a request routed to a handler, and it runs the rest in Kore's
order. Layer: app API (kore); it imports the core, never the worker.

1. the kore request object (kore/_request.py), then
   `on_headers(req, *captures)`; returning False (or kore.RESULT_ERROR)
   ends the request: with the hook's own response, else 403;
2. the body: streamed to `on_body_chunk(req, data)` when the route has
   one, else read whole (and offloaded to a file above
   http_body_disk_offload);
3. the authentication block, if the route names one;
4. the `kore.prerequest` hooks, then the handler `handler(req, *captures)`,
   sync or `async def`;
5. the response (or the websocket the handler accepted), then
   `on_free(req)`.

Where Kore would kill the worker or leave the client hanging, korepyd
answers and logs: an exception before a response gives 500 with the
traceback in the log, a handler that returns without responding gives 500,
a sync handler that returns something other than None or RESULT_OK is
logged, and a second response() is ignored and logged.
"""

from __future__ import annotations

import inspect
import os

from korepyd import log
from korepyd.config import model
from korepyd.core.dispatch import authenticated, fail_authentication, receive_body
from korepyd.core.reply import Reply
from korepyd.core.router import Match
from korepyd.http1.events import RequestHead
from korepyd.kore._constants import RESULT_ERROR, RESULT_OK
from korepyd.kore._request import HttpRequest


def request(rt, head: RequestHead, route, connection, tls: bool, body: bytes = b"",
            body_path: str | None = None) -> HttpRequest:
    """The kore request object of a request (for a filemap's validator, also
    its body as the core read it)."""
    req = HttpRequest(method=head.method, path=head.path, query=head.query, headers=head.headers, body=body,
                      tls=tls, route=route, check=rt.check, connection=connection)
    if body_path is not None:
        req._body_path = body_path
    return req


def recorded(req: HttpRequest) -> tuple | None:
    """The response a hook or validator recorded on `req`, if it did."""
    if req.status is None:
        return None
    return req.status, req.response_headers, req.response_body or b""


async def serve(rt, reply: Reply, head: RequestHead, match: Match, body, keep: bool, tls: bool) -> bool:
    """Steps 1 to 5 for a route; whether the connection may be kept."""
    route, plain = match.route, match.plain
    req = request(rt, head, route, reply.connection, tls)
    try:
        if plain:  # the usual route: nothing to do before the handler but read the body
            if body.pending:
                req._body, req._body_path = await receive_body(rt, body)
            else:
                body.finish()
        else:
            kept = await _before_handler(rt, reply, match, req, body, keep)
            if kept is not None:
                return kept
        for hook in rt.prerequest:
            if not await _hook(rt, hook, req):
                return await _send_recorded(reply, req, default=403, keep=keep)
        try:
            running = _call_handler(rt, route, req, match.captures)  # a sync handler runs whole, here
            if running is not None:
                await running                                         # an `async def` one, to its end
            failed = False
        except Exception:
            rt.tasks.report(_where(route))
            failed = True
        status, user_headers, payload = _handler_outcome(route, req, failed=failed)
        if req.websocket is not None and status < 500:
            callbacks = tuple(rt.resolve(cb) if isinstance(cb, str) else cb for cb in req.websocket)
            return await rt.serve_websocket(reply, head, callbacks, req.response_headers)
        keep = keep and status < 500 and not reply.connection.closing
        return await reply.send(status, user_headers, payload, keep=keep)
    finally:
        if not plain and route.on_free:
            await _hook(rt, route.on_free, req)
        if req.body_path is not None:
            os.unlink(req.body_path)


async def _before_handler(rt, reply: Reply, match: Match, req: HttpRequest, body, keep: bool) -> bool | None:
    """Steps 1 to 3 for a route with hooks or authentication: None to go on
    to the handler, else whether the connection may be kept after the
    response sent instead."""
    route = match.route
    if route.on_headers:
        if not await _hook(rt, route.on_headers, req, *match.captures):
            return await _send_recorded(reply, req, default=403, keep=False)
    if route.on_body_chunk:
        chunk_hook = rt.resolve(route.on_body_chunk.name)
        async for chunk in body.chunks():
            result = chunk_hook(req, chunk)
            if inspect.isawaitable(result):
                await result
    elif body.pending:
        req._body, req._body_path = await receive_body(rt, body)
    else:
        body.finish()
    if route.authenticate and not await authenticated(rt, route.authenticate, req._headers, req):
        return await fail_authentication(rt, reply, route.authenticate, req, keep)
    return None


async def _send_recorded(reply: Reply, req: HttpRequest, *, default: int, keep: bool) -> bool:
    """What a hook recorded on `req`, else `default`."""
    answer = recorded(req)
    if answer is None:
        return await reply.send(default, keep=keep)
    return await reply.send(*answer, keep=keep)


async def _hook(rt, callback, *args) -> bool:
    """Run a route hook (a Callback) or a prerequest hook (a callable);
    False if it failed or refused the request."""
    fn = rt.resolve(callback.name) if isinstance(callback, model.Callback) else callback
    try:
        result = fn(*args)
        if result is not None and inspect.isawaitable(result):
            result = await result
    except Exception:
        rt.tasks.report(f"hook {getattr(fn, '__qualname__', fn)!r}")
        return False
    return result is not False and result != RESULT_ERROR


def _call_handler(rt, route: model.Route, req: HttpRequest, captures):
    """Call the handler: the awaitable an `async def` one gives, else None
    (a sync one that returned anything but None or RESULT_OK is logged)."""
    result = rt.resolve(route.handler.name)(req, *captures)
    if result is None or inspect.isawaitable(result):
        return result
    if result != RESULT_OK:
        log.warning(f"{_where(route)} returned {result!r}; handlers return None (ignored)")
    return None


def _handler_outcome(route: model.Route, req: HttpRequest, *, failed: bool) -> tuple[int, list, bytes]:
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

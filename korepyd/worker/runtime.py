"""The one object per worker process that everything else hangs on: its
id, its configuration, its IPC channel, its nursery, the compiled routers
and validators, and the state of a graceful stop. The `kore` module's
functions reach the worker through it (later issues add timers, tasks and
database pools here).

Layer: role (worker).
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from types import ModuleType

import trio

from korepyd import app, log
from korepyd.config import model
from korepyd.core import accesslog, params
from korepyd.core.filemap import BUILTIN_TYPES
from korepyd.core.response import http_date
from korepyd.core.router import Router
from korepyd.http1.response import HeadPolicy
from korepyd.http1.rules import Limits
from korepyd.ipc.messages import STOP_GRACE
from korepyd.kore import _adapter as kore_adapter
from korepyd.websocket import upgrade
from korepyd.worker.filerefs import FileRefs
from korepyd.worker.preload import optional
from korepyd.worker.sendfile import send_file
from korepyd.worker.tasks import Tasks

_now = time.time   # read per response: the module's attribute looked up once


@dataclass
class Runtime:
    worker_id: int
    config: model.Config
    modules: list[ModuleType]
    named: dict = field(default_factory=dict)          # the app's configured callables by name (app.Namer)
    routers: dict[str, Router] = field(default_factory=dict)
    validators: params.Validators | None = None
    head: HeadPolicy | None = None
    limits: Limits = field(default_factory=Limits)
    media_types: dict[str, str] = field(default_factory=dict)
    filemap_roots: dict[str, str] = field(default_factory=dict)
    filerefs: FileRefs = field(default_factory=FileRefs)   # the filemaps' files, held open
    channel: object = None
    nursery: trio.Nursery | None = None
    accept_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    connections_scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    idle: set = field(default_factory=set)   # cancel scopes of connections waiting for a request
    stopping: bool = False
    retiring: bool = False                   # stopping for a reload: kept-alive connections get one more request
    websocket_scopes: set = field(default_factory=set)   # one cancel scope per live websocket (STOP_GRACE)
    requests: int = 0                        # requests being handled (http_request_limit)
    authentications: dict[str, model.Authentication] = field(default_factory=dict)
    _date: tuple[int, bytes] = (0, b"")
    access_lines: dict[str, list[str]] = field(default_factory=dict)   # accesslog path -> lines to send
    tasks: Tasks = field(default_factory=Tasks)
    prerequest: list = field(default_factory=list)     # kore.prerequest hooks
    websockets: set = field(default_factory=set)       # kore.connection objects of live websockets
    pgsql_pools: dict = field(default_factory=dict)    # database name -> worker.pgsql.Pool
    tls: object = None                                 # a worker.tls.TlsState when a server uses TLS
    _resolved: dict = field(default_factory=dict)      # resolve()'s cache
    # read per request, taken from the config once: keep-alive at all, http_request_limit, the params check
    keepalive: bool = False
    request_limit: int = 0
    check: object = None
    app_api: ModuleType = kore_adapter     # serves routed requests (core/dispatch.py): Kore's app API

    @classmethod
    def build(cls, worker_id: int, config: model.Config, modules: list[ModuleType], named: dict | None = None,
              tasks: Tasks | None = None) -> Runtime:
        rt = cls(worker_id, config, modules, named or {}, tasks=tasks or Tasks())
        rt.routers = {s.name: Router([d for d in config.domains if d.attach == s.name]) for s in config.servers}
        rt.validators = params.Validators(config.validators, rt.resolve)
        rt.keepalive, rt.request_limit, rt.check = config.http_keepalive_time > 0, config.http_request_limit, \
            rt.validators.check
        rt.head = HeadPolicy(config.http_server_version.encode("latin-1", "replace"), config.http_keepalive_time,
                             config.http_hsts_enable)
        rt.limits = Limits(config.http_header_max, config.http_body_max)
        rt.authentications = {a.name: a for a in config.authentications}
        rt.media_types = dict(BUILTIN_TYPES)
        for mt in config.http_media_type:
            rt.media_types.update(dict.fromkeys(mt.extensions, mt.type))
        return rt

    def date(self) -> bytes:
        """The Date header value, formatted at most once a second."""
        now = int(_now())
        if self._date[0] != now:
            self._date = (now, http_date(now))
        return self._date[1]

    send_file = staticmethod(send_file)   # how the core's Reply sends a file (sendfile(2) where it can)

    async def serve_websocket(self, reply, head, callbacks, response_headers) -> bool:
        """Answer 101 and run the websocket an app accepted until it closes
        (Kore's checks first); the connection is not kept."""
        try:
            ws = optional("korepyd.worker.ws")  # wsproto: imported for apps with websockets (worker/preload.py)
        except RuntimeError as exc:
            log.error(str(exc))
            return await reply.send(500, keep=False)
        refused = upgrade.check(head.method, head.headers)
        if refused is not None:
            return await reply.send(refused.status, list(refused.headers), keep=False)
        session = ws.WebSocketSession(self.config.websocket_maxframe)
        extra = [(b"server", self.head.server)] + [(n.encode("latin-1"), v.encode("latin-1"))
                                                   for n, v in response_headers]
        raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in head.headers]
        await reply.stream.send_all(session.accept(b"GET", head.target.encode("latin-1"), raw, extra))
        reply.status = 101
        with trio.CancelScope() as scope:  # a stop gives a websocket STOP_GRACE, a retirement too
            if self.stopping:
                scope.deadline = trio.current_time() + STOP_GRACE
            self.websocket_scopes.add(scope)
            try:
                await ws.serve_websocket(self, reply.stream, session, reply.connection, callbacks,
                                         reply.http.upgraded_data())
            finally:
                self.websocket_scopes.discard(scope)
        return False

    def access(self, path: str, head, status: int, length: int, stream) -> None:
        """Queue an access-log line; serve.py sends them to the parent."""
        try:
            peer = getattr(stream, "transport_stream", stream).socket.getpeername()
            addr = peer[0] if isinstance(peer, tuple) else "-"
        except (AttributeError, OSError):
            addr = "-"
        self.access_lines.setdefault(path, []).append(accesslog.line(
            addr=addr, method=head.method, target=head.target, version=head.http_version.decode(), status=status,
            length=length, referer=head.header("referer"), agent=head.header("user-agent")))

    def post(self, msg) -> None:
        """Send a message to the parent without waiting (from sync code)."""
        self.tasks.spawn(self.channel_send, msg)

    async def channel_send(self, msg) -> None:
        await self.channel.send(msg)

    async def deliver_object(self, data: bytes) -> None:
        """kore.sendobj arrived: koreapp.onmsg(obj), if the app has it."""
        onmsg = app.resolve(self.modules, "koreapp.onmsg")
        if onmsg is None:
            return
        try:
            result = onmsg(pickle.loads(data))
            if hasattr(result, "__await__"):
                await result
        except Exception:
            self.tasks.report("koreapp.onmsg")

    async def dbquery(self, name: str, conninfo: str, query: str, params, binary: bool):
        pgsql = optional("korepyd.worker.pgsql")  # psycopg costs a worker 20 MB: imported for apps that query
        pool = self.pgsql_pools.get(name)
        if pool is None or pool.conninfo != conninfo:
            pool = self.pgsql_pools[name] = pgsql.Pool(conninfo, self.config.pgsql_conn_max,
                                                       self.config.pgsql_queue_limit)
        return await pgsql.query(pool, query, params, binary)

    def broadcast_local(self, src, op: int, data: bytes) -> None:
        for conn in list(self.websockets):
            if conn is not src:
                conn.websocket_send(op, data)

    def resolve(self, name: str):
        """The function kore.conf names `name` (looked up once)."""
        found = self._resolved.get(name)
        if found is None:
            found = self._resolved[name] = app.resolve(self.modules, name, self.named)
        return found

    def prepare_paths(self) -> None:
        """After privsep: real paths of the filemap directories, and the body
        offload directory (mode 0700), as the worker sees them."""
        if self.config.http_body_disk_offload:
            os.makedirs(self.config.http_body_disk_path, mode=0o700, exist_ok=True)
        for domain in self.config.domains:
            for item in domain.routes:
                if isinstance(item, model.Filemap):
                    self.filemap_roots[item.path] = os.path.realpath(item.path)

    def begin_stop(self, retire: bool = False) -> None:
        """Stop accepting and answer every request from now on with
        `Connection: close`. A stop (TERM, the parent's STOP) closes idle
        keep-alive connections at once and gives the rest STOP_GRACE. A
        retirement (the parent's RETIRE to a reload's old worker) closes no
        connection a client may be sending on: an idle keep-alive connection
        waits for its next request as usual, up to http_keepalive_time, so
        every connection gets http_keepalive_time + STOP_GRACE in all.
        Websockets get STOP_GRACE either way; a stop during a retirement
        makes it a stop."""
        now = trio.current_time()
        if not self.stopping:
            self.stopping, self.retiring = True, retire
            self.accept_scope.cancel()
            self.connections_scope.deadline = now + STOP_GRACE + (self.config.http_keepalive_time if retire else 0)
            for scope in self.websocket_scopes:
                scope.deadline = now + STOP_GRACE
            if retire:
                return
        elif retire or not self.retiring:
            return
        self.retiring = False
        for scope in list(self.idle):
            scope.cancel()
        self.connections_scope.deadline = min(self.connections_scope.deadline, now + STOP_GRACE)

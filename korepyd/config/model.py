"""The configuration as the rest of korepyd sees it: frozen values only.

A Config is what build.py makes of a kore.conf (or of a Kore 4.x app's
kore.config/kore.server/kore.domain calls). It holds plain values: no
sockets, no compiled regexes, no loggers; those are made from it by the role
that needs them. Field names are Kore's directive names, so a setting can be
found by the same string in kore.conf, the man page and this code.

The defaults of the global settings live here, on the fields, and nowhere
else; the directive table and the man page read them from here.

Names of Python callables (handlers, validators, hooks) are kept with the
place they were written (Callback), so that a name no module provides can be
reported at its line once the app is loaded.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from korepyd import __version__
from korepyd.errors import SourcePos

METHODS = ("get", "post", "put", "delete", "head", "options", "patch")
"""Every method a route can allow, in Kore's order; also the default set."""

LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"

UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
U64_MAX = 2**64 - 1


def _pos() -> SourcePos | None:
    """A field for where something was written; not part of equality."""
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Callback:
    """The name of a Python callable: `func` or `obj.method` (Kore's rule)."""

    name: str
    pos: SourcePos | None = _pos()


@dataclass(frozen=True)
class Bind:
    """A TCP listener: `bind HOST PORT [CALLBACK]`."""

    host: str
    port: str
    callback: Callback | None = None


@dataclass(frozen=True)
class UnixBind:
    """A unix-domain listener: `unix PATH [CALLBACK]`; '@' = abstract (Linux)."""

    path: str
    callback: Callback | None = None


@dataclass(frozen=True)
class Server:
    """A named group of listeners (`server NAME {}`, Kore 4.0+).

    A Kore 3.x file has no server blocks: its global `bind` lines make the
    one implicit server (`implicit=True`) every domain of the file uses.
    """

    name: str
    binds: tuple[Bind | UnixBind, ...] = ()
    tls: bool = True
    implicit: bool = False


@dataclass(frozen=True)
class Validator:
    """`validator NAME regex PATTERN` or `validator NAME function CALLBACK`."""

    name: str
    kind: str                      # "regex" or "function"
    pattern: str | None = None     # kind == "regex": a POSIX extended regex
    function: Callback | None = None


@dataclass(frozen=True)
class Authentication:
    """An `authentication NAME {}` block."""

    name: str
    type: str                      # "cookie", "header" or "request"
    value: str | None
    validator: str
    uri: str | None = None


@dataclass(frozen=True)
class Param:
    """One parameter rule: `validate [qs:]METHOD NAME VALIDATOR`.

    `qs` says the parameter comes from the query string, not the body.
    """

    method: str
    name: str
    validator: str
    qs: bool = False


@dataclass(frozen=True)
class Route:
    """A handler for a path: Kore 4.2 `route PATH {}`, and the older forms.

    `regex` is False for an exact path (one starting with '/' in a `route`,
    or any 3.x `static`) and True for a POSIX extended regex, whose capture
    groups are passed to the handler.
    """

    path: str
    regex: bool
    handler: Callback | None
    methods: tuple[str, ...] = METHODS
    params: tuple[Param, ...] = ()
    authenticate: str | None = None
    on_headers: Callback | None = None
    on_body_chunk: Callback | None = None
    on_free: Callback | None = None


@dataclass(frozen=True)
class Filemap:
    """`filemap URIROOT DIR [AUTH]`: serves files under DIR at URIROOT.

    It takes its place in the domain's route list where it was written, as
    a GET/HEAD route matching every path under URIROOT.
    """

    uri: str
    path: str
    authenticate: str | None = None


@dataclass(frozen=True)
class Redirect:
    """`redirect REGEX STATUS TARGET`, or `return REGEX STATUS` (target None)."""

    pattern: str
    status: int
    target: str | None = None


@dataclass(frozen=True)
class ClientVerify:
    """`client_verify CAFILE [CRLFILE]`."""

    ca: str
    crl: str | None = None


@dataclass(frozen=True)
class Domain:
    """A virtual host (`domain NAME {}`): a hostname or an fnmatch glob."""

    name: str
    attach: str
    certfile: str | None = None
    certkey: str | None = None
    client_verify: ClientVerify | None = None
    client_verify_depth: int = 1
    acme: bool = False
    acme_challenge: str = "tls-alpn-01"   # korepyd: or http-01
    accesslog: str | None = None
    routes: tuple[Route | Filemap, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    pos: SourcePos | None = _pos()


@dataclass(frozen=True)
class Privsep:
    """Where a process role chroots and who it runs as (`privsep ROLE {}`).

    None means "not set": the worker then uses the current directory and
    user, and keymgr and acme inherit the worker's values (Kore 4.2).
    """

    root: str | None = None
    runas: str | None = None
    skip_chroot: bool = False


@dataclass(frozen=True)
class PythonImport:
    """`python_import PATH [ONLOAD]`."""

    path: str
    onload: Callback | None = None
    pos: SourcePos | None = _pos()


@dataclass(frozen=True)
class MediaType:
    """`http_media_type TYPE EXT [EXT ...]`."""

    type: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """A whole, checked configuration."""

    # Processes.
    workers: int | None = None                      # None: one per CPU
    worker_max_connections: int = 512
    worker_rlimit_nofiles: int = 768
    worker_accept_threshold: int = 16
    worker_death_policy: str = "restart"
    worker_set_affinity: int = 1
    worker_no_accept: tuple[int, ...] = ()
    pidfile: str = "kore.pid"
    logfile: str | None = None
    socket_backlog: int = 5000
    deployment: str | None = None                   # None: the command line decides
    seccomp_tracing: bool = False
    pledge: tuple[str, ...] = ()
    file: str | None = None

    # TLS and ACME.
    tls_version: str = "both"
    tls_cipher: str | None = None
    tls_dhparam: str | None = None
    rand_file: str | None = None
    acme_email: str | None = None
    acme_provider: str = LETSENCRYPT
    acme_ca_root: str | None = None

    # HTTP.
    http_header_max: int = 4096
    http_header_timeout: int = 10
    http_body_max: int = 1024000
    http_body_timeout: int = 60
    http_hsts_enable: int = 31536000
    http_keepalive_time: int = 20
    http_request_ms: int = 10
    http_request_limit: int = 1000
    http_body_disk_offload: int = 0
    http_body_disk_path: str = "tmp_files"
    http_server_version: str = f"korepyd ({__version__})"
    http_pretty_error: bool = False
    http_media_type: tuple[MediaType, ...] = ()
    filemap_ext: str | None = None
    filemap_index: str = "index.html"

    # Websockets, PostgreSQL, background tasks, the HTTP client.
    websocket_maxframe: int = 16384
    websocket_timeout: int = 120
    pgsql_conn_max: int = 2
    pgsql_queue_limit: int = 1000
    task_threads: int = 2
    curl_timeout: int = 60
    curl_recv_max: int = 2097152

    # Python.
    python_path: tuple[str, ...] = ()
    python_import: tuple[PythonImport, ...] = ()

    # Blocks.
    servers: tuple[Server, ...] = ()
    domains: tuple[Domain, ...] = ()
    validators: tuple[Validator, ...] = ()
    authentications: tuple[Authentication, ...] = ()
    privsep_worker: Privsep = Privsep()
    privsep_keymgr: Privsep = Privsep()
    privsep_acme: Privsep = Privsep()

    def validator(self, name: str) -> Validator | None:
        """The first validator declared with `name` (Kore: first one wins)."""
        return next((v for v in self.validators if v.name == name), None)

    def callbacks(self) -> list[tuple[Callback, str]]:
        """Every Python callable the configuration names, with the Kore
        message to give when no loaded module provides it."""
        found: list[tuple[Callback, str]] = []
        for imp in self.python_import:
            if imp.onload:
                found.append((imp.onload, f"{imp.path}: onload '{imp.onload.name}' not present"))
        for v in self.validators:
            if v.function:
                found.append((v.function, f"validator {v.name} has undefined callback {v.function.name}"))
        for server in self.servers:
            for bind in server.binds:
                if bind.callback:
                    found.append((bind.callback, f"no such callback: '{bind.callback.name}'"))
        for domain in self.domains:
            for route in domain.routes:
                if isinstance(route, Route):
                    found.extend(_route_callbacks(route))
        return found


def _route_callbacks(route: Route) -> list[tuple[Callback, str]]:
    found = []
    if route.handler:
        found.append((route.handler, f"callback '{route.handler.name}' for '{route.path}' not found"))
    for hook in ("on_headers", "on_body_chunk", "on_free"):
        cb = getattr(route, hook)
        if cb:
            found.append((cb, f"{hook} callback '{cb.name}' for '{route.path}' not found"))
    return found


def setting_default(name: str):
    """The default of a global setting, read from the Config field."""
    return {f.name: f.default for f in fields(Config)}[name]

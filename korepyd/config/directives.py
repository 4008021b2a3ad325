"""The directive table: every keyword kore.conf knows, in one place.

One entry per keyword (Kore's config_directives[] and config_settings[]
together): where it may stand, its syntax, a one-line description, the Kore
versions that have it and the function that applies it to the Builder.
build.py looks keywords up here, `kore.config` (the Python API) checks its
setting names here, and the man page kore.conf(5) is generated from it.

The union of Kore's three syntax eras is accepted: 3.x (`static`,
`dynamic`, `params`, global `bind` and `root`), 4.0-4.1 (`server` blocks,
one-line `route`) and 4.2+ (`route {}` and `privsep {}` blocks). The
global settings are declared here; directives with a behaviour of their own
are declared in blocks.py, domain.py and statements.py (registry.py's
Directives) and joined here into TABLE; they never import this module.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from korepyd.config import blocks, domain, model, statements, values
from korepyd.config.build import Builder, PathRef, Problem
from korepyd.config.registry import Directive
from korepyd.config.syntax import Line

_SETTINGS: list[Directive] = []

# Keywords Kore renamed long ago; an old file gets a pointer to the new name.
RENAMED = {
    "ssl_cipher": "tls_cipher",
    "ssl_dhparam": "tls_dhparam",
    "http_postbody_max": "http_body_max",
    "require_client_cert": "client_verify",
    "bind_ssl": "bind",
}


def setting(name: str, parse: values.Parser, doc: str, *, era: str = "all", once: str | None = None,
            is_path: bool = False, arg: str | None = None) -> None:
    """Register a global setting: its value goes to the Config field `name`.

    `once` is Kore's message for a setting that may be given only once;
    `is_path` has the file it names checked on disk (files.py).
    """

    def apply(b: Builder, line: Line) -> None:
        if once and name in b.seen:
            raise Problem(once, line.args[0])
        try:
            b.settings[name] = parse(line.value)
        except values.ValueProblem as exc:
            raise Problem(str(exc), line.args[0]) from None
        b.seen.add(name)
        if is_path:
            b.paths.append(PathRef(name, line.value, line, line.args[0]))

    syntax = f"{name} {arg or parse.__doc__ or 'VALUE'}"
    _SETTINGS.append(Directive(name, syntax, "", doc, era, apply, setting=True))


_n = values.integer
U = model.UINT_MAX

# Processes.
setting("workers", _n(1, 255, "bad value for worker '{value}'"), "Number of worker processes.")
setting("worker_max_connections", _n(1, U, "bad value for worker_max_connections '{value}'"),
        "Connections a worker serves at once; it stops accepting at the limit.")
setting("worker_rlimit_nofiles", _n(1, U, "bad value for worker_rlimit_nofiles '{value}'"),
        "Open-file limit (RLIMIT_NOFILE) of each worker.")
setting("worker_accept_threshold", _n(1, U, "bad value for worker_accept_threshold '{value}'", base0=True),
        "Connections a worker accepts in one go before serving them.")
setting("worker_death_policy", values.choice(("restart", "terminate"), "bad value for worker_death_policy '{value}'"),
        "What the parent does when a worker dies: restart it, or stop the server.", era="3.3+")
setting("worker_set_affinity", _n(0, 1, "bad value for worker_set_affinity '{value}'"),
        "1 pins each worker to one CPU, 0 lets the kernel place them.")
setting("pidfile", values.text, "File the parent writes its process id to.", arg="PATH")
setting("logfile", values.text, "Append every log line to this file instead of stderr or syslog.", era="4.2+",
        is_path=True, arg="PATH")
setting("socket_backlog", _n(0, U, "bad socket_backlog value: '{value}'"),
        "listen(2) backlog of every listener (korepyd applies it wherever the line stands).")
setting("deployment", values.choice(("docker", "dev", "development", "production"),
        "kore.config.deployment: bad value '{value}'"),
        "dev/development: foreground, no chroot, no runas; docker: foreground with privsep; "
        "production: daemonize with privsep.", era="4.0+")
setting("seccomp_tracing", values.yes_no("bad seccomp_tracing value '{value}' (expected yes|no)"),
        "Accepted for compatibility; korepyd installs no seccomp filter.", era="4.0+")
setting("file", values.text, "The configuration file to read; meant for kore.config.file in a Kore 4.x app.",
        era="4.0+", arg="PATH")

# TLS and ACME.
setting("tls_version", values.choice(("1.3", "1.2", "both"), "unknown value for tls_version: {value} (use 1.3, 1.2, both)"),
        "TLS protocol versions to accept.")
setting("tls_cipher", values.text, "OpenSSL cipher list for TLS 1.2.", once="tls_cipher specified twice", arg="CIPHERS")
setting("tls_dhparam", values.text, "PEM file with Diffie-Hellman parameters for DHE ciphers.",
        once="tls_dhparam already specified", is_path=True, arg="PATH")
setting("rand_file", values.text, "A 1024-byte entropy file keymgr reads at start and rewrites.", arg="PATH")
setting("acme_email", values.text, "Contact address of the ACME account.", era="4.0+", arg="ADDRESS")
setting("acme_provider", values.text, "Directory URL of the ACME server.", era="4.0+", arg="URL")
setting("acme_ca_root", values.text, "PEM file of CA certificates to trust when talking to the ACME server "
        "(korepyd extension: private CAs and tests).", era="korepyd", arg="PATH")

# HTTP.
setting("http_header_max", _n(1, 65535, "bad http_header_max value '{value}'"), "Largest request header block, in bytes.")
setting("http_header_timeout", _n(1, 65535, "bad http_header_timeout value '{value}'"),
        "Seconds a client has to send the request headers.", era="3.3+")
setting("http_body_max", _n(0, model.LONG_MAX, "bad http_body_max value '{value}'"),
        "Largest request body, in bytes (413 above it); 0 refuses every body.")
setting("http_body_timeout", _n(1, 65535, "bad http_body_timeout value '{value}'"),
        "Seconds a client has to send the request body.", era="3.3+")
setting("http_hsts_enable", _n(0, model.LONG_MAX, "bad http_hsts_enable value '{value}'"),
        "max-age of the Strict-Transport-Security header on TLS; 0 sends none.")
setting("http_keepalive_time", _n(0, 65535, "bad http_keepalive_time value '{value}'"),
        "Seconds an idle keep-alive connection is kept; 0 disables keep-alive.")
setting("http_request_ms", _n(0, U, "bad http_request_ms value '{value}'"),
        "Milliseconds of request processing per round before other work runs.")
setting("http_request_limit", _n(0, U, "bad http_request_limit value '{value}'"),
        "Requests a worker handles at once; more get 503.")
setting("http_body_disk_offload", _n(0, model.LONG_MAX, "bad http_body_disk_offload value '{value}'"),
        "Bodies larger than this many bytes are kept in a temporary file; 0 keeps all in memory.")
setting("http_body_disk_path", values.text, "Directory for offloaded bodies (created with mode 0700).", arg="DIR")
setting("http_server_version", values.text, "Value of the Server header.", era="4.0+", arg="TEXT")
setting("http_pretty_error", values.yes_no("invalid '{value}' for yes|no http_pretty_error option"),
        "Send a small HTML page with error responses that have no body.", era="4.0+")
setting("filemap_index", values.text, "File served for a directory of a filemap.", era="3.0+", arg="NAME")
setting("filemap_ext", values.text, "Extension tried when a filemap path does not exist (e.g. .html).", era="3.0+", arg="EXTENSION")

# Websockets, PostgreSQL, tasks, HTTP client.
setting("websocket_maxframe", _n(0, model.U64_MAX, "bad kore_websocket_maxframe value '{value}'"),
        "Largest websocket frame (and reassembled message) accepted, in bytes.")
setting("websocket_timeout", _n(0, model.U64_MAX, "bad kore_websocket_timeout value '{value}'"),
        "Seconds a websocket may stay silent before it is closed.")
setting("pgsql_conn_max", _n(0, 65535, "bad value for pgsql_conn_max '{value}'"),
        "PostgreSQL connections per database per worker.")
setting("pgsql_queue_limit", _n(0, U, "bad value for pgsql_queue_limit '{value}'"),
        "Queries that may wait for a PostgreSQL connection; more fail at once.", era="3.0+")
setting("task_threads", _n(0, 255, "bad value for task_threads: '{value}'"),
        "Threads for Kore's C tasks; accepted for compatibility.")
setting("curl_timeout", _n(0, 65535, "bad kore_curl_timeout value: '{value}'"),
        "Seconds an HTTP client request may take.", era="3.3+")
setting("curl_recv_max", _n(0, model.U64_MAX, "bad curl_recv_max value '{value}'"),
        "Largest HTTP client response body, in bytes.", era="3.3+")


def _table(*directives: Directive) -> dict[str, Directive]:
    table = {}
    for d in directives:
        assert d.name not in table, f"directive {d.name} is declared twice"
        table[d.name] = d
    return table


TABLE: dict[str, Directive] = _table(*_SETTINGS, *blocks.DIRECTIVES, *statements.DIRECTIVES, *domain.DIRECTIVES)

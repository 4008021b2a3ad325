"""Error messages of the kore.conf parser, checked against Kore's wording.

One case per error message listed in section 7 ("Error messages") of
/work/shared/reference/kore-conf.md: the messages Kore prints before
"configuration error on line N", the fatal errors without a line number
that a configuration parser can produce, and the wrong-context, nesting,
duplicate and reference failures. Each case is a small configuration, the
message in Kore's words, the line it must be reported on and, where one
word is clearly at fault, the column of that word.

korepyd may append a hint to Kore's text ("(allowed: 1 to 255)", "(did you
mean ...?)"), so a case only asks that Kore's text occurs in the message of
some error diagnostic on the expected line. Kore prints some messages
without a line number (the close-time checks of a block, an unset
variable); for those the line korepyd points at is expected: the line that
opens the block, or the line that names the variable.

Callback names are resolved by korepyd.app.check() against the loaded
Python modules, not by config.loads(); those cases load the configuration
and check it against no modules at all, so that no name resolves.

Where korepyd departs from Kore on purpose (README, "Where korepyd differs
from Kore"), the tests at the end of this file say what korepyd does
instead: it accepts the directives of Kore's older syntax eras that Kore
4.2 rejects, and a known keyword with only blanks after it is a warning.

Messages of section 7 that are not tested here, and why:

* "bind(): ...", "listen(): ...": Kore binds and listens while it parses;
  korepyd opens its sockets when it boots, so a busy port is not a
  configuration error.
* "getaddrinfo(HOST): ...": the same: korepyd resolves listener addresses at
  boot, and a parse-time test must not depend on DNS.
* "PEM_read_bio_DHparams(): ...", "failed to load default DH parameters":
  they come from OpenSSL reading a DH file, not from the parser.
* "TLS not supported in this build" (and the "...: not supported" of
  tls_version, tls_cipher and tls_dhparam): only in Kore builds made with
  TLS_BACKEND=none; korepyd has a single build.
* "truncation on pledges": a fixed-size buffer of OpenBSD's pledge(2)
  promises; korepyd accepts and ignores pledge.
* "http_server_version(): http_version buffer too small": a fixed-size C
  buffer; korepyd has none.
* "stat(P): ..." and "P: <dlerror>" for `load`: Kore's native modules;
  korepyd does not load them (`load` is a warning).
* "bad value 'V' for 'NAME'": the Python/Lua kore.config API, not the file
  parser.
* "missing extensions in 'X'": unreachable from a file, because the value
  of http_media_type is trimmed before its extension list is split (a value
  without extensions gives "bad http_media_type value" instead).
* The notices ("ignoring ... on line N", the "privsep: no ... set"
  defaults): not errors.
"""

from __future__ import annotations

import re
import sys

import pytest

from korepyd import app, config
from korepyd.errors import ConfigError, Diagnostic

MISSING = "/nonexistent-korepyd-test"  # a directory that does not exist


def conf(*lines: str) -> str:
    """A configuration whose line N is lines[N - 1]."""
    return "\n".join(lines) + "\n"


def load_errors(text: str, *, env: dict[str, str] | None = None, check_files: bool = False) -> list[Diagnostic]:
    """The error diagnostics config.loads() reports for `text` (none if it loads)."""
    try:
        config.loads(text, "t.conf", env={} if env is None else env, check_files=check_files)
    except ConfigError as exc:
        return [d for d in exc.diagnostics if d.is_error]
    return []


def check_errors(text: str) -> list[Diagnostic]:
    """The diagnostics app.check() reports for `text` with no module loaded."""
    loaded = config.loads(text, "t.conf", env={}, check_files=False)
    return [d for d in app.check(loaded.config, []) if d.is_error]


def column_of(text: str, line: int, word: str) -> int:
    """The 1-based column of `word` (a whole word) on line `line` of `text`."""
    physical = text.split("\n")[line - 1]
    found = re.search(r"(?<!\S)" + re.escape(word) + r"(?!\S)", physical)
    assert found, f"test bug: {word!r} is not a word of line {line}: {physical!r}"
    return found.start() + 1


def assert_reported(diags: list[Diagnostic], text: str, message: str | None, line: int,
                    at: str | None = None, file: str = "t.conf") -> None:
    """Some error in `diags` has `message` (any message when None) on `line`,
    at the column of the word `at` when it is given."""
    column = column_of(text, line, at) if at is not None else None
    for d in diags:
        if d.pos is None or d.pos.file != file or d.pos.line != line:
            continue
        if message is not None and message not in d.message:
            continue
        if column is not None and d.pos.column != column:
            continue
        return
    want = f"{message!r} on line {line}" + (f", column {column}" if column is not None else "")
    got = "\n".join(f"  {d.pos}: {d.message}" for d in diags) or "  (no errors)"
    pytest.fail(f"expected an error {want}; got:\n{got}")


def case(id: str, text: str, message: str | None, line: int, at: str | None = None, *, check_files: bool = False):
    return pytest.param(text, message, line, at, check_files, id=id)


# A server without TLS, so that domains attached to it need no certificate.
SERVER = ("server s {", "    bind 127.0.0.1 8888", "    tls no", "}")  # lines 1-4

# Messages Kore logs before "configuration error on line N".

MISSING_ARGUMENT = [
    case("server-missing-name", conf("server {", "}"), "server context invalid", 1),
    case("server-missing-brace", conf("server s", "}"), "server context invalid", 1),
    case("server-brace-not-second", conf("server s x", "}"), "server context not opened correctly", 1),
    case("domain-missing-name", conf("domain {", "}"), "invalid domain context", 1),
    case("domain-brace-on-next-line", conf("domain *", "{", "}"), "invalid domain context", 1),
    case("domain-brace-without-space", conf("domain *{", "}"), "invalid domain context", 1),
    case("domain-brace-not-second", conf("domain * x", "}"), "domain context not opened correctly", 1),
    case("route-missing-path", conf("domain * {", "    route {", "    }", "}"), "invalid route context", 2),
    case("route-path-only", conf("domain * {", "    route /", "}"), "invalid route context", 2),
    case("privsep-missing-role", conf("privsep {", "}"), "invalid privsep context", 1),
    case("privsep-missing-brace", conf("privsep worker", "}"), "invalid privsep context", 1),
    case("privsep-brace-not-second", conf("privsep worker x", "}"), "privsep context not opened correctly", 1),
    case("authentication-missing-name", conf("authentication {", "}"), "missing name for authentication block", 1),
    # Kore says "missing name" here although the name is there; korepyd names what is missing.
    case("authentication-name-only", conf("authentication a"), "missing { for authentication block", 1),
    case("authentication-missing-brace", conf("authentication a x"), "missing { for authentication block", 1),
    case("filemap-missing-dir", conf("domain * {", "    filemap /", "}"), "missing parameters for filemap", 2),
    case("redirect-missing-target", conf("domain * {", "    redirect ^/old$ 301", "}"),
         "missing parameters for redirect", 2),
    case("return-missing-status", conf("domain * {", "    return ^/gone$", "}"), "missing parameters for return", 2),
    case("validator-missing-name", conf("validator v_id"), "missing validator name", 1),
    case("validator-missing-value", conf("validator v_id regex"), "missing validator value", 1),
    case("validate-two-args", conf("validator v regex ^x$", "domain * {", "    route / {", "        handler page",
                                   "        validate get id", "    }", "}"),
         "validate keyword needs 3 args: method param validator", 5),
    # Kore prints no message of its own for these, only the configuration error.
    case("bind-missing-port", conf("server s {", "    bind 127.0.0.1", "}"), None, 2),
    case("authentication-name-taken",
         conf("validator v regex ^x$", "authentication a {", "    authentication_type header",
              "    authentication_value x-token", "    authentication_validator v", "}",
              "authentication a {", "    authentication_type header", "    authentication_value x-token",
              "    authentication_validator v", "}"),
         None, 7),
]

BAD_NUMBER = [
    case("workers", conf("workers 0"), "bad value for worker '0'", 1, "0"),
    case("workers-trailing-comment", conf("workers 2 # two"), "bad value for worker '2 # two'", 1, "2"),
    case("worker_max_connections", conf("worker_max_connections 0"),
         "bad value for worker_max_connections '0'", 1, "0"),
    case("worker_rlimit_nofiles", conf("worker_rlimit_nofiles many"),
         "bad value for worker_rlimit_nofiles 'many'", 1, "many"),
    case("worker_accept_threshold", conf("worker_accept_threshold 0"),
         "bad value for worker_accept_threshold '0'", 1, "0"),
    case("worker_set_affinity", conf("worker_set_affinity 2"), "bad value for worker_set_affinity '2'", 1, "2"),
    case("worker_no_accept", conf("worker_no_accept 256"), "bad value for worker_no_accept '256'", 1, "256"),
    case("socket_backlog", conf("socket_backlog -1"), "bad socket_backlog value: '-1'", 1, "-1"),
    case("http_header_max", conf("http_header_max 0"), "bad http_header_max value '0'", 1, "0"),
    case("http_header_timeout", conf("http_header_timeout 0"), "bad http_header_timeout value '0'", 1, "0"),
    case("http_body_max", conf("http_body_max -1"), "bad http_body_max value '-1'", 1, "-1"),
    case("http_body_timeout", conf("http_body_timeout 0"), "bad http_body_timeout value '0'", 1, "0"),
    case("http_body_disk_offload", conf("http_body_disk_offload 1M"), "bad http_body_disk_offload value '1M'", 1,
         "1M"),
    case("http_hsts_enable", conf("http_hsts_enable -1"), "bad http_hsts_enable value '-1'", 1, "-1"),
    case("http_keepalive_time", conf("http_keepalive_time 65536"), "bad http_keepalive_time value '65536'", 1,
         "65536"),
    case("http_request_ms", conf("http_request_ms 1.5"), "bad http_request_ms value '1.5'", 1, "1.5"),
    case("http_request_limit", conf("http_request_limit -1"), "bad http_request_limit value '-1'", 1, "-1"),
    case("websocket_maxframe", conf("websocket_maxframe 16k"), "bad kore_websocket_maxframe value '16k'", 1, "16k"),
    case("websocket_timeout", conf("websocket_timeout 2m"), "bad kore_websocket_timeout value '2m'", 1, "2m"),
    case("pgsql_conn_max", conf("pgsql_conn_max 65536"), "bad value for pgsql_conn_max '65536'", 1, "65536"),
    case("pgsql_queue_limit", conf("pgsql_queue_limit -1"), "bad value for pgsql_queue_limit '-1'", 1, "-1"),
    case("task_threads", conf("task_threads 256"), "bad value for task_threads: '256'", 1, "256"),
    case("curl_timeout", conf("curl_timeout 65536"), "bad kore_curl_timeout value: '65536'", 1, "65536"),
    case("curl_recv_max", conf("curl_recv_max 2MB"), "bad curl_recv_max value '2MB'", 1, "2MB"),
    case("client_verify_depth", conf("domain * {", "    client_verify_depth -1", "}"),
         "bad client_verify_depth value: -1", 2, "-1"),
    case("redirect-status", conf("domain * {", "    redirect ^/old$ 200 /new", "}"),
         "invalid status code on redirect (200)", 2, "200"),
    case("return-status", conf("domain * {", "    return ^/gone$ 302", "}"),
         "invalid status code on return (302)", 2, "302"),
]

BAD_ENUMERATION = [
    case("tls", conf("server s {", "    tls maybe", "}"), "invalid 'maybe' for yes|no tls option", 2, "maybe"),
    case("acme", conf("domain example.com {", "    acme maybe", "}"), "invalid 'maybe' for yes|no acme option", 2,
         "maybe"),
    case("http_pretty_error", conf("http_pretty_error YES"), "invalid 'YES' for yes|no http_pretty_error option", 1,
         "YES"),
    case("seccomp_tracing", conf("seccomp_tracing on"), "bad seccomp_tracing value 'on' (expected yes|no)", 1, "on"),
    case("worker_death_policy", conf("worker_death_policy kill"), "bad value for worker_death_policy 'kill'", 1,
         "kill"),
    case("tls_version", conf("tls_version 1.1"), "unknown value for tls_version: 1.1 (use 1.3, 1.2, both)", 1,
         "1.1"),
    case("deployment", conf("deployment staging"), "kore.config.deployment: bad value 'staging'", 1, "staging"),
    case("authentication_type", conf("authentication a {", "    authentication_type basic", "}"),
         "unknown authentication type 'basic'", 2, "basic"),
    case("validator-type", conf("validator v_id glob *"), "bad type 'glob' for validator 'v_id'", 1, "glob"),
    case("privsep-role", conf("privsep root {", "}"), "unknown privsep context: root", 1, "root"),
    case("skip", conf("privsep worker {", "    skip runas", "}"), "unknown skip option 'runas'", 2, "runas"),
    case("methods", conf("domain * {", "    route / {", "        handler page", "        methods get fetch",
                         "    }", "}"),
         "unknown method: fetch in method for /", 4, "fetch"),
    case("validate-method", conf("validator v regex ^x$", "domain * {", "    route / {", "        handler page",
                                 "        validate options id v", "    }", "}"),
         "unknown method: options in validator for /", 5, "options"),
    case("validate-prefix", conf("validator v regex ^x$", "domain * {", "    route / {", "        handler page",
                                 "        validate xs:get id v", "    }", "}"),
         "unknown validate method prefix 'xs' for '/'", 5, "xs:get"),
]


def _outside(keyword_line: str, inside: str | None = None):
    """`keyword_line` at top level, or in a `domain` block when inside='domain'."""
    if inside == "domain":
        return conf("domain * {", "    " + keyword_line, "}"), 2
    return conf(keyword_line), 1


def _context_case(id: str, keyword_line: str, message: str, inside: str | None = None):
    text, line = _outside(keyword_line, inside)
    return case(id, text, message, line, keyword_line.split()[0])


WRONG_CONTEXT = [
    _context_case("unix", "unix /tmp/kore.sock", "bind_unix keyword not inside a server context"),
    _context_case("tls", "tls no", "tls keyword not inside a server context"),
    _context_case("acme", "acme yes", "acme keyword not inside a domain context"),
    _context_case("attach", "attach s", "attach keyword not in domain context"),
    _context_case("route", "route / {", "route keyword not in domain context"),
    _context_case("filemap", "filemap / files", "filemap keyword not in domain context"),
    _context_case("redirect", "redirect ^/old$ 301 /new", "redirect keyword not in domain context"),
    _context_case("return", "return ^/gone$ 410", "return keyword not in domain context"),
    _context_case("accesslog", "accesslog access.log", "accesslog not specified in domain context"),
    _context_case("certfile", "certfile cert/server.pem", "certfile keyword not specified in domain context"),
    _context_case("certkey", "certkey cert/key.pem", "certkey keyword not specified in domain context"),
    _context_case("client_verify", "client_verify ca.pem", "client_verify keyword not in domain context"),
    _context_case("client_verify_depth", "client_verify_depth 2", "client_verify_depth keyword not in domain context"),
    _context_case("handler", "handler page", "handler keyword not inside of route context", "domain"),
    _context_case("methods", "methods get", "methods keyword not inside of route context", "domain"),
    _context_case("authenticate", "authenticate a", "authenticate keyword not inside of route context", "domain"),
    _context_case("on_headers", "on_headers hook", "on_header keyword not inside of route context", "domain"),
    _context_case("on_body_chunk", "on_body_chunk hook", "on_body_chunk keyword not inside of route context",
                  "domain"),
    _context_case("on_free", "on_free hook", "on_free keyword not inside of route context", "domain"),
    _context_case("skip", "skip chroot", "skip keyword not in privsep context"),
    _context_case("authentication_type", "authentication_type header",
                  "authentication_type keyword not in correct context"),
    _context_case("authentication_value", "authentication_value x-token",
                  "authentication_value keyword not in correct context"),
    _context_case("authentication_uri", "authentication_uri /login",
                  "authentication_uri keyword not in correct context"),
    _context_case("authentication_validator", "authentication_validator v",
                  "authentication_validator not in correct context"),
    # Kore 4.2+ crashes on this line instead of reporting it (reference, section 1.9).
    case("validate-outside-route", conf("validator v regex ^x$", "domain * {", "    validate get id v", "}"), None, 3),
]

NESTING_AND_DUPLICATES = [
    case("nested-server", conf("server a {", "    server b {", "    }", "}"),
         "nested server contexts are not allowed", 2),
    case("nested-domain", conf("domain a {", "    domain b {", "    }", "}"),
         "nested domain contexts are not allowed", 2),
    case("nested-route", conf("domain * {", "    route / {", "        route /x {"),
         "nested route contexts not allowed", 3),
    case("nested-privsep", conf("privsep worker {", "    privsep keymgr {", "    }", "}"),
         "nested privsep contexts are not allowed", 2),
    case("nested-authentication", conf("authentication a {", "authentication b {"),
         "previous authentication block not closed", 2),
    case("server-name-taken", conf(*SERVER, "server s {", "    tls no", "}"), "server with name 's' exists", 5, "s"),
    case("attach-twice", conf(*SERVER, "domain * {", "    attach s", "    attach s", "}"),
         "domain '*' already attached to server", 7),
    case("attach-same-name-twice", conf(*SERVER, "domain a.example {", "    attach s", "}",
                                        "domain a.example {", "    attach s", "}"),
         "failed to attach 'a.example' to 's'", 9, "s"),
    case("attach-unknown-server", conf("domain * {", "    attach nope", "}"),
         "server 'nope' does not exist", 2, "nope"),
    case("client_verify-twice", conf("domain * {", "    client_verify ca.pem", "    client_verify ca.pem", "}"),
         "client_verify already set for '*'", 3),
    case("accesslog-twice", conf("domain * {", "    accesslog a.log", "    accesslog b.log", "}"),
         "domain '*' already has an open accesslog", 3),
    case("tls_cipher-twice", conf("tls_cipher AEAD-AES256-GCM-SHA384", "tls_cipher AEAD-AES256-GCM-SHA384"),
         "tls_cipher specified twice", 2),
    case("tls_dhparam-twice", conf("tls_dhparam dh.pem", "tls_dhparam dh.pem"), "tls_dhparam already specified", 2),
    case("media-type-extension-twice", conf("http_media_type text/x-a foo", "http_media_type text/x-b foo"),
         "duplicate extension found 'foo'", 2, "foo"),
]

REFERENCES = [
    case("validate-unknown-validator", conf("validator v_id regex ^[0-9]+$", "domain * {", "    route / {",
                                            "        handler page", "        validate get id v_idd", "    }", "}"),
         "unknown validator 'v_idd'", 5, "v_idd"),
    case("authentication_validator-unknown", conf("authentication a {", "    authentication_validator nope", "}"),
         "authentication validator 'nope' not found", 2, "nope"),
    case("authenticate-unknown", conf("domain * {", "    route / {", "        handler page",
                                      "        authenticate nope", "    }", "}"),
         "no such authentication 'nope' for '/' found", 4, "nope"),
    case("validate-method-not-enabled", conf("validator v regex ^x$", "domain * {", "    route / {",
                                             "        handler page", "        methods post",
                                             "        validate get id v", "    }", "}"),
         "method 'get' not enabled for route '/'", 6),
    case("validator-bad-regex", conf("validator v regex ([a-z"), "validator v has bad regex ([a-z", 1),
    case("route-bad-regex", conf("domain * {", "    route ^/(x {", "        handler page", "    }", "}"),
         "failed to create route handler for '^/(x'", 2, "^/(x"),
    case("redirect-bad-regex", conf("domain * {", "    redirect ^/(x 301 /y", "}"), "invalid regex on redirect path", 2,
         "^/(x"),
    case("return-bad-regex", conf("domain * {", "    return ^/(x 404", "}"), "invalid regex on return path", 2, "^/(x"),
    case("filemap-missing-dir", conf("domain * {", f"    filemap / {MISSING}/files", "}"),
         f"cannot create filemap for {MISSING}/files", 2, check_files=True),
    case("filemap-missing-dir-stat", conf("domain * {", f"    filemap / {MISSING}/files", "}"),
         f"failed to stat '{MISSING}/files'", 2, check_files=True),
    case("filemap-uriroot-without-slash", conf("domain * {", "    filemap /files files", "}"),
         "cannot create filemap for files", 2),
    case("filemap-unknown-auth", conf("domain * {", "    filemap / files nope", "}"),
         "filemap for 'files' has unknown auth 'nope'", 2, "nope"),
    case("unix-path-too-long", conf("server s {", "    unix /tmp/" + "x" * 120, "}"),
         "unix socket path '/tmp/" + "x" * 120 + "' too long", 2),
    case("accesslog-cannot-open", conf("domain * {", f"    accesslog {MISSING}/access.log", "}"),
         f"accesslog open({MISSING}/access.log)", 2, check_files=True),
    case("tls_dhparam-missing-file", conf(f"tls_dhparam {MISSING}/dh.pem"),
         f"tls_dhparam file '{MISSING}/dh.pem' not accessible", 1, check_files=True),
    case("logfile-cannot-open", conf(f"logfile {MISSING}/kore.log"), f"fopen({MISSING}/kore.log)", 1,
         check_files=True),
    case("acme-wildcard", conf("domain *.example.com {", "    acme yes", "}"),
         "wildcards not supported due to lack of dns-01", 2),
    case("domain-name-too-long", conf("domain " + "a" * 254 + " {", "}"),
         "domain name '" + "a" * 254 + "' too long", 1),
    case("media-type-without-extensions", conf("http_media_type text/x-a"), "bad http_media_type value 'text/x-a'", 1),
    # Checks Kore makes at the closing '}' and prints without a line number;
    # korepyd points at the block's opening line.
    case("authentication-without-validator", conf("authentication a {", "    authentication_type request", "}"),
         "no authentication validator for a", 1),
    case("domain-not-attached", conf("domain * {", "}"), "domain '*' not attached to server", 1),
    case("domain-incomplete-tls", conf("server s {", "    bind 127.0.0.1 8888", "}", "domain * {", "    attach s",
                                       "}"),
         "incomplete TLS setup for '*'", 4),
]


@pytest.mark.parametrize("text, message, line, at, check_files", [
    *MISSING_ARGUMENT, *BAD_NUMBER, *BAD_ENUMERATION, *WRONG_CONTEXT, *NESTING_AND_DUPLICATES, *REFERENCES,
])
def test_error_message(text, message, line, at, check_files):
    assert_reported(load_errors(text, check_files=check_files), text, message, line, at)


# Callback names, resolved by app.check() after loading.

_ROUTE = (*SERVER, "domain * {", "    attach s", "    route / {")  # the route opens on line 7

CALLBACKS = [
    pytest.param(conf(*_ROUTE, "        handler page", "    }", "}"), "callback 'page' for '/' not found", 8, "page",
                 id="handler"),
    pytest.param(conf(*_ROUTE, "        handler page", "        on_headers hdr", "    }", "}"),
                 "on_headers callback 'hdr' for '/' not found", 9, "hdr", id="on_headers"),
    pytest.param(conf(*_ROUTE, "        handler page", "        on_body_chunk chunk", "    }", "}"),
                 "on_body_chunk callback 'chunk' for '/' not found", 9, "chunk", id="on_body_chunk"),
    pytest.param(conf(*_ROUTE, "        handler page", "        on_free done", "    }", "}"),
                 "on_free callback 'done' for '/' not found", 9, "done", id="on_free"),
    pytest.param(conf("validator v function check_v"), "validator v has undefined callback check_v", 1, "check_v",
                 id="validator-function"),
    pytest.param(conf("server s {", "    bind 127.0.0.1 8888 on_connect", "    tls no", "}"),
                 "no such callback: 'on_connect'", 2, "on_connect", id="bind-callback"),
    pytest.param(conf("python_import app.py init"), "app.py: onload 'init' not present", 1, "init", id="onload"),
]


@pytest.mark.parametrize("text, message, line, at", CALLBACKS)
def test_callback_not_found(text, message, line, at):
    assert_reported(check_errors(text), text, message, line, at)


# Fatal errors without a line number in Kore, and reporting everything.

def test_all_errors_in_a_file_are_reported():
    text = conf(
        "workers 0",                      # 1
        "tls_version 1.1",                # 2
        "domain * {",                     # 3
        "    attach nope",                # 4
        "    route / {",                  # 5
        "        handler page",           # 6
        "        methods get fetch",      # 7
        "    }",                          # 8
        "}",                              # 9
        "http_pretty_error YES",          # 10
    )
    diags = load_errors(text)
    assert_reported(diags, text, "bad value for worker '0'", 1)
    assert_reported(diags, text, "unknown value for tls_version: 1.1", 2)
    assert_reported(diags, text, "server 'nope' does not exist", 4)
    assert_reported(diags, text, "unknown method: fetch in method for /", 7)
    assert_reported(diags, text, "invalid 'YES' for yes|no http_pretty_error option", 10)
    assert len({d.pos.line for d in diags if d.pos}) >= 5


def test_unset_variable():
    text = conf("workers $NOPE")
    assert_reported(load_errors(text, env={}), text, "variable $NOPE does not exist", 1)


def test_variable_in_a_block_opener_names_the_rest_of_the_line():
    # `domain $D {` looks up a variable called "D {" (reference, section 1.5).
    text = conf("domain $D {", "}")
    assert_reported(load_errors(text, env={"D": "example.com"}), text, "variable $D { does not exist", 1)


def test_include_of_a_missing_file():
    text = conf("workers 2", f"include {MISSING}/other.conf")
    assert_reported(load_errors(text), text, f"failed to open include '{MISSING}/other.conf'", 2)


def test_errors_in_an_included_file_name_that_file_and_its_own_lines(tmp_path):
    included = tmp_path / "inc.conf"
    included.write_text(conf("# included", "workers 0"))
    text = conf("# main", "# file", f"include {included}")
    assert_reported(load_errors(text), included.read_text(), "bad value for worker '0'", 2, "0", file=str(included))


def test_configuration_file_that_cannot_be_opened():
    path = f"{MISSING}/kore.conf"
    with pytest.raises(ConfigError) as info:
        config.load(path, env={}, check_files=False)
    messages = [d.message for d in info.value.diagnostics if d.is_error]
    assert any(f"configuration given cannot be opened: {path}" in m for m in messages), messages


def test_python_import_that_fails(tmp_path, monkeypatch):
    module = tmp_path / "broken_app_for_korepyd_test.py"
    module.write_text("def page(req:\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    text = conf(f"python_import {module}")
    loaded = config.loads(text, "t.conf", env={}, check_files=False)
    modules, problems = app.load_modules(loaded.config)
    assert modules == []
    assert_reported(problems, text, f"{module}: failed to import module", 1)


# Deliberate departures from Kore 4.2's verdicts.

OLDER_ERAS = [
    pytest.param(conf("domain * {", "    route / page", "}"), id="route-one-line-4.0"),
    pytest.param(conf("bind 127.0.0.1 8888"), id="bind-top-level-3.x"),
    pytest.param(conf("root /var/empty"), id="root-top-level-3.x"),
    pytest.param(conf("runas nobody"), id="runas-top-level-3.x"),
    pytest.param(conf("domain * {", "    static / page", "}"), id="static-3.x"),
    pytest.param(conf("domain * {", "    dynamic ^/.*$ page", "}"), id="dynamic-3.x"),
]


@pytest.mark.parametrize("text", OLDER_ERAS)
def test_older_era_directives_are_accepted(text):
    errors = [d for d in load_errors(text) if "not attached" not in d.message]
    assert errors == []


@pytest.mark.parametrize("text, line", [
    pytest.param(conf("domain * {", "    client_verify   ", "}"), 2, id="client_verify"),
    pytest.param(conf("domain * {", "    route / {", "        handler page", "        methods   ", "    }", "}"), 4,
                 id="methods"),
    pytest.param(conf("server s {", "    unix   ", "}"), 2, id="unix"),
    pytest.param(conf("python_import   "), 1, id="python_import"),
])
def test_keyword_with_only_blanks_is_a_warning(text, line):
    try:
        warnings = config.loads(text, "t.conf", env={}, check_files=False).warnings
    except ConfigError as exc:
        warnings = exc.diagnostics
    assert any(d.severity == "warning" and "no value given" in d.message and d.pos.line == line for d in warnings)

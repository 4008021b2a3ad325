"""Directives inside `domain {}` and `route {}` blocks (Kore: the
configure_*() functions for domains and routes in src/config.c, plus the
Kore 3.x `static`, `dynamic` and `restrict`).

Routes of every era end up as model.Route: a 4.2 `route PATH {}` block, a
4.0/4.1 `route PATH HANDLER [AUTH]` line and a 3.x `static`/`dynamic`
line. A 3.x `dynamic` path is always a regex, even when it starts with '/'
(`dynamic /.* page` matches every path), as it was in Kore 3.x.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from dataclasses import replace

from korepyd.config import model
from korepyd.config.blocks import add_route, find_route, parse_param_method
from korepyd.config.build import Block, Builder, PathRef, Problem, suggest
from korepyd.config.regex import RegexProblem, compile_posix
from korepyd.config.registry import Directives
from korepyd.config.statements import callback
from korepyd.config.syntax import Line, Word

DIRECTIVES = Directives()
directive = DIRECTIVES.declare


def _domain(b: Builder, keyword: str, message: str | None = None) -> Block:
    return b.require("domain", message or f"{keyword} keyword not in domain context")


def _set(block: Block, **changes) -> None:
    block.obj = replace(block.obj, **changes)


@directive("attach", "attach SERVER", "The server whose listeners serve this domain.", context="domain", era="4.0+")
def attach(b: Builder, line: Line) -> None:
    domain = _domain(b, "attach")
    name, word = line.value, line.args[0]
    if domain.obj.attach:
        raise Problem(f"domain '{domain.obj.name}' already attached to server", word)
    if name not in b.servers:
        domain.broken = True  # kept out of the model: no "not attached" error too
        raise Problem(f"server '{name}' does not exist{suggest(name, list(b.servers))}", word)
    if any(d.name == domain.obj.name and d.attach == name for d in b.domains):
        domain.broken = True
        raise Problem(f"failed to attach '{domain.obj.name}' to '{name}' (the server already has this domain)", word)
    _set(domain, attach=name)


@directive("certfile", "certfile PATH", "The certificate chain (PEM), read by keymgr.", context="domain")
def certfile(b: Builder, line: Line) -> None:
    _set(_domain(b, "certfile", "certfile keyword not specified in domain context"), certfile=line.value)


@directive("certkey", "certkey PATH", "The private key (PEM), read by keymgr.", context="domain")
def certkey(b: Builder, line: Line) -> None:
    _set(_domain(b, "certkey", "certkey keyword not specified in domain context"), certkey=line.value)


@directive("client_verify", "client_verify CAFILE [CRLFILE]",
           "Require client certificates signed by CAFILE; requests without one get 403.", context="domain",
           era="3.1+")
def client_verify(b: Builder, line: Line) -> None:
    domain = _domain(b, "client_verify")
    if domain.obj.client_verify is not None:
        raise Problem(f"client_verify already set for '{domain.obj.name}'", line.args[0])
    crl = line.args[1].text if len(line.args) > 1 else None
    _set(domain, client_verify=model.ClientVerify(line.args[0].text, crl))


directive("client_certificates", "client_certificates CAFILE [CRLFILE]", "Kore 1.2.3-3.0 name of client_verify.",
          context="domain", era="-3.0")(client_verify)


@directive("client_verify_depth", "client_verify_depth N", "Longest client certificate chain accepted (default 1).",
           context="domain", era="3.0+")
def client_verify_depth(b: Builder, line: Line) -> None:
    domain = _domain(b, "client_verify_depth")
    text = line.value
    if not text.isdigit() or int(text) > model.INT_MAX:
        raise Problem(f"bad client_verify_depth value: {text}", line.args[0])
    _set(domain, client_verify_depth=int(text))


@directive("acme", "acme yes|no", "Obtain and renew this domain's certificate from the ACME server.",
           context="domain", era="4.0+")
def acme(b: Builder, line: Line) -> None:
    domain = _domain(b, "acme", "acme keyword not inside a domain context")
    if line.value not in ("yes", "no"):
        raise Problem(f"invalid '{line.value}' for yes|no acme option", line.args[0])
    if line.value == "no":
        _set(domain, acme=False)
        return
    name = domain.obj.name
    if "*" in name or "?" in name or "[" in name:
        raise Problem("wildcards not supported due to lack of dns-01", line.args[0])
    # Kore: acme yes points certfile/certkey at the ACME store; later lines may override.
    _set(domain, acme=True, certfile=f"certificates/{name}/fullchain.pem", certkey=f"certificates/{name}/key.pem")


@directive("acme_challenge", "acme_challenge tls-alpn-01|http-01",
           "How the ACME server validates this domain: tls-alpn-01 (the default, as Kore) on the TLS listener, or "
           "http-01 on a plain HTTP listener (korepyd extension).", context="domain", era="korepyd")
def acme_challenge(b: Builder, line: Line) -> None:
    domain = _domain(b, "acme_challenge")
    if line.value not in ("tls-alpn-01", "http-01"):
        raise Problem(f"invalid acme_challenge '{line.value}': tls-alpn-01 or http-01", line.args[0])
    _set(domain, acme_challenge=line.value)


@directive("accesslog", "accesslog PATH", "Append one line per request to PATH (written by the parent).",
           context="domain")
def accesslog(b: Builder, line: Line) -> None:
    domain = _domain(b, "accesslog", "accesslog not specified in domain context")
    if domain.obj.accesslog is not None:
        raise Problem(f"domain '{domain.obj.name}' already has an open accesslog", line.args[0])
    _set(domain, accesslog=line.value)
    b.paths.append(PathRef("accesslog", line.value, line, line.args[0]))


@directive("filemap", "filemap URIROOT DIR [AUTH]",
           "Serve the files under DIR at URIROOT (GET and HEAD). As in Kore, a worker holds a served file open "
           "while its name names the same file, and closes it after 30 s unread.",
           context="domain", era="3.0+")
def filemap(b: Builder, line: Line) -> None:
    domain = _domain(b, "filemap")
    if len(line.args) < 2:
        raise Problem("missing parameters for filemap")
    uri, path = line.args[0], line.args[1]
    if not (uri.text.startswith("/") and uri.text.endswith("/")):
        raise Problem(f"cannot create filemap for {path.text}: URIROOT '{uri.text}' must start and end with '/'", uri)
    auth = None
    if len(line.args) > 2:
        auth = b.known_authentication(line.args[2], f"filemap for '{path.text}' has unknown auth '{line.args[2].text}'")
    _set(domain, routes=domain.obj.routes + (model.Filemap(uri.text, path.text, auth),))
    b.paths.append(PathRef("filemap", path.text, line, path))


def _rule(b: Builder, line: Line, keyword: str, need: int, low: int, high: int) -> tuple[str, int]:
    """The REGEX and STATUS of a `redirect` or `return` line."""
    if len(line.args) < need:
        raise Problem(f"missing parameters for {keyword}")
    pattern, status = line.args[0], line.args[1]
    if not status.text.isdigit() or not low <= int(status.text) <= high:
        raise Problem(f"invalid status code on {keyword} ({status.text}): use {low} to {high}", status)
    try:
        compile_posix(pattern.text)
    except RegexProblem as exc:
        raise Problem(f"invalid regex on {keyword} path: {exc}", pattern) from None
    if len(line.args) > need:
        b.warn(f"extra words after '{line.args[need - 1].text}' are ignored", line, line.args[need])
    return pattern.text, int(status.text)


@directive("redirect", "redirect REGEX STATUS TARGET",
           "Answer matching paths with STATUS (300-399) and Location TARGET ($1..$15, $qs).", context="domain",
           era="4.0+")
def redirect(b: Builder, line: Line) -> None:
    domain = _domain(b, "redirect")
    pattern, status = _rule(b, line, "redirect", 3, 300, 399)
    _set(domain, redirects=domain.obj.redirects + (model.Redirect(pattern, status, line.args[2].text),))


@directive("return", "return REGEX STATUS", "Answer matching paths with STATUS (400-600) and no body.",
           context="domain", era="4.0+")
def return_(b: Builder, line: Line) -> None:
    domain = _domain(b, "return")
    pattern, status = _rule(b, line, "return", 2, 400, 600)
    _set(domain, redirects=domain.obj.redirects + (model.Redirect(pattern, status),))


def _page(regex: bool):
    """Kore 3.x `static PATH HANDLER [AUTH]` and `dynamic REGEX HANDLER [AUTH]`."""

    def apply(b: Builder, line: Line) -> None:
        domain = _domain(b, line.keyword, "page handler not specified in domain context")
        if len(line.args) < 2:
            raise Problem("missing parameters for page handler")
        path = line.args[0]
        if regex:
            try:
                compile_posix(path.text)
            except RegexProblem as exc:
                raise Problem(f"cannot create handler for {path.text}: {exc}", path) from None
        auth = None
        if len(line.args) > 2:
            auth = b.known_authentication(line.args[2], f"no such authentication '{line.args[2].text}' "
                                                        f"for '{path.text}' found")
        add_route(b, domain, line, path.text, regex=regex, handler=line.args[1], auth=auth)

    return apply


directive("static", "static PATH HANDLER [AUTH]", "Kore 3.x: a handler for exactly PATH.", context="domain",
          era="-3.3")(_page(regex=False))
directive("dynamic", "dynamic REGEX HANDLER [AUTH]", "Kore 3.x: a handler for paths matching REGEX.",
          context="domain", era="-3.3")(_page(regex=True))


@directive("restrict", "restrict PATH METHOD ...", "Kore 3.1-4.1: the methods an earlier handler of PATH allows.",
           context="domain", era="3.1-4.1")
def restrict(b: Builder, line: Line) -> None:
    domain = _domain(b, "restrict", "restrict not used in domain context")
    if len(line.args) < 2:
        raise Problem(f"bad restrict option '{line.value}', missing methods")
    path = line.args[0].text
    index = find_route(domain, path)
    if index is None:
        raise Problem(f"bad restrict option handler '{path}' not found", line.args[0])
    methods = _methods(line.args[1:], "restrict", path)
    routes = list(domain.obj.routes)
    routes[index] = replace(routes[index], methods=methods)
    _set(domain, routes=tuple(routes))


def _methods(words: tuple[Word, ...], where: str, path: str) -> tuple[str, ...]:
    found = []
    for word in words:
        method = word.text.lower()
        if method not in model.METHODS:
            raise Problem(f"unknown method: {word.text} in {where} for {path}", word)
        if method not in found:
            found.append(method)
    return tuple(m for m in model.METHODS if m in found)


# -- route blocks -------------------------------------------------------


def _route(b: Builder, keyword: str) -> Block:
    return b.require("route", f"{keyword} keyword not inside of route context")


def _hook(name: str, kore_name: str):
    def apply(b: Builder, line: Line) -> None:
        _set(_route(b, kore_name), **{name: callback(line, 0)})

    return apply


directive("handler", "handler CALLBACK", "The Python function that answers the route.", context="route",
          era="4.2+")(_hook("handler", "handler"))
directive("on_headers", "on_headers CALLBACK", "Called once the request headers are in, before the body.",
          context="route", era="4.2+")(_hook("on_headers", "on_header"))
directive("on_body_chunk", "on_body_chunk CALLBACK", "Called with each piece of the body instead of buffering it.",
          context="route", era="4.2+")(_hook("on_body_chunk", "on_body_chunk"))
directive("on_free", "on_free CALLBACK", "Called when the request is done.", context="route", era="4.2+")(
    _hook("on_free", "on_free"))


@directive("methods", "methods METHOD ...", "The methods the route allows (default: all).", context="route",
           era="4.2+")
def methods(b: Builder, line: Line) -> None:
    route = _route(b, "methods")
    if len(line.args) > 9:
        b.warn("only the first 9 methods are read", line, line.args[9])
    _set(route, methods=_methods(line.args[:9], "method", route.obj.path))


@directive("authenticate", "authenticate AUTH", "Run the authentication block AUTH before the handler.",
           context="route", era="4.2+")
def authenticate(b: Builder, line: Line) -> None:
    route = _route(b, "authenticate")
    word = line.args[0]
    name = b.known_authentication(word, f"no such authentication '{word.text}' for '{route.obj.path}' found")
    _set(route, authenticate=name)


@directive("validate", "validate [qs:]METHOD PARAM VALIDATOR  (before 4.2, in params: validate PARAM VALIDATOR)",
           "Keep parameter PARAM of METHOD requests only if VALIDATOR accepts it.", context="route")
def validate(b: Builder, line: Line) -> None:
    if b.current("route") is None and b.current("params") is not None:
        _validate_params(b, line)
        return
    route = _route(b, "validate")
    args = line.args
    if len(args) < 3:
        raise Problem("validate keyword needs 3 args: method param validator")
    if len(args) > 3:
        b.warn(f"extra words after '{args[2].text}' are ignored", line, args[3])
    path = route.obj.path
    method, qs = parse_param_method(args[0], path, "validator")
    if method not in route.obj.methods:
        raise Problem(f"method '{method}' not enabled for route '{path}' (a narrowing 'methods' line must come "
                      "before 'validate')", args[0])
    param = model.Param(method, args[1].text, b.known_validator(args[2]), qs)
    _set(route, params=route.obj.params + (param,))


def _validate_params(b: Builder, line: Line) -> None:
    """Kore 3.x-4.1: `validate PARAM VALIDATOR` inside `params METHOD PATH {`."""
    block = b.current("params")
    if len(line.args) < 2:
        raise Problem("validate in a params block needs 2 args: param validator")
    param_name, validator_word = line.args[0], line.args[1]
    validator = b.known_validator(validator_word)
    if block.broken:
        return
    index, method, qs = block.obj
    domain = _domain(b, "validate")
    routes = list(domain.obj.routes)
    routes[index] = replace(routes[index], params=routes[index].params + (
        model.Param(method, param_name.text, validator, qs),))
    _set(domain, routes=tuple(routes))

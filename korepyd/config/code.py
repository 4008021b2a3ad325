"""Configuration written in Python by a Kore 4.x app: kore.config.<setting>,
kore.server(), kore.domain(), domain.route(), @kore.route, domain.filemaps(),
domain.redirect() and kore.privsep() (Kore: src/python.c, python_kore_*).

They write into the same Builder a kore.conf feeds, through the same
directive table, so a setting is checked the same way whichever way it was
given, and a configuration file named by kore.config.file (or -c) is read
after the code, on top of it, as in Kore. Like Kore, routes are installed
after configure() and the file, and filemaps at once (so filemaps match
first).

Python callables become names (`func` or `obj.method`, Kore's rule) given
by the `namer` the app loader hands in; a worker, which imports the app
itself, finds them again by those names.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from korepyd import log
from korepyd.config import model
from korepyd.config.build import Builder, Problem
from korepyd.config.regex import RegexProblem, compile_posix
from korepyd.config.syntax import Line, Word
from korepyd.errors import Diagnostic

Namer = Callable[[Callable], str]
SOURCE = "<kore.config>"

# Keywords korepyd's table has as directives that Kore 4.x's kore.config also
# takes (the 4.0-4.1 privsep globals, http_media_type, worker_no_accept,
# pledge): they apply as the kore.conf line would.
CONFIG_DIRECTIVES = ("root", "runas", "keymgr_root", "keymgr_runas", "acme_root", "acme_runas",
                     "http_media_type", "worker_no_accept", "pledge")


class ConfigApiError(RuntimeError):
    """A kore.server()/kore.domain()/... call Kore would refuse."""


class CodeConfig:
    def __init__(self, builder: Builder, namer: Namer):
        self.b = builder
        self.namer = namer
        self._routes: list[tuple[int, str, Callable, dict]] = []   # deferred, as in Kore
        self._seq = 0

    # -- kore.config.<name> = value -----------------------------------------

    def set(self, name: str, value: Any) -> None:
        from korepyd.config.directives import TABLE

        directive = TABLE.get(name)
        if name == "pledge":
            log.info("kore.config.pledge: pledge(2) exists on OpenBSD only; ignored, as Kore does on Linux")
        if directive is None or not (directive.setting or name in CONFIG_DIRECTIVES):
            if directive is not None:
                raise ConfigApiError(f"kore.config.{name}: a directive, not a setting; use it in kore.conf")
            self.b.diagnostics.append(Diagnostic("warning", f"ignoring unknown kore.config.{name} setting"))
            return
        if isinstance(value, bool):
            text = "yes" if value else "no"  # Kore passes "True", which no yes/no setting accepts
        elif isinstance(value, (int, str)):
            text = str(value)
        else:
            raise ConfigApiError(f"kore.config.{name}: invalid object, config expects integer, bool or string")
        try:
            directive.apply(self.b, self._line(name, text))
        except Problem as problem:
            raise ConfigApiError(f"bad value '{text}' for '{name}': {problem.message}") from None

    # -- kore.server(), kore.privsep() ---------------------------------------

    def server(self, name: str = "default", *, ip: str | None = None, port: str | None = None,
               path: str | None = None, tls: bool = True) -> None:
        if ip is None and path is None:
            raise ConfigApiError("missing ip or path keywords")
        if ip is not None and path is not None:
            raise ConfigApiError("ip/path are exclusive")
        if ip is not None and not isinstance(port, str):
            raise ConfigApiError("missing or invalid 'port' keyword")
        if name in self.b.servers:
            raise ConfigApiError(f"server '{name}' already exist")
        bind = model.Bind(ip, port) if ip is not None else model.UnixBind(path)
        self.b.servers[name] = model.Server(name, (bind,), tls=bool(tls))

    def privsep(self, role: str, *, root: str | None = None, runas: str | None = None, skip=()) -> None:
        if role not in ("worker", "keymgr", "acme"):
            raise ConfigApiError(f"unknown privsep process '{role}'")
        if any(s != "chroot" for s in skip):
            raise ConfigApiError("skip only takes [\"chroot\"]")
        current = self.b.privsep.get(role, model.Privsep())
        self.b.privsep[role] = replace(current, root=root or current.root, runas=runas or current.runas,
                                       skip_chroot=current.skip_chroot or "chroot" in skip)

    # -- kore.domain() ---------------------------------------------------------

    def domain(self, name: str, *, attach: str = "default", cert: str | None = None, key: str | None = None,
               acme: bool = False, client_verify: str | None = None, verify_depth: int | None = None,
               crl: str | None = None) -> int:
        """Add a domain; return its index (the handle kore.domain objects keep)."""
        server = self.b.servers.get(attach)
        if server is None:
            raise ConfigApiError(f"server '{attach}' does not exist")
        if any(d.name == name and d.attach == attach for d in self.b.domains):
            raise ConfigApiError("domain exists")
        domain = model.Domain(name, attach)
        if server.tls:
            if acme:
                if any(c in name for c in "*?["):
                    raise ConfigApiError("wildcards not supported due to lack of dns-01")
                domain = replace(domain, acme=True, certfile=f"certificates/{name}/fullchain.pem",
                                 certkey=f"certificates/{name}/key.pem")
            elif not (cert and key):
                raise ConfigApiError("missing key or cert keywords for TLS listener")
            else:
                domain = replace(domain, certfile=cert, certkey=key)
            if client_verify:
                if not isinstance(verify_depth, int) or verify_depth < 0:
                    raise ConfigApiError("invalid depth")
                domain = replace(domain, client_verify=model.ClientVerify(client_verify, crl),
                                 client_verify_depth=verify_depth)
        self.b.domains.append(domain)
        return len(self.b.domains) - 1

    def filemaps(self, index: int, maps: dict) -> None:
        for uri, target in maps.items():
            auth = None
            if isinstance(target, tuple):
                target, auth = target[0], self._auth(target[1])
            elif not isinstance(target, str):
                raise ConfigApiError("filemap value can be either be a string or tuple")
            if not (uri.startswith("/") and uri.endswith("/")):
                raise ConfigApiError(f"filemap '{uri}' must start and end with '/'")
            self._update(index, routes=self.b.domains[index].routes + (model.Filemap(uri, target, auth),))

    def redirect(self, index: int, pattern: str, status: int, target: str) -> None:
        if not isinstance(status, int) or not 300 <= status <= 399:
            raise ConfigApiError(f"invalid status code on redirect ({status})")
        _check_regex(pattern, "invalid regex on redirect path")
        self._update(index, redirects=self.b.domains[index].redirects + (model.Redirect(pattern, status, target),))

    def accesslog(self, index: int, path: str) -> None:
        if self.b.domains[index].accesslog is not None:
            raise ConfigApiError(f"domain {self.b.domains[index].name} accesslog already set")
        self._update(index, accesslog=path)

    # -- routes ------------------------------------------------------------------

    def route(self, index: int | None, path: str, handler: Callable, options: dict) -> None:
        """Queue a route; `index` None means "the one domain there is"."""
        if not callable(handler):
            raise ConfigApiError(f"route '{path}': the handler is not callable")
        self._routes.append((index, path, handler, options))

    def install_routes(self) -> None:
        """After configure() and the file (Kore: routes are installed last)."""
        for index, path, handler, options in self._routes:
            if index is None:
                index = self._only_domain(options.get("domain"))
            route = self._make_route(path, handler, options)
            self._update(index, routes=self.b.domains[index].routes + (route,))
        self._routes.clear()

    def name_routes(self) -> None:
        """A worker's replay: name each queued route's callables, in the order
        install_routes() does, without building anything."""
        for _, path, handler, options in self._routes:
            self._make_route(path, handler, options)
        self._routes.clear()

    def _only_domain(self, name: str | None) -> int:
        if name is not None:
            found = [i for i, d in enumerate(self.b.domains) if d.name == name]
            if not found:
                raise ConfigApiError(f"domain '{name}' does not exist")
            return found[0]
        if not self.b.domains:
            raise ConfigApiError("no domains configured, cannot install @kore.route routes")
        if len(self.b.domains) > 1:
            raise ConfigApiError("ambiguous domain on route, please specify one (domain=...)")
        return 0

    def _make_route(self, path: str, handler: Callable, options: dict) -> model.Route:
        regex = not path.startswith("/")
        if regex:
            _check_regex(path, f"failed to create route handler for '{path}'")
        methods = options.get("methods")
        params: list[model.Param] = []
        if methods is not None:
            if not isinstance(methods, (list, tuple)):
                raise ConfigApiError("methods not a list")
            for m in methods:
                if not isinstance(m, str) or m.lower() not in model.METHODS:
                    raise ConfigApiError(f"unknown HTTP method: {m}")
            for m in methods:
                params += self._params(m.lower(), options.get(m, {}), qs=m.lower() == "get")
                params += self._params(m.lower(), options.get("qs", {}), qs=True)
            methods = tuple(x for x in model.METHODS if x in {m.lower() for m in methods} |
                            ({"head"} if any(m.lower() == "get" for m in methods) else set()))
        hooks = options.get("hooks", {})
        return model.Route(path, regex, self._callback(handler), methods or model.METHODS, tuple(params),
                           self._auth(options["auth"]) if options.get("auth") else None,
                           *(self._callback(hooks[h]) if hooks.get(h) else None
                             for h in ("on_headers", "on_body_chunk", "on_free")))

    def _params(self, method: str, rules: dict, *, qs: bool) -> list[model.Param]:
        return [model.Param(method, name, self._validator(check), qs) for name, check in rules.items()]

    def _validator(self, check) -> str:
        self._seq += 1
        name = f"(python validator {self._seq})"
        if isinstance(check, str):
            _check_regex(check, f"bad regex validator {check!r}")
            self.b.validators.append(model.Validator(name, "regex", pattern=check))
        elif callable(check):
            self.b.validators.append(model.Validator(name, "function", function=self._callback(check)))
        else:
            raise ConfigApiError("a validator is a regex (str) or a callable")
        return name

    def _auth(self, spec: dict) -> str:
        if not isinstance(spec, dict) or spec.get("type") not in ("cookie", "header") or not spec.get("value") \
                or not callable(spec.get("verify")):
            raise ConfigApiError("auth needs type (cookie or header), value and a callable verify")
        self._seq += 1
        name = f"(python auth {self._seq})"
        self.b.authentications[name] = model.Authentication(name, spec["type"], spec["value"],
                                                            self._validator(spec["verify"]), spec.get("redirect"))
        return name

    def _callback(self, fn: Callable) -> model.Callback:
        return model.Callback(self.namer(fn))

    def _update(self, index: int, **changes) -> None:
        self.b.domains[index] = replace(self.b.domains[index], **changes)

    def _line(self, name: str, value: str) -> Line:
        text = f"{name} {value}"
        words = (Word(name, 1),) + tuple(Word(w, text.index(w, len(name)) + 1) for w in value.split())
        return Line(SOURCE, 0, text, words if value else (Word(name, 1),), value)


def _check_regex(pattern: str, message: str) -> None:
    try:
        compile_posix(pattern)
    except RegexProblem as exc:
        raise ConfigApiError(f"{message}: {exc}") from None


"""kore.server(), kore.domain(), @kore.route, kore.privsep() and the
kore.domain object (Kore: python_kore_server(), python_kore_domain(),
pydomain_* in src/python.c). They only record what to build; the parent
builds the configuration from it after configure() (config/code.py), and
a worker's replay of the same calls names the same callables (app.Namer).

Layer: app API (kore).
"""

from __future__ import annotations

from korepyd.kore import _state


def _code(what: str):
    """Where configuration calls go: the parent's configuration while it
    configures, or the one a worker's replay makes (nobody reads it; it
    names the callables again); an error once configuration is over."""
    if _state.phase in (_state.CONFIGURING, _state.REPLAYING):
        return _state.code
    raise RuntimeError(f"{what} is only possible while the app configures (at import or in configure())")


def server(*_ignored, name: str = "default", ip: str | None = None, port: str | None = None,
           path: str | None = None, tls: bool = True) -> None:
    """Declare a listener group (positional arguments are ignored, as in Kore)."""
    _code("kore.server()").server(name, ip=ip, port=port, path=path, tls=tls)


def privsep(role: str, *, root: str | None = None, runas: str | None = None, skip=()) -> None:
    _code("kore.privsep()").privsep(role, root=root, runas=runas, skip=skip)


class domain:
    """kore.domain(name, attach=, cert=, key=, acme=, client_verify=, verify_depth=, crl=)."""

    def __init__(self, name: str, **options):
        self.name = name
        self._index = _code("kore.domain()").domain(name, **options)

    def route(self, path: str, handler, **options) -> None:
        _code("domain.route()").route(self._index, path, handler, options)

    def filemaps(self, maps: dict) -> None:
        _code("domain.filemaps()").filemaps(self._index, maps)

    def redirect(self, pattern: str, status: int, target: str) -> None:
        _code("domain.redirect()").redirect(self._index, pattern, status, target)

    @property
    def accesslog(self):
        raise AttributeError("kore.domain.accesslog can only be written")

    @accesslog.setter
    def accesslog(self, path: str) -> None:
        _code("domain.accesslog").accesslog(self._index, path)


def route(path: str, **options):
    """@kore.route(path, methods=..., domain=...): register the function."""

    def register(handler):
        _code("@kore.route").route(None, path, handler, options)
        return handler

    return register

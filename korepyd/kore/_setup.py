"""kore.server(), kore.domain(), @kore.route, kore.privsep() and the
kore.domain object (Kore: python_kore_server(), python_kore_domain(),
pydomain_* in src/python.c). They only record what to build; the parent
builds the configuration from it after configure() (config/code.py).

Layer: app API (kore).
"""

from __future__ import annotations

from korepyd.kore import _state


def _configuring(what: str) -> bool:
    """True while the parent configures; False (do nothing) while a worker
    re-imports the app; an error once configuration is over."""
    if _state.phase == _state.CONFIGURING:
        return True
    if _state.phase == _state.REPLAYING:
        return False
    raise RuntimeError(f"{what} is only possible while the app configures (at import or in configure())")


def server(*_ignored, name: str = "default", ip: str | None = None, port: str | None = None,
           path: str | None = None, tls: bool = True) -> None:
    """Declare a listener group (positional arguments are ignored, as in Kore)."""
    if _configuring("kore.server()"):
        _state.code.server(name, ip=ip, port=port, path=path, tls=tls)


def privsep(role: str, *, root: str | None = None, runas: str | None = None, skip=()) -> None:
    if _configuring("kore.privsep()"):
        _state.code.privsep(role, root=root, runas=runas, skip=skip)


class domain:
    """kore.domain(name, attach=, cert=, key=, acme=, client_verify=, verify_depth=, crl=)."""

    def __init__(self, name: str, **options):
        self.name = name
        self._index = _state.code.domain(name, **options) if _configuring("kore.domain()") else None

    def route(self, path: str, handler, **options) -> None:
        if self._index is not None:
            _state.code.route(self._index, path, handler, options)

    def filemaps(self, maps: dict) -> None:
        if self._index is not None:
            _state.code.filemaps(self._index, maps)

    def redirect(self, pattern: str, status: int, target: str) -> None:
        if self._index is not None:
            _state.code.redirect(self._index, pattern, status, target)

    @property
    def accesslog(self):
        raise AttributeError("kore.domain.accesslog can only be written")

    @accesslog.setter
    def accesslog(self, path: str) -> None:
        if self._index is not None:
            _state.code.accesslog(self._index, path)


def route(path: str, **options):
    """@kore.route(path, methods=..., domain=...): register the function."""

    def register(handler):
        if _configuring("@kore.route"):
            _state.code.route(None, path, handler, options)
        return handler

    return register

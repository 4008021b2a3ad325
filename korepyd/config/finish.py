"""What is checked once every line has been read, and the frozen Config.

- A Kore 3.x file's global `bind` lines make one implicit server. It speaks
  TLS when one of its domains has a certificate (or `acme yes`): Kore 3.x
  TLS builds required a certificate in every domain, NOTLS builds had none.
- A domain without `attach` uses that implicit server; if there is none,
  the domain is not attached (Kore: "domain 'D' not attached to server").
- A domain on a TLS server needs `certfile` and `certkey`, or `acme yes`
  (Kore: "incomplete TLS setup for 'D'").

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from dataclasses import replace

from korepyd.config import model
from korepyd.config.build import Builder
from korepyd.errors import Diagnostic


def finish(b: Builder) -> model.Config:
    b.close_all_at_end()
    servers = list(b.servers.values())
    if b.global_binds:
        servers.append(_implicit_server(b, servers))
    by_name = {s.name: s for s in servers}
    domains = [_attached(b, d, servers[-1] if b.global_binds else None) for d in b.domains]
    for d in domains:
        server = by_name.get(d.attach)
        if server is not None and server.tls and not d.acme and not (d.certfile and d.certkey):
            _error(b, d, f"incomplete TLS setup for '{d.name}' (server '{server.name}' uses TLS: "
                         "give certfile and certkey, use acme yes, or set tls no on the server)")
    return model.Config(
        **b.settings,
        worker_no_accept=tuple(b.worker_no_accept),
        pledge=tuple(b.pledge),
        http_media_type=tuple(b.media_types),
        python_path=tuple(b.python_path),
        python_import=tuple(b.python_import),
        servers=tuple(servers),
        domains=tuple(domains),
        validators=tuple(b.validators),
        authentications=tuple(b.authentications.values()),
        privsep_worker=b.privsep.get("worker", model.Privsep()),
        privsep_keymgr=b.privsep.get("keymgr", model.Privsep()),
        privsep_acme=b.privsep.get("acme", model.Privsep()),
    )


def _implicit_server(b: Builder, declared: list[model.Server]) -> model.Server:
    names = {s.name for s in declared}
    name = next(n for n in ("global", *(f"global-{i}" for i in range(2, 100))) if n not in names)
    attached = [d for d in b.domains if not d.attach]
    tls = any(d.certfile or d.acme for d in attached)
    return model.Server(name, tuple(b.global_binds), tls=tls, implicit=True)


def _attached(b: Builder, domain: model.Domain, implicit: model.Server | None) -> model.Domain:
    if domain.attach:
        return domain
    if implicit is not None:
        return replace(domain, attach=implicit.name)
    _error(b, domain, f"domain '{domain.name}' not attached to server (add 'attach SERVER' to the domain)")
    return domain


def _error(b: Builder, domain: model.Domain, message: str) -> None:
    pos = domain.pos
    b.diagnostics.append(Diagnostic("error", message, pos, b.line_text(pos), len(domain.name)))

"""Which domain and which route answer a request (Kore: kore_domain_lookup(),
kore_route_lookup() and http_check_redirect() in src/http.c and
src/route.c).

Built once per server from the configuration, then asked per request:

1. The domain is found by the Host header, port stripped, case-insensitive:
   an exact name first, else the first glob (`*`, `*.example.com`) in file
   order that matches.
2. `redirect` and `return` rules of the domain come first, in file order,
   whatever route would match.
3. Routes are tried in file order: the first whose path matches and whose
   methods include the request's wins; if some path matched but no method
   did, the answer is 405, else 404. An exact route compares the path (no
   query string, not URL-decoded); a regex route searches it, and its
   capture groups become the handler's extra arguments. A filemap is a
   GET/HEAD route for every path under its URI root.

The outcome for a (method, path) is remembered: the table is fixed once
built, and only a redirect's Location depends on more (the query).

Departure from Kore: `$qs` in a redirect target becomes the empty string
when the request has no query string (Kore leaves "$qs" in the Location).

Layer: request core.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from korepyd.config import model
from korepyd.config.regex import compile_posix

FILEMAP_METHODS = ("get", "head")
_TARGET_VARS = re.compile(r"\$(qs|1[0-5]|[1-9])")

SEEN_MAX = 1024        # Host values, and (method, path) pairs per domain, remembered (cleared when full)
SEEN_PATH_MAX = 256    # longer paths are routed every time


@dataclass(frozen=True)
class Match:
    """A route answers: call its handler with `captures` after the request.
    `plain`: a route with a handler and nothing more to run (no hooks, no
    authentication; not a filemap), known when the route table is built."""

    route: model.Route | model.Filemap
    captures: tuple[str, ...] = ()
    plain: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, route: model.Route | model.Filemap, captures: tuple[str, ...] = ()) -> Match:
        plain = isinstance(route, model.Route) and not (route.on_headers or route.on_body_chunk or route.on_free
                                                        or route.authenticate)
        return cls(route, captures, plain)


@dataclass(frozen=True)
class Rewrite:
    """A `redirect` (with a Location) or `return` (without) rule answers."""

    status: int
    location: str | None


@dataclass(frozen=True)
class NoRoute:
    """No route answers: 404 (no path matched) or 405 (no method did)."""

    status: int


Outcome = Match | Rewrite | NoRoute
NOT_FOUND = NoRoute(404)
METHOD_NOT_ALLOWED = NoRoute(405)


class DomainRoutes:
    """The compiled routes and rules of one domain."""

    def __init__(self, domain: model.Domain):
        self.domain = domain
        self.accesslog = domain.accesslog          # read per request: one lookup, not two
        self.client_verify = domain.client_verify
        self._rules = [(compile_posix(r.pattern), r) for r in domain.redirects]
        self._routes = [(_matcher(item), item) for item in domain.routes]
        self._seen: dict[tuple[str, str], Outcome] = {}   # (method, path) -> route outcome, for short paths

    def resolve(self, method: str, path: str, query: str = "") -> Outcome:
        """`method` is lower case; `path` has no query string."""
        outcome = self._seen.get((method, path))
        if outcome is not None:
            return outcome
        for pattern, rule in self._rules:
            found = pattern.search(path)
            if found:
                return Rewrite(rule.status, _target(rule.target, found, query))  # the query is part of it
        outcome = self._route(method, path)
        if len(path) <= SEEN_PATH_MAX:
            if len(self._seen) >= SEEN_MAX:
                self._seen.clear()
            self._seen[(method, path)] = outcome
        return outcome

    def _route(self, method: str, path: str) -> Match | NoRoute:
        path_matched = False
        for matcher, item in self._routes:
            captures = matcher(path)
            if captures is None:
                continue
            path_matched = True
            if method in _methods(item):
                return Match.of(item, captures)
        return METHOD_NOT_ALLOWED if path_matched else NOT_FOUND


class Router:
    """The domains of one server."""

    def __init__(self, domains: list[model.Domain] | tuple[model.Domain, ...]):
        compiled = [DomainRoutes(d) for d in domains]
        self._exact = {}
        for d in compiled:
            self._exact.setdefault(d.domain.name.lower(), d)
        self._globs = [d for d in compiled if _is_glob(d.domain.name)]
        self._seen: dict[str, DomainRoutes | None] = {}   # Host header value -> domain()

    def domain(self, host: str) -> DomainRoutes | None:
        """The domain serving `host` (a Host header value), if any."""
        try:
            return self._seen[host]
        except KeyError:
            found = self._find(host)
        if len(self._seen) >= SEEN_MAX:
            self._seen.clear()
        self._seen[host] = found
        return found

    def _find(self, host: str) -> DomainRoutes | None:
        name = strip_port(host).lower()
        exact = self._exact.get(name)
        if exact is not None:
            return exact
        for d in self._globs:
            if fnmatch.fnmatchcase(name, d.domain.name.lower()):
                return d
        return None


def _matcher(item: model.Route | model.Filemap):
    if isinstance(item, model.Filemap):
        root = item.uri
        return lambda path: () if path.startswith(root) else None
    if not item.regex:
        exact = item.path
        return lambda path: () if path == exact else None
    pattern = compile_posix(item.path)

    def search(path: str):
        found = pattern.search(path)
        return None if found is None else tuple(g or "" for g in found.groups()[:15])

    return search


def _methods(item: model.Route | model.Filemap) -> tuple[str, ...]:
    return FILEMAP_METHODS if isinstance(item, model.Filemap) else item.methods


def _target(target: str | None, found: re.Match, query: str) -> str | None:
    if target is None:
        return None

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name == "qs":
            return query
        index = int(name)
        return (found.group(index) or "") if index <= (found.re.groups or 0) else m.group(0)

    return _TARGET_VARS.sub(value, target)


def _is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def strip_port(host: str) -> str:
    if host.startswith("["):  # [v6]:port
        end = host.find("]")
        return host[1:end] if end > 0 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

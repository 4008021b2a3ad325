"""What a worker imports before it drops privileges.

After a chroot the Python installation is out of reach, and after a
change of user it may be (a Python under /root), so a worker about to drop
privileges first imports what it may need later and could not import then:

- parts of the standard library (codecs, json, decimal, ...);
- psycopg (about 20 MB) and wsproto (about 5 MB), when the app's code
  names what uses them: `dbquery`, `dbsetup`, `register_database` or
  `pgsql` (req.pgsql) for psycopg, `websocket_handshake` for wsproto, or a
  database is registered already;
- the modules trio's start left deferred (worker/deferred.py: ssl,
  hashlib, hmac, idna; OpenSSL's start alone is about 5 MB): ssl when the
  worker terminates TLS, and any of them that a module outside trio and
  korepyd imported (wsproto's hashlib, the app's own `import ssl`), that
  the app's code names, or that a korepyd feature the app's code names
  runs (`httpclient`: ssl and idna, `body_digest`: hashlib).

The app's code is every module loaded from outside Python's own
directories and korepyd, its functions and classes, nested code included.
A worker that keeps its privileges (deployment dev, -n and -r) imports all
of these on first use. A dropped worker whose app reaches them in a way
the scan cannot see (getattr with a computed name) gets a clear error on
first use.

Layer: role (worker).
"""

from __future__ import annotations

import importlib
import sys
import sysconfig
import types
from pathlib import Path

from korepyd.kore import _state
from korepyd.worker import deferred

OPTIONAL = {  # the module imported on first use -> names in an app's code that call for it
    "korepyd.worker.pgsql": frozenset({"dbquery", "dbsetup", "register_database", "pgsql"}),
    "korepyd.worker.ws": frozenset({"websocket_handshake"}),
}
_KOREPYD = str(Path(__file__).resolve().parent.parent)


DEFERRED_FEATURES = {  # a deferred module -> the korepyd features (names in an app's code) that run it
    "ssl": frozenset({"httpclient"}),
    "idna": frozenset({"httpclient"}),
    "hashlib": frozenset({"body_digest"}),
}
_OWN = frozenset({"korepyd", "kore", "trio"})  # packages whose use of a deferred module DEFERRED_FEATURES covers


def run(chroot: bool, runas: bool, tls: bool = False) -> None:
    """Import now what could not be imported after the chroot or the
    change of user; `tls`: the worker terminates TLS."""
    if not (chroot or runas):
        return
    names = names_in_app_code()
    if tls:
        names.add("ssl")  # the worker's own TLS needs it as an app naming it would
    for module, wanted in OPTIONAL.items():
        if names & wanted or (module == "korepyd.worker.pgsql" and _state.databases):
            importlib.import_module(module)
    _standard_library(names)
    while wanted := deferred_wanted(names):  # again: what runs may hold another (hmac holds hashlib)
        deferred.load(wanted)
    features = " or ".join(sorted(set().union(*DEFERRED_FEATURES.values())))
    deferred.why_unreachable = (f" (the worker dropped privileges before its first use; it runs before when the "
                                f"app's code names it, or {features}, or a module outside korepyd and trio "
                                f"imports it: korepyd/worker/preload.py)")


def optional(module: str) -> types.ModuleType:
    """One of OPTIONAL, imported on first use; RuntimeError (with the
    reason) when that is no longer possible after a chroot."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        names = ", ".join(sorted(OPTIONAL[module]))
        raise RuntimeError(f"{module} cannot be imported after the chroot ({exc}); the worker loads it before "
                           f"the chroot when the app's code names one of: {names}") from None


def deferred_wanted(names: set[str]) -> list[str]:
    """The deferred modules a dropped worker may need: held elsewhere,
    named by the app's code or run by a feature it names."""
    held = deferred_held_elsewhere()
    return [name for name in deferred.pending()
            if name in held or name in names or names & DEFERRED_FEATURES.get(name, frozenset())]


def deferred_held_elsewhere() -> set[str]:
    """The deferred modules that a module outside korepyd and trio holds
    (it ran `import ssl` and may use it at any time)."""
    held = set()
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in _OWN or module is None or isinstance(module, deferred.DeferredModule):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, deferred.DeferredModule):
                held.add(value.__spec__.name)
    return held


def _standard_library(names: set[str]) -> None:
    import codecs
    import decimal  # noqa: F401
    import json  # noqa: F401
    import linecache  # noqa: F401
    import time

    if "secrets" in names:  # imports hmac: OpenSSL
        importlib.import_module("secrets")
    for name in ("idna", "ascii", "latin-1", "utf-8", "utf-16", "utf-32"):
        codecs.lookup(name)
    "bücher.example".encode("idna")  # loads punycode too
    time.tzset()  # the zone is read now and cached


def names_in_app_code() -> set[str]:
    """The global and attribute names the app's code mentions, and the
    names of korepyd functions its modules hold under another name."""
    names: set[str] = set()
    seen: set[int] = set()

    def code(c: types.CodeType) -> None:
        if id(c) in seen:
            return
        seen.add(id(c))
        names.update(c.co_names)
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                code(const)

    def value(v, depth: int = 0) -> None:
        if isinstance(v, types.FunctionType):
            code(v.__code__)
            if v.__module__ and v.__module__.startswith("korepyd."):
                names.add(v.__name__)   # from kore import dbquery as q
        elif isinstance(v, (classmethod, staticmethod)):
            value(v.__func__, depth)
        elif isinstance(v, type) and depth < 3 and id(v) not in seen:
            seen.add(id(v))
            for member in vars(v).values():
                value(member, depth + 1)

    for module in _app_modules():
        for v in list(vars(module).values()):
            value(v)
    return names


def _app_modules() -> list[types.ModuleType]:
    paths = sysconfig.get_paths()
    skip = tuple({paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], _KOREPYD})
    found = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and not str(Path(file).resolve()).startswith(skip):
            found.append(module)
    return found

"""What a worker imports before it drops privileges.

After a chroot the Python installation is out of reach, and after a
change of user it may be (a Python under /root), so a worker that drops
privileges first imports what it would import lazily later: the modules
trio's start left deferred (worker/deferred.py: ssl, hashlib, hmac, idna)
and parts of the standard library (codecs, json, decimal, ...). A worker
that keeps them (deployment dev, -n and -r) imports all of these on first
use, and one serving plain HTTP never does (about 7 MB less).

The two heavy optional parts are imported only for an app that will use
them. psycopg costs a worker about 20 MB and wsproto about 5 MB; a worker
imports them

- at once when it is about to chroot and the app's code names them:
  `dbquery`, `dbsetup`, `register_database` or `pgsql` (req.pgsql) for
  psycopg, `websocket_handshake` for wsproto; the app's code is every
  module loaded from outside Python's own directories and korepyd, its
  functions and classes, nested code included, and databases already
  registered count too;
- on first use otherwise (no chroot: the import works at any time).

A chrooted app that reaches these names in a way the scan cannot see
(getattr with a computed name) gets a clear error on first use.
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


def run(chroot: bool, runas: bool) -> None:
    """Import now what could not be imported after the chroot or the
    change of user."""
    if chroot or runas:
        deferred.load()
        _standard_library()
    if not chroot:
        return
    names = names_in_app_code()
    for module, wanted in OPTIONAL.items():
        if names & wanted or (module == "korepyd.worker.pgsql" and _state.databases):
            importlib.import_module(module)


def optional(module: str) -> types.ModuleType:
    """One of OPTIONAL, imported on first use; RuntimeError (with the
    reason) when that is no longer possible after a chroot."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        names = ", ".join(sorted(OPTIONAL[module]))
        raise RuntimeError(f"{module} cannot be imported after the chroot ({exc}); the worker loads it before "
                           f"the chroot when the app's code names one of: {names}") from None


def _standard_library() -> None:
    import codecs
    import decimal  # noqa: F401
    import json  # noqa: F401
    import linecache  # noqa: F401
    import secrets  # noqa: F401
    import time

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

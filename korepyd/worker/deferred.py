"""Modules a worker holds by name and runs on first use.

trio imports ssl, hmac (which imports hashlib) and idna when it starts, for
TLS, DTLS cookies and host names. Loading them starts OpenSSL and builds
the IDNA tables: about 6.5 MB, a fifth of a worker, spent by a worker
that serves plain HTTP and never calls one of them. defer() puts an
empty module for each in sys.modules before trio is imported; a later
`import ssl` finds it (its __spec__ is real, so the import system is
content) and the module's code runs the first time one of its names is
read: a TLS server, the HTTP client, the websocket handshake's hashlib,
the app's own use.

A worker about to drop privileges runs first those it may need later
(worker/preload.py decides): after a chroot their files are out of reach,
and a module that cannot run then says so.

importlib.util.LazyLoader cannot do this: its modules load as soon as any
attribute is read, and a second `import` statement reads __spec__.

Layer: role (worker).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types

NAMES = ("ssl", "hmac", "hashlib", "idna")

why_unreachable = ""        # set by worker/preload.py when the worker drops privileges: added to errors
_lock = threading.RLock()   # two threads reading a name at once run the module's code once
_running: set[str] = set()  # modules whose code is running (their own reads find nothing yet)


class DeferredModule(types.ModuleType):
    """A module whose code has not run: reading a name it lacks runs it."""

    def __getattr__(self, attr: str):
        spec = self.__spec__
        with _lock:
            if type(self) is DeferredModule and spec.name not in _running:
                _running.add(spec.name)
                try:
                    spec.loader.exec_module(self)
                    self.__class__ = types.ModuleType
                except (OSError, ImportError) as exc:
                    raise ImportError(_unreachable(spec.name, exc)) from None
                finally:
                    _running.discard(spec.name)
        if type(self) is DeferredModule:
            raise AttributeError(f"partially initialized module {spec.name!r} has no attribute {attr!r}")
        return getattr(self, attr)


def defer(names: tuple[str, ...] = NAMES) -> None:
    """Hold each of `names` that is not imported yet as a DeferredModule."""
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = DeferredModule
        sys.modules[name] = module


def load(names: list[str] | None = None) -> None:
    """Run the code of the deferred modules `names` (default: all) now."""
    for name in pending() if names is None else names:
        sys.modules[name].__getattr__("__name__")


def pending() -> list[str]:
    """The deferred modules whose code has not run."""
    return sorted(name for name, module in sys.modules.items() if type(module) is DeferredModule)


def _unreachable(name: str, exc: Exception) -> str:
    return f"module {name!r} cannot run: {exc}{why_unreachable}"

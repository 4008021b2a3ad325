"""Loads the user's Python application the way Kore does, and finds the
callables kore.conf names (Kore: src/python.c, kore_module_load(),
python_module_import() and kore_module_getsym()).

- A `.py` file is imported by its name without the extension, after its
  directory is appended to sys.path; a directory is imported as a package
  by its base name, after its parent and itself are appended.
- A name in kore.conf is `func` (a module attribute) or `obj.method` (an
  attribute of an attribute, split at the first dot), looked up in every
  loaded module in load order; the first module that has it wins.

The `kore` module the app imports is installed here and nowhere else.

A Kore 4.x app (`korepyd app.py [args]`, or a package directory) configures
itself in code: configure_app() imports it while the `kore` configuration
API is live, calls koreapp.configure(args), reads the configuration file
it names (kore.config.file, or -c) on top, and builds the Config. Workers
are new interpreters (exec, not fork): each imports the app and runs
configure(args) again with that API inert, so the app's own state is what
Kore's forked workers would inherit, and finds the app's callables by the
names configure_app() gave them; a route handler must therefore be
reachable as `func` or `obj.method` from the app's module, as Kore
requires of any name.

Layer: app loading, for the app API (kore): the parent's check and each worker's import.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from types import ModuleType

from korepyd import kore
from korepyd.config import model
from korepyd.errors import AppLoadError, ConfigError, Diagnostic
from korepyd.kore import _state


def install_kore() -> None:
    sys.modules.setdefault("kore", kore)


def import_app(path: str) -> ModuleType:
    """Import a `.py` file or a package directory, as Kore does."""
    install_kore()
    path = os.path.normpath(path)
    if os.path.isdir(path):
        parent, name = os.path.split(os.path.abspath(path))
        _append_path(parent)
        _append_path(os.path.abspath(path))
    elif path.lower().endswith(".py") and os.path.isfile(path):
        directory, filename = os.path.split(os.path.abspath(path))
        _append_path(directory)
        name = filename[:-3]
    elif not os.path.exists(path):
        raise AppLoadError(f"{path}: no such file or directory")
    else:
        raise AppLoadError(f"No runtime available to run '{path}'")
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # the app's own code failed: say where
        raise AppLoadError(f"{path}: failed to import module: {_app_error(exc)}") from exc


def _append_path(directory: str) -> None:
    if directory not in sys.path:
        sys.path.append(directory)


def _app_error(exc: BaseException) -> str:
    """`Type: message (file:line)` for the innermost frame of app code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename
              and os.sep + "korepyd" + os.sep not in f.filename]
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({exc.filename}:{exc.lineno})"
    else:
        where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def resolve(modules: list[ModuleType], name: str):
    """The callable `name` refers to, or None (Kore's lookup rule)."""
    first, _, rest = name.partition(".")
    for module in modules:
        obj = getattr(module, first, None)
        if obj is not None and rest:
            obj = getattr(obj, rest, None)
        if callable(obj):
            return obj
    return None


def load_modules(config: model.Config) -> tuple[list[ModuleType], list[Diagnostic]]:
    """Import every python_import of the configuration, in order."""
    for directory in config.python_path:
        _append_path(os.path.abspath(directory))
    modules, problems = [], []
    for item in config.python_import:
        try:
            modules.append(import_app(item.path))
        except AppLoadError as exc:
            problems.append(Diagnostic("error", str(exc), item.pos))
    return modules, problems


def call_onload(config: model.Config, modules: list[ModuleType], action: int) -> None:
    """Call each python_import's onload(action) (Kore: the module onload
    callback, with MODULE_LOAD when a worker starts)."""
    for item in config.python_import:
        if item.onload:
            onload = resolve(modules, item.onload.name)
            onload(action)


def check(config: model.Config, modules: list[ModuleType]) -> list[Diagnostic]:
    """A diagnostic for every callable the configuration names that no
    loaded module provides (Kore: "callback 'X' for 'PATH' not found")."""
    found = []
    for callback, message in config.callbacks():
        if resolve(modules, callback.name) is None:
            found.append(Diagnostic("error", message, callback.pos))
    return found


def kore_name(fn, modules: list[ModuleType]) -> str:
    """The Kore name (`func` or `obj.method`) of a callable in `modules`."""
    target = getattr(fn, "__self__", None)
    for module in modules:
        for attr, value in vars(module).items():
            if value is fn:
                return attr
            if target is not None and value is target and getattr(value, fn.__name__, None) == fn:
                return f"{attr}.{fn.__name__}"
    where = getattr(fn, "__qualname__", repr(fn))
    raise AppLoadError(f"{where}: a handler must be a module-level function or a method of a module-level "
                       "object of the app (Kore finds callables by name), so that every worker finds it")


def koreapp_hook(modules: list[ModuleType], *names: str):
    """The first of `names` that exists (`koreapp.configure`, then legacy names)."""
    for name in names:
        found = resolve(modules, name)
        if found is not None:
            return found
    return None


def configure_app(path: str, args: list[str], conf: str | None, *, strict: bool = False):
    """Import a Kore 4.x app, run its configure(args), read its configuration
    file on top, and return the Loaded configuration and the app module."""
    from korepyd.config import Builder, build_loaded
    from korepyd.config.code import CodeConfig, ConfigApiError

    install_kore()
    modules: list[ModuleType] = []
    builder = Builder.for_files()
    _state.code = CodeConfig(builder, lambda fn: kore_name(fn, modules))
    _state.phase = _state.CONFIGURING
    try:
        module = import_app(path)
        modules.append(module)
        if os.path.isdir(path):
            os.chdir(path)  # Kore runs a package app from its directory
        configure = koreapp_hook(modules, "koreapp.configure")
        if configure is not None:
            configure(["korepyd", *args])
        conf = conf or builder.settings.get("file")
        if conf:
            builder.feed_file(conf)
        _state.code.install_routes()
        builder.settings.setdefault("deployment", "dev")  # Kore 4.2: Python apps default to dev
    except ConfigApiError as exc:
        raise ConfigError([Diagnostic("error", f"{path}: {exc}")]) from None
    except AppLoadError:
        raise
    except Exception as exc:
        raise AppLoadError(f"{path}: failed to configure your application: {_app_error(exc)}") from exc
    finally:
        _state.phase, _state.code = _state.PARENT, None
    return build_loaded(builder, strict=strict), module


def replay_app(path: str, args: list[str]) -> ModuleType:
    """A worker's import of a 4.x app, and its configure(args) again, with
    the configuration calls inert: the app's own state then is what Kore's
    forked workers inherit from the parent."""
    install_kore()
    _state.phase = _state.REPLAYING
    try:
        module = import_app(path)
        if os.path.isdir(path):
            os.chdir(path)
        configure = koreapp_hook([module], "koreapp.configure")
        if configure is not None:
            configure(["korepyd", *args])
    except AppLoadError:
        raise
    except Exception as exc:
        raise AppLoadError(f"{path}: configure() failed in the worker: {_app_error(exc)}") from exc
    finally:
        _state.phase = _state.PARENT
    return module

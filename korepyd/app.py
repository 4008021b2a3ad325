"""Loads the user's Python application the way Kore does, and finds the
callables kore.conf names (Kore: src/python.c, kore_module_load(),
python_module_import() and kore_module_getsym()).

- A `.py` file is imported by its name without the extension, after its
  directory is appended to sys.path; a directory is imported as a package
  by its base name, after its parent and itself are appended.
- A name in kore.conf is `func` (a module attribute) or `obj.method` (an
  attribute of an attribute, split at the first dot), looked up in every
  loaded module in load order; the first module that has it wins.
- A second import of the same app (a reload) imports its own modules
  afresh, so the parent configures from the code the new workers run; a
  module name Python already has (a standard library module, say) is an
  error that says so, never a silent import of the other module.

The `kore` module the app imports is installed here and nowhere else.

A Kore 4.x app (`korepyd app.py [args]`, or a package directory) configures
itself in code: configure_app() imports it while the `kore` configuration
API is live, calls koreapp.configure(args), reads the configuration file
it names (kore.config.file, or -c, or a package's own kore.conf) on top,
and builds the Config. A kore.conf app's modules are imported by
load_parent(), which then calls kore_parent_configure(args) where Kore
does: once the configuration is read, before the workers start.

Workers are new interpreters (exec, not fork): replay_app() loads the app
in each the same way, so what the parent's load made (databases, tasks,
the tracer, module state, sockets bound while loading: appsockets.py) each
worker has, as Kore's forked workers inherit it. Callables handed to the
configuration API get names (Namer) that the replay gives again, so a
handler may live anywhere: a submodule, a class, a closure.

Layer: app loading, for the app API (kore): the parent's check and each worker's import.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from types import ModuleType

from korepyd import appsockets, kore
from korepyd.config import model
from korepyd.errors import AppLoadError, ConfigError, Diagnostic
from korepyd.kore import _state


def install_kore() -> None:
    sys.modules.setdefault("kore", kore)


def import_app(path: str) -> ModuleType:
    """Import a `.py` file or a package directory, as Kore does. A second
    import of the same app (a reload) runs its current code: the modules
    the first one loaded from the app's directory are imported afresh."""
    install_kore()
    path = os.path.normpath(os.path.abspath(path))
    if os.path.isdir(path):
        directory, name = os.path.split(path)
        _append_path(directory)
        _append_path(path)
        own = (path,)
    elif path.lower().endswith(".py") and os.path.isfile(path):
        directory, filename = os.path.split(path)
        _append_path(directory)
        name, own = filename[:-3], (directory,)
    elif not os.path.exists(path):
        raise AppLoadError(f"{path}: no such file or directory")
    else:
        raise AppLoadError(f"No runtime available to run '{path}'")
    for loaded in _loaded.pop(path, ()):
        sys.modules.pop(loaded, None)
    clash = sys.modules.get(name)
    if clash is not None:
        raise AppLoadError(f"{path}: the module name '{name}' clashes with the already loaded module "
                           f"'{name}' ({_where(clash)}); rename the file")
    before = set(sys.modules)
    try:
        with appsockets.capture():
            module = importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # the app's own code failed: say where
        raise AppLoadError(f"{path}: failed to import module: {_app_error(exc)}") from exc
    if not _is_file_of(module, path):
        sys.modules.pop(name, None)
        raise AppLoadError(f"{path}: the module name '{name}' is taken by {_where(module)}, which Python "
                           "finds first; rename the file")
    _loaded[path] = [name, *(m for m in sys.modules.keys() - before if _within(sys.modules[m], own))]
    return module


_loaded: dict[str, list[str]] = {}   # an app's path -> the modules its import loaded from its directory


def _where(module: ModuleType) -> str:
    return getattr(module, "__file__", None) or "built into Python"


def _is_file_of(module: ModuleType, path: str) -> bool:
    if os.path.isdir(path):
        return any(os.path.realpath(p) == os.path.realpath(path) for p in getattr(module, "__path__", ()))
    return bool(module.__file__) and os.path.realpath(module.__file__) == os.path.realpath(path)


def _within(module: ModuleType | None, directories: tuple[str, ...]) -> bool:
    """A module of the app's own (not an installed package it imported)."""
    file = getattr(module, "__file__", None)
    if not file or "-packages" + os.sep in file:
        return False
    return any(file.startswith(d + os.sep) for d in directories)


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


def resolve(modules: list[ModuleType], name: str, named: dict | None = None):
    """The callable `name` refers to, or None: one the app handed the
    configuration API (`named`), else Kore's lookup rule."""
    if named and name in named:
        return named[name]
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


def check(config: model.Config, modules: list[ModuleType], named: dict | None = None) -> list[Diagnostic]:
    """A diagnostic for every callable the configuration names that no
    loaded module provides (Kore: "callback 'X' for 'PATH' not found")."""
    found = []
    for callback, message in config.callbacks():
        if resolve(modules, callback.name, named) is None:
            found.append(Diagnostic("error", message, callback.pos))
    return found


class Namer:
    """Names for the callables an app hands the configuration API: Kore's
    `func` or `obj.method` where the app's module has it so, else the
    function's module and qualified name (a handler in a submodule, a
    nested class, a lambda), made unique with ` #2`, ` #3`. `named` maps
    each name back to its callable. A worker's replay of the app makes the
    same calls in the same order, so it gives the same names, and finds
    each callable by the name the parent's configuration holds."""

    def __init__(self, modules: list[ModuleType]):
        self.modules = modules
        self.named: dict[str, object] = {}

    def __call__(self, fn) -> str:
        base = _kore_name(fn, self.modules) or f"{getattr(fn, '__module__', None) or '?'}." \
                                               f"{getattr(fn, '__qualname__', None) or type(fn).__name__}"
        name, n = base, 1
        while name in self.named and self.named[name] != fn:  # != : bound methods are made anew each time
            n += 1
            name = f"{base} #{n}"
        self.named[name] = fn
        return name


def _kore_name(fn, modules: list[ModuleType]) -> str | None:
    target = getattr(fn, "__self__", None)
    for module in modules:
        for attr, value in vars(module).items():
            if value is fn:
                return attr
            if target is not None and value is target and getattr(value, fn.__name__, None) == fn:
                return f"{attr}.{fn.__name__}"
    return None


def koreapp_hook(modules: list[ModuleType], *names: str):
    """The first of `names` that exists (`koreapp.configure`, then legacy names)."""
    for name in names:
        found = resolve(modules, name)
        if found is not None:
            return found
    return None


def configure_app(path: str, args: list[str], conf: str | None, *, strict: bool = False):
    """Import a Kore 4.x app, run its configure(args), read its configuration
    file on top, and return the Loaded configuration, the app module and
    the names of the callables it configured (Namer.named).

    The file is -c, else kore.config.file, else a package app's own
    kore.conf (Kore's python-pgsql example keeps one there)."""
    from korepyd.config import Builder, build_loaded
    from korepyd.config.code import CodeConfig, ConfigApiError

    _state.reset()
    modules: list[ModuleType] = []
    builder = Builder.for_files()
    namer = Namer(modules)
    _state.code, _state.phase = CodeConfig(builder, namer), _state.CONFIGURING
    try:
        modules.append(_configure(path, args))
        conf = conf or builder.settings.get("file") or _own_conf(path)
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
    return build_loaded(builder, strict=strict), modules[0], namer.named


def _configure(path: str, args: list[str]) -> ModuleType:
    module = import_app(path)
    if os.path.isdir(path):
        os.chdir(path)  # Kore runs a package app from its directory
    configure = koreapp_hook([module], "koreapp.configure")
    if configure is not None:
        with appsockets.capture():
            configure(["korepyd", *args])
    return module


def _own_conf(path: str) -> str | None:
    own = os.path.join(path, "kore.conf")
    return own if os.path.isdir(path) and os.path.isfile(own) else None


def load_parent(config: model.Config, app_modules: list[ModuleType], named: dict, *,
                parent_args: list[str] | None = None) -> tuple[list[ModuleType], list[Diagnostic]]:
    """The parent's load after the configuration: its python_import
    modules, the check of every name it gives, and for a kore.conf app
    (`parent_args` given) kore_parent_configure. Returns all the app's
    modules and the problems found."""
    if parent_args is not None:
        _state.reset()
    return _load_rest(config, app_modules, named, parent_args)


def _load_rest(config, app_modules, named, parent_args) -> tuple[list[ModuleType], list[Diagnostic]]:
    """python_import modules, the names check, kore_parent_configure: the
    configuration is read, so kore.config and kore.server() refuse."""
    _state.phase = _state.LOADING
    try:
        imported, problems = load_modules(config)
        modules = app_modules + imported
        if not problems:  # a module that did not load explains the names it lacks
            problems = check(config, modules, named)
        if parent_args is not None and not problems:
            parent_configure(modules, parent_args)
    finally:
        _state.phase = _state.PARENT
    return modules, problems


def parent_configure(modules: list[ModuleType], args: list[str]) -> None:
    """A kore.conf app's kore_parent_configure(args), where Kore calls it:
    once the configuration is read, before the workers start (so
    kore.config can no longer be written, as in Kore)."""
    hook = koreapp_hook(modules, "kore_parent_configure")
    if hook is None:
        return
    try:
        with appsockets.capture():
            hook(["korepyd", *args])
    except Exception as exc:
        raise AppLoadError(f"kore_parent_configure failed: {_app_error(exc)}") from exc


def replay_app(path: str | None, args: list[str], config: model.Config):
    """A worker's load of the app, as the parent loaded it: a 4.x app's
    import and configure(args) (the configuration calls go to a
    configuration nobody reads: the parent's is `config`), the
    python_import modules, and kore_parent_configure(args), so the app's
    state (databases, tasks, tracer, sockets, globals) is what Kore's forked
    workers inherit from the parent. Returns the modules, the names of the
    configured callables, and the problems found."""
    from korepyd.config import Builder
    from korepyd.config.code import CodeConfig

    modules: list[ModuleType] = []
    namer = Namer(modules)
    if path:
        _state.code, _state.phase = CodeConfig(Builder.for_files(), namer), _state.REPLAYING
        try:
            modules.append(_configure(path, args))
            _state.code.name_routes()
        except AppLoadError:
            raise
        except Exception as exc:
            raise AppLoadError(f"{path}: configure() failed in the worker: {_app_error(exc)}") from exc
        finally:
            _state.phase, _state.code = _state.PARENT, None
    modules, problems = _load_rest(config, modules, namer.named, None if path else args)
    return modules, namer.named, problems

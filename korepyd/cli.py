"""The korepyd command line (Kore: src/kore.c usage() and main()).

    korepyd [-c FILE] [-dfhnqrtv] [--strict] [--dump] [APP [ARGS ...]]

Parses options, loads and checks the configuration, and maps every error
to an exit status (errors.ExitCode) with a message a person can act on;
it never lets a traceback out for a condition the user caused.

Layer: command line (the parent before its supervisor loop).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, replace

from korepyd import __version__, app, appsockets, compiled, log
from korepyd.config import Loaded, load
from korepyd.config.dump import to_data
from korepyd.errors import ConfigError, Diagnostic, ExitCode, KorepydError


@dataclass(frozen=True)
class Options:
    conf: str | None
    app: str | None
    args: tuple[str, ...]
    daemonize: bool
    skip_chroot: bool
    skip_runas: bool
    quiet: bool
    test: bool
    strict: bool
    dump: bool


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="korepyd",
        description="The Kore web platform, in Python: serve a kore.conf or a Kore 4.x app.",
        epilog="Signals: HUP reloads, TERM/INT stop gracefully, QUIT stops at once.",
    )
    p.add_argument("-c", dest="conf", metavar="FILE", help="configuration file (kore.conf)")
    p.add_argument("-d", dest="daemonize", action="store_true", help="run in the background")
    p.add_argument("-f", dest="foreground", action="store_true", help="stay in the foreground (the default)")
    p.add_argument("-n", dest="skip_chroot", action="store_true", help="do not chroot")
    p.add_argument("-q", dest="quiet", action="store_true", help="log less")
    p.add_argument("-r", dest="skip_runas", action="store_true", help="do not drop privileges")
    p.add_argument("-t", dest="test", action="store_true", help="check the configuration and exit")
    p.add_argument("-v", action="version", version=f"korepyd {__version__} ({compiled.summary()})",
                   help="print the version (and whether the request path is compiled) and exit")
    p.add_argument("--strict", action="store_true", help="treat configuration warnings as errors")
    p.add_argument("--dump", action="store_true", help="with -t: print the checked configuration as JSON")
    p.add_argument("app", nargs="?", help="a Kore 4.x app: a .py file or a package directory")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the app's configure(args)")
    return p


def parse_options(argv: list[str]) -> Options:
    ns = _parser().parse_args(argv)
    return Options(ns.conf, ns.app, tuple(ns.args), ns.daemonize, ns.skip_chroot, ns.skip_runas, ns.quiet,
                   ns.test, ns.strict, ns.dump)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["create"]:  # `korepyd create NAME` (an app directory named create: korepyd ./create)
        from korepyd import create

        return create.main(argv[1:])
    opts = parse_options(argv)
    if opts.app:  # absolute now: a package app makes the parent change into its directory
        opts = replace(opts, app=os.path.abspath(opts.app))
    if opts.conf is None and opts.app is None:
        _parser().print_usage(sys.stderr)
        print("korepyd: give a configuration (-c kore.conf) or an app (korepyd app.py)", file=sys.stderr)
        return ExitCode.USAGE
    log.setup("parent", quiet=opts.quiet)  # the app's kore.log() at import and in configure() (supervisor: again)
    try:
        loaded, modules = check(opts)
    except KorepydError as exc:
        _report(exc)
        return exc.exit_code
    except Exception as exc:  # a bug in korepyd: say so, keep the traceback for KOREPYD_DEBUG
        if os.environ.get("KOREPYD_DEBUG"):
            raise
        print(f"korepyd: internal error: {type(exc).__name__}: {exc}\n"
              "korepyd: this is a bug in korepyd; set KOREPYD_DEBUG=1 for the traceback and report it",
              file=sys.stderr)
        return ExitCode.SOFTWARE
    if opts.test:
        if opts.dump:
            print(json.dumps(to_data(loaded.config), indent=2))
        print(f"korepyd: configuration {opts.conf or opts.app} is valid", file=sys.stderr)
        return ExitCode.OK
    from korepyd import supervisor

    def reload_config():
        return check(opts)[0].config

    daemonize = opts.daemonize or loaded.config.deployment == "production"
    overrides = supervisor.Options(opts.skip_chroot, opts.skip_runas, opts.quiet, daemonize, opts.app,
                                   tuple(opts.args), appsockets.shared)
    try:
        return supervisor.run(loaded.config, overrides, reload_config)
    except KorepydError as exc:
        print(f"korepyd: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        cleanup = app.koreapp_hook(modules, "koreapp.cleanup", "kore_parent_teardown")
        if cleanup is not None:
            cleanup()


def check(opts: Options) -> tuple[Loaded, list]:
    """Load the configuration and the app it names, as a start would (a
    kore.conf app's kore_parent_configure included, so -t passes only what
    starts); raise on any error. Returns the configuration and the app's
    modules."""
    if opts.app:
        loaded, module, named = app.configure_app(opts.app, list(opts.args), opts.conf, strict=opts.strict)
        modules, problems = app.load_parent(loaded.config, [module], named)
    else:
        loaded = load(opts.conf, strict=opts.strict)
        modules, problems = app.load_parent(loaded.config, [], {}, parent_args=list(opts.args))
    warnings = list(loaded.warnings)
    if not loaded.config.servers:
        warnings.append(Diagnostic("warning", "no server is configured: korepyd serves no HTTP, only what the "
                                              "app's own sockets and tasks do (kore.socket_wrap)"))
    if problems:
        raise ConfigError(warnings + problems)
    _print(warnings)
    return loaded, modules


def _report(exc: KorepydError) -> None:
    if isinstance(exc, ConfigError):
        _print(exc.diagnostics)
        errors = sum(d.is_error for d in exc.diagnostics)
        print(f"korepyd: {errors} error{'s' if errors != 1 else ''} in the configuration", file=sys.stderr)
    else:
        print(f"korepyd: {exc}", file=sys.stderr)


def _print(diagnostics) -> None:
    cache: dict[str, list[str]] = {}
    for d in diagnostics:
        print(_with_source(d, cache).render(), file=sys.stderr)


def _with_source(d: Diagnostic, cache: dict[str, list[str]]) -> Diagnostic:
    """Fill in the source line of a diagnostic made after parsing."""
    if d.text or d.pos is None:
        return d
    if d.pos.file not in cache:
        try:
            with open(d.pos.file, encoding="utf-8", errors="replace") as f:
                cache[d.pos.file] = f.read().splitlines()
        except OSError:
            cache[d.pos.file] = []
    lines = cache[d.pos.file]
    if not 0 < d.pos.line <= len(lines):
        return d
    text = lines[d.pos.line - 1]
    width = len(text[d.pos.column - 1:].split(" ")[0]) or 1
    return Diagnostic(d.severity, d.message, d.pos, text, width)

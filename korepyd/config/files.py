"""Checks of the paths a configuration names against the file system, as
Kore makes them while parsing (Kore: kore_filemap_create(),
configure_logfile(), configure_accesslog(), configure_dhparam()).

Kore opens log files at parse time; `korepyd -t` must not create files, so
it checks that they could be opened: the file is writable, or it does not
exist and its directory is. Kept apart from build.py so that the builder
stays free of I/O; load() runs these checks unless asked not to.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import errno
import os

from korepyd.config import model
from korepyd.config.build import PathRef
from korepyd.errors import Diagnostic


def check(refs: list[PathRef], config: model.Config) -> list[Diagnostic]:
    found = []
    for ref in refs:
        problem = _CHECKS[ref.kind](ref.path, config)
        if problem:
            found.append(Diagnostic("error", problem, ref.line.pos(ref.word), ref.line.text, len(ref.word.text)))
    return found


def on_disk(path: str, worker: model.Privsep) -> str:
    """Where the parent finds a path the workers see under their root."""
    return f"{worker.root}/{path}" if worker.root else path


def _filemap(path: str, config: model.Config) -> str | None:
    full = on_disk(path, config.privsep_worker)
    reason = _stat_error(full)
    return f"cannot create filemap for {path}: failed to stat '{full}': {reason}" if reason else None


def _logfile(path: str, config: model.Config) -> str | None:
    reason = _writable(path)
    return f"fopen({path}): {reason}" if reason else None


def _accesslog(path: str, config: model.Config) -> str | None:
    reason = _writable(path)
    return f"accesslog open({path}): {reason}" if reason else None


def _dhparam(path: str, config: model.Config) -> str | None:
    return None if os.access(path, os.R_OK) else f"tls_dhparam file '{path}' not accessible"


def _stat_error(path: str) -> str | None:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.strerror
    except ValueError as exc:  # an embedded NUL
        return str(exc)
    return None


def _writable(path: str) -> str | None:
    if os.path.isdir(path):
        return os.strerror(errno.EISDIR)
    target = path if os.path.exists(path) else os.path.dirname(path) or "."
    if not os.path.isdir(os.path.dirname(path) or "."):
        return os.strerror(errno.ENOENT)
    return None if os.access(target, os.W_OK) else os.strerror(errno.EACCES)


_CHECKS = {"filemap": _filemap, "logfile": _logfile, "accesslog": _accesslog, "tls_dhparam": _dhparam}

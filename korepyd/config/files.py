"""Checks of a built Config against the file system, as Kore makes them
while parsing: a filemap's directory must exist (Kore:
kore_filemap_create(), which looks for it under the worker's root).

Kept apart from build.py so that the builder stays free of I/O; load()
runs these checks unless asked not to.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from korepyd.config import model
from korepyd.errors import Diagnostic, SourcePos


def check(config: model.Config, line_text: Callable[[SourcePos], str]) -> list[Diagnostic]:
    found = []
    for domain in config.domains:
        for item in domain.routes:
            if isinstance(item, model.Filemap):
                problem = _filemap_problem(item, config.privsep_worker)
                if problem:
                    found.append(Diagnostic("error", problem, item.pos, line_text(item.pos), len(item.path)))
    return found


def on_disk(path: str, worker: model.Privsep) -> str:
    """Where the parent finds a path the workers see under their root."""
    return f"{worker.root}/{path}" if worker.root else path


def _filemap_problem(filemap: model.Filemap, worker: model.Privsep) -> str | None:
    full = on_disk(filemap.path, worker)
    try:
        os.stat(full)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"cannot create filemap for {filemap.path}: failed to stat '{full}': {reason}"
    return None

"""Kore itself (github.com/jorisvink/kore) as a peer: the benchmark does not
build it, it runs the binary the environment variable KORE names, a Kore
4.x built with PYTHON=1 (and PGSQL=1 for the pgsql scenario):

    KORE=/path/to/kore make bench

Without KORE the kore server is skipped, with one line saying so. Kore
serves bench/korepyd_app/ itself, through a Kore-specific copy of its
kore.conf that servers.py writes (see servers.kore_conf).
"""

from __future__ import annotations

import functools
import os
import subprocess

SKIP = "kore: skipped (set KORE=/path/to/kore, a Kore 4.x built with PYTHON=1)"


def binary() -> str | None:
    return os.environ.get("KORE") or None


@functools.cache
def build_info() -> str:
    """`kore -v`: its version and built-ins, e.g. "4.x-releng-66d8115d python-3.11.2 pgsql"."""
    done = subprocess.run([binary(), "-v"], capture_output=True, text=True, timeout=10)
    return (done.stdout + done.stderr).strip()


def unusable() -> str | None:
    """Why Kore cannot be a peer here (the line to print), or None."""
    path = binary()
    if path is None:
        return SKIP
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return f"kore: skipped (KORE={path} is not an executable file)"
    try:
        info = build_info()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"kore: skipped ({path} -v failed: {exc})"
    if "python-" not in info:
        return f"kore: skipped ({path} was built without PYTHON=1: -v says {info!r})"
    return None


def has_pgsql() -> bool:
    return "pgsql" in build_info().split()

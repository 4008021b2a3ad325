"""The pidfile: written once the listeners are bound, removed at exit
(Kore: kore_write_kore_pid()).

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import os

from korepyd.errors import KorepydError


def write(path: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(f"{os.getpid()}\n")
    except OSError as exc:
        raise KorepydError(f"cannot write the pidfile {path}: {exc.strerror}: set `pidfile` to a writable path") from None


def remove(path: str) -> None:
    try:
        if open(path).read().strip() == str(os.getpid()):
            os.unlink(path)
    except OSError:
        pass

"""What the parent tells a new child before it runs: the BOOT message.

The parent pickles a Boot and sends it as the first message on the
child's IPC socket; the child unpickles it (the parent is trusted; the
parent never unpickles what a child sends).
"""

from __future__ import annotations

from dataclasses import dataclass

from korepyd.config.model import Config


@dataclass(frozen=True)
class ListenerFd:
    """A listening socket the worker inherited, and the server it belongs to."""

    server: str
    tls: bool
    fd: int
    family: int


@dataclass(frozen=True)
class Boot:
    worker_id: int
    generation: int
    config: Config
    listeners: tuple[ListenerFd, ...]
    cwd: str
    skip_chroot: bool = False
    skip_runas: bool = False
    quiet: bool = False
    app: str | None = None      # a Kore 4.x app to import (its configuration is `config`)
    app_args: tuple[str, ...] = ()

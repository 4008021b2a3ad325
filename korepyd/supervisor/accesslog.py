"""The parent writes the access logs (Kore: the parent's accesslog flush),
so that workers need no file access: it opens every domain's accesslog
(append, mode 0644) before it drops anything, and appends the lines the
workers send. A path it did not open itself is refused.

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import os

from korepyd import log
from korepyd.config import model
from korepyd.ipc.accesslog import unframe


class AccessLogs:
    def __init__(self) -> None:
        self._files: dict[str, int] = {}

    def open(self, config: model.Config) -> None:
        """Open the logs `config` names (those already open stay open, for
        the workers of an older generation)."""
        for domain in config.domains:
            path = domain.accesslog
            if path and path not in self._files:
                try:
                    self._files[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
                except OSError as exc:
                    raise OSError(exc.errno, f"accesslog open({path}): {exc.strerror}") from None

    def write(self, payload: bytes, sender: int) -> None:
        path, lines = unframe(payload)
        fd = self._files.get(path)
        if fd is None:
            log.warning(f"worker {sender} sent access-log lines for '{path}', which is not an accesslog; dropped")
            return
        try:
            os.write(fd, lines)
        except OSError as exc:
            log.error(f"accesslog {path}: {exc.strerror}")

    def close(self) -> None:
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

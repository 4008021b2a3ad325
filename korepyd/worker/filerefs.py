"""The files the filemaps serve, held open between requests (Kore:
src/fileref.c), so that a file served again costs no open(2) and close(2).

A request's filemap lookup has just taken the file's stat (http/filemap.py);
when its path still names the file an open descriptor was made for (same
device and inode), that descriptor is lent again. A file replaced under
its name (a new inode) is opened afresh; one written in place keeps its
inode and descriptor, and each response takes its length and dates from
the lookup's stat, as before. A descriptor no longer in the table is
closed once the last response reading it is done, so a body is never cut
short. Files not served for IDLE seconds are closed (`expire`, which the
worker calls every few seconds), so that a deleted file's space comes back
soon; at most LIMIT files are held, the least recently opened dropped
first.

Layer: role (worker).
"""

from __future__ import annotations

import os

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
IDLE = 30.0
LIMIT = 128   # descriptors, beside worker_max_connections' sockets


class FileRef:
    """One open descriptor and the responses reading it."""

    __slots__ = ("fd", "identity", "users", "used", "held")

    def __init__(self, fd: int, identity: tuple[int, int], now: float):
        self.fd, self.identity, self.users, self.used, self.held = fd, identity, 0, now, True


class FileRefs:
    def __init__(self, idle: float = IDLE, limit: int = LIMIT):
        self.idle, self.limit = idle, limit
        self._refs: dict[str, FileRef] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def acquire(self, path: str, identity: tuple[int, int], now: float) -> FileRef:
        """A descriptor for the file `path` names, whose (st_dev, st_ino)
        the caller has just seen; pair with release(). Raises OSError as
        open(2) does."""
        ref = self._refs.get(path)
        if ref is None or ref.identity != identity:
            fd = os.open(path, OPEN_FLAGS)
            info = os.fstat(fd)  # what was opened, should the name have moved since the caller's stat
            if ref is not None:
                self._drop(path)
            ref = self._refs[path] = FileRef(fd, (info.st_dev, info.st_ino), now)
            if len(self._refs) > self.limit:
                self._drop(next(iter(self._refs)))
        ref.users += 1
        ref.used = now
        return ref

    def release(self, ref: FileRef) -> None:
        ref.users -= 1
        if not ref.users and not ref.held:
            os.close(ref.fd)

    def expire(self, now: float) -> None:
        """Close the files no response has read for `idle` seconds."""
        for path in [path for path, ref in self._refs.items() if now - ref.used >= self.idle]:
            self._drop(path)

    def close(self) -> None:
        for path in list(self._refs):
            self._drop(path)

    def _drop(self, path: str) -> None:
        ref = self._refs.pop(path)
        ref.held = False
        if not ref.users:
            os.close(ref.fd)

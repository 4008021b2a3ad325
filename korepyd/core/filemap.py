"""Which file a filemap serves for a path (Kore: filemap_resolve() in
src/filemap.c), without reading it.

The rest of the path under the URI root is URL-decoded and joined to the
directory; the real path of the result must stay inside the directory's
real path, so `..`, encoded dots and slashes, and symlinks that leave the
directory all give 404, as does a sibling directory that merely shares the
prefix. A directory without a trailing slash is redirected (302) to the
same path with one; with one, the index file is served. Only regular,
non-empty files are served, and never for a path with a trailing slash. A
missing file is retried with `filemap_ext`.

Layer: request core.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

BUILTIN_TYPES = {
    "gif": "image/gif", "png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "zip": "application/zip",
    "pdf": "application/pdf", "json": "application/json", "js": "application/javascript", "htm": "text/html",
    "html": "text/html", "txt": "text/plain", "css": "text/css",
}


class FileHit(NamedTuple):  # a tuple: made for every request, it costs less than a frozen dataclass
    path: str
    size: int
    mtime: float
    mtime_ns: int
    content_type: str | None
    identity: tuple[int, int]   # (st_dev, st_ino): worker/filerefs.py reuses an open file while it holds


_file_hit = FileHit._make  # tuple.__new__ in C: FileHit(...) runs a Python __new__


@dataclass(frozen=True)
class FileRedirect:
    location: str


def resolve(root: str, uri: str, path: str, *, index: str, ext: str | None,
            types: dict[str, str]) -> FileHit | FileRedirect | None:
    """`root` must already be a real path (resolved once per worker)."""
    rest = path[len(uri):]
    if "%" in rest:
        try:
            rest = unquote(rest, errors="strict")
        except UnicodeDecodeError:
            return None
    if "\0" in rest:
        return None
    try:
        real, info = _real_beneath(root, rest)
        if info is None:  # realpath() was asked: where it leads must be checked
            if real != root and not real.startswith(root + os.sep):
                return None
            info = os.stat(real)
    except OSError:
        if not ext:
            return None
        return resolve(root, uri, path + ext, index=index, ext=None, types=types)
    if stat.S_ISDIR(info.st_mode):
        if not path.endswith("/"):
            return FileRedirect(path + "/")
        return resolve(root, uri, path + index, index=index, ext=None, types=types)
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0 or rest[-1:] == "/":
        return None  # realpath() drops a trailing slash: "file.txt/" is no file
    _, dot, suffix = real.rpartition("/")[2].rpartition(".")  # of the file's name, not a directory's
    suffix = suffix.lower() if dot else ""
    return _file_hit((real, info.st_size, info.st_mtime, info.st_mtime_ns, types.get(suffix),
                      (info.st_dev, info.st_ino)))


def _real_beneath(root: str, rest: str) -> tuple[str, os.stat_result | None]:
    """The real path of `rest` under the real path `root`, and its stat
    when it was taken on the way. A path of plain names none of which is a
    symlink is its own real path: one lstat per name instead of
    realpath()'s one per name of the whole path, in Python. Anything else
    (`.`, `..`, a symlink) goes through realpath(). Raises OSError when a
    name is missing."""
    path, info = root, None
    for name in rest.split("/"):
        if not name:
            continue  # "a//b" and a trailing slash, as realpath() reads them
        if name == "." or name == "..":
            return os.path.realpath(os.path.join(root, rest)), None
        path = f"{path}/{name}"
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return os.path.realpath(os.path.join(root, rest)), None
    return path, info

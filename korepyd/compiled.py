"""The compiled request path: which modules of korepyd may run as extension
modules built by Cython, and the import hook that loads them.

setup.py compiles the modules in HOT_PATH, unchanged Python, into
korepyd/_compiled/ (one file per module, named after it) and writes there a
manifest of a checksum of each source it compiled. Their classes with
__slots__ become extension types and the functions marked `# cpdef` C
functions, by the declarations korepyd/declarations.py derives from the
source at build time, so the source is all there is to edit. install(), called when
korepyd is imported, puts a finder first on sys.meta_path that hands a hot
module its extension only while the source beside it still has that checksum:
a source edited since the build runs as Python, never as the stale
extension. Anything missing (no compiler at build time, another Python)
means the same: the module runs as Python, which is always correct, only
slower.

KOREPYD_NO_EXTENSIONS=1 in the environment turns the compiled path off, both
when building and when running (the test suite runs once each way).

Layer: shared (the compiled path's loader, installed by the package).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import zlib
from pathlib import Path

# Every request passes through these; nothing else is worth compiling.
HOT_PATH = (
    "korepyd.core.conditional",
    "korepyd.core.dispatch",
    "korepyd.core.filemap",
    "korepyd.core.params",
    "korepyd.core.reply",
    "korepyd.core.response",
    "korepyd.core.router",
    "korepyd.http1.connection",
    "korepyd.http1.events",
    "korepyd.http1.readers",
    "korepyd.http1.response",
    "korepyd.http1.rules",
    "korepyd.http1.state",
    "korepyd.http1.writers",
    "korepyd.kore._adapter",
    "korepyd.kore._request",
    "korepyd.worker.conn",
    "korepyd.worker.runtime",
    "korepyd.worker.sendfile",
    "korepyd.worker.stream",
)
DISABLE = "KOREPYD_NO_EXTENSIONS"
PACKAGE = Path(__file__).resolve().parent
DIRECTORY = PACKAGE / "_compiled"
MANIFEST = "manifest.txt"


def disabled() -> bool:
    return os.environ.get(DISABLE, "") not in ("", "0")


def source_of(name: str) -> Path:
    """korepyd.http1.connection -> <package>/http1/connection.py"""
    return PACKAGE.joinpath(*name.split(".")[1:]).with_suffix(".py")


def checksum(*paths: Path) -> str:
    """Size and CRC-32 of sources: this tells an edited file from the one
    compiled (no security rests on it). Not hashlib: that starts OpenSSL,
    which a worker serving plain HTTP never needs (korepyd/worker/deferred.py)."""
    data = b"".join(path.read_bytes() for path in paths)
    return f"{len(data)}:{zlib.crc32(data):08x}"


def format_manifest(checksums: dict[str, str]) -> str:
    """One line per module, `name checksum` (not JSON: the worker defers json's import)."""
    return "".join(f"{name} {checksum}\n" for name, checksum in sorted(checksums.items()))


def _read_manifest() -> dict[str, str]:
    try:
        lines = (DIRECTORY / MANIFEST).read_text().splitlines()
    except (OSError, ValueError):
        return {}
    return dict(line.split(" ", 1) for line in lines if line.count(" ") == 1)


def _extension(name: str) -> Path | None:
    """The extension module built for `name` by this Python, if there is one."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = DIRECTORY / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def status() -> dict[str, str]:
    """For each hot module, how it runs: compiled, stale, not built or disabled."""
    if disabled():
        return dict.fromkeys(HOT_PATH, f"disabled ({DISABLE})")
    manifest = _read_manifest()
    return {name: _verdict(name, manifest)[0] for name in HOT_PATH}


def _verdict(name: str, manifest: dict[str, str]) -> tuple[str, Path | None]:
    extension = _extension(name)
    if extension is None or name not in manifest:
        return "not built", None
    try:
        current = checksum(source_of(name))
    except OSError:
        return "source missing", None
    if current != manifest[name]:
        return "stale (source changed since the build)", None
    return "compiled", extension


def complete() -> bool:
    """Every hot module runs compiled (make build has nothing to do)."""
    return set(status().values()) == {"compiled"}


def summary() -> str:
    """One line for `korepyd -v`."""
    verdicts = status()
    kinds = set(verdicts.values())
    if kinds == {"compiled"}:
        return "request path compiled"
    if len(kinds) == 1:  # the same reason for every module
        return f"request path pure Python: {kinds.pop()}"
    others = ", ".join(f"{name} {verdict}" for name, verdict in verdicts.items() if verdict != "compiled")
    return f"request path compiled in part: {others}"


class CompiledFinder:
    """Finds the extension of a hot module whose source is unchanged."""

    def __init__(self) -> None:
        self._manifest: dict[str, str] | None = None

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in HOT_PATH:
            return None
        if self._manifest is None:
            self._manifest = _read_manifest()
        _, extension = _verdict(fullname, self._manifest)
        if extension is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(extension))
        return importlib.util.spec_from_file_location(fullname, extension, loader=loader)


def install() -> None:
    if disabled() or any(isinstance(finder, CompiledFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, CompiledFinder())


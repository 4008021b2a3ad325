"""The kore.conf language: text in, a frozen model.Config out.

    loaded = config.load("conf/kore.conf")        # raises ConfigError
    loaded.config.workers, loaded.warnings

The stages, each in its own module: source.py reads and repairs the bytes,
grammar.py (with kore.lark) cuts them into lines of words, build.py runs
Kore's parser state machine over them with the directive table of
directives.py (blocks.py, statements.py, domain.py), finish.py checks what
needs the whole file and freezes the model, and files.py checks what is on
disk. Nothing here imports the user's Python code; names of handlers are
checked against the app by korepyd.app.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from korepyd.config.model import Config
from korepyd.errors import ConfigError, Diagnostic

if TYPE_CHECKING:
    from korepyd.config.build import Builder

__all__ = ["Builder", "Config", "Loaded", "build_loaded", "load", "loads"]


@dataclass(frozen=True)
class Loaded:
    """A valid configuration and the warnings found on the way."""

    config: Config
    warnings: tuple[Diagnostic, ...]


def load(path: str | os.PathLike, *, env: Mapping[str, str] | None = None, strict: bool = False,
         check_files: bool = True) -> Loaded:
    """Read and check the configuration file at `path`.

    `include` paths and relative paths in the file are taken from the
    current working directory, as in Kore. With `strict`, warnings count
    as errors. Raises ConfigError with every diagnostic when there is an
    error (a missing or unreadable file included).
    """
    from korepyd.config import source

    name = os.fspath(path)
    try:
        data = source.read_path(name)
    except OSError as exc:
        raise ConfigError([Diagnostic("error", f"configuration given cannot be opened: {name}: "
                                               f"{exc.strerror or exc}")]) from None
    return loads(data, name, env=env, strict=strict, check_files=check_files)


def loads(data: bytes | str, file: str = "<config>", *, env: Mapping[str, str] | None = None,
          strict: bool = False, check_files: bool = True) -> Loaded:
    """Like load(), for configuration text already in memory."""
    from korepyd.config import source
    from korepyd.config.build import Builder

    if isinstance(data, str):
        data = data.encode("utf-8")
    builder = Builder.for_files(env)
    lines, diagnostics = source.lines_from_bytes(data, file)
    builder.diagnostics.extend(diagnostics)
    builder.feed(lines)
    return build_loaded(builder, strict=strict, check_files=check_files)


def build_loaded(builder: Builder, *, strict: bool = False, check_files: bool = True) -> Loaded:
    """Finish what `builder` was fed (a file, code, or both) into a Loaded."""
    from korepyd.config import files
    from korepyd.config.finish import finish

    config = finish(builder)
    if check_files:
        builder.diagnostics.extend(files.check(builder.paths, config))
    found = _in_file_order(builder.diagnostics)
    if strict:
        found = [Diagnostic("error", d.message, d.pos, d.text, d.width) if not d.is_error else d for d in found]
    if any(d.is_error for d in found):
        raise ConfigError(found)
    return Loaded(config, tuple(found))


def __getattr__(name: str):
    """Builder on first use: a worker imports the model only (config.model)."""
    if name == "Builder":
        from korepyd.config.build import Builder

        return Builder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _in_file_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sort by line within each file, files in the order first reported."""
    files: dict[str, int] = {}
    for d in diagnostics:
        if d.pos:
            files.setdefault(d.pos.file, len(files))

    def key(d: Diagnostic):
        return (files[d.pos.file], d.pos.line, d.pos.column) if d.pos else (-1, 0, 0)

    return sorted(diagnostics, key=key)

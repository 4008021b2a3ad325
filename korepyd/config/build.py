"""Builds a Config from kore.conf lines: Kore's parser state machine.

Kore resolves a configuration line by line (Kore: kore_parse_config_file()
and the configure_*() functions in src/config.c), and so does this module:
a directive may only refer to what earlier lines defined (a server before
its `attach`, a validator before its `validate`, ...). It keeps Kore's
block rules too: at most one open block of each kind, and a `}` closes the
first open kind in the order privsep, server, route/params,
authentication, domain, whatever was opened last.

Where Kore is silently wrong, this builder says so and does better:
- every problem in a file is reported, not just the first, each with its
  file, line and column;
- an unknown keyword, a line with no value, a block left open at the end of
  the file and a stray `}` are warnings (Kore ignores them silently or with
  a bare notice); a `}` followed by trailing text still closes its block;
- a `}` that closes a block other than the one opened last is a warning.

The builder does no I/O of its own: the environment (for `$VAR` values)
and a function that reads included files are handed to it.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from korepyd.config import model
from korepyd.config.syntax import BLANKS, Line, Word
from korepyd.errors import Diagnostic

# Kore closes blocks by kind, in this order, not by nesting (see module doc).
CLOSE_ORDER = ("privsep", "server", "route", "params", "authentication", "domain")

MAX_INCLUDE_DEPTH = 16

ReadLines = Callable[[str, Line], tuple[list[Line], list[Diagnostic]]]


class Problem(Exception):
    """An error in the line being built; becomes an error diagnostic.

    `word` is the word to point at (the keyword when None). Handlers raise
    it and the builder goes on with the next line.
    """

    def __init__(self, message: str, word: Word | None = None):
        super().__init__(message)
        self.message = message
        self.word = word


@dataclass(frozen=True)
class PathRef:
    """A path a directive names, to be checked on disk once the whole file
    is read (files.py); `kind` is the directive ("filemap", "logfile", ...)."""

    kind: str
    path: str
    line: Line
    word: Word


@dataclass
class Block:
    """A block being built: its kind, its opening line, the model object
    so far (replaced as lines arrive) and whether its opener was broken.
    A broken block still catches its lines and its `}`, but is not kept."""

    kind: str
    line: Line
    obj: Any
    broken: bool = False


class Builder:
    """Holds what has been defined so far; directive handlers add to it."""

    def __init__(self, env: Mapping[str, str], read_lines: ReadLines):
        self.env = env
        self.read_lines = read_lines
        self.diagnostics: list[Diagnostic] = []
        self.settings: dict[str, Any] = {}
        self.seen: set[str] = set()           # settings written so far
        self.blocks: dict[str, Block] = {}    # the open block of each kind
        self.opened: list[Block] = []         # open blocks, oldest first
        self.servers: dict[str, model.Server] = {}
        self.global_binds: list[model.Bind | model.UnixBind] = []
        self.domains: list[model.Domain] = []
        self.validators: list[model.Validator] = []
        self.broken_names: set[str] = set()   # validators/auths whose line failed
        self.authentications: dict[str, model.Authentication] = {}
        self.privsep: dict[str, model.Privsep] = {}
        self.python_path: list[str] = []
        self.python_import: list[model.PythonImport] = []
        self.media_types: list[model.MediaType] = []
        self.worker_no_accept: list[int] = []
        self.pledge: list[str] = []
        self.paths: list[PathRef] = []         # paths to check on disk
        self._includes: list[str] = []
        self._texts: dict[tuple[str, int], str] = {}  # (file, line) -> text, for late diagnostics

    @classmethod
    def for_files(cls, env: Mapping[str, str] | None = None) -> Builder:
        """A builder that reads included files from disk."""
        import os

        from korepyd.config import source

        def read_lines(path: str, line: Line):
            try:
                data = source.read_path(path)
            except OSError as exc:
                raise Problem(f"failed to open include '{path}': {exc.strerror or exc}", line.args[0]) from None
            return source.lines_from_bytes(data, path)

        return cls(os.environ if env is None else env, read_lines)

    def feed_file(self, path: str) -> None:
        """Read a whole configuration file into this builder (after code)."""
        from korepyd.config import source

        try:
            data = source.read_path(path)
        except OSError as exc:
            self.diagnostics.append(Diagnostic("error", f"configuration given cannot be opened: {path}: "
                                                        f"{exc.strerror or exc}"))
            return
        lines, found = source.lines_from_bytes(data, path)
        self.diagnostics.extend(found)
        self.feed(lines)

    # -- diagnostics -----------------------------------------------------

    def report(self, severity: str, message: str, line: Line, word: Word | None = None) -> None:
        width = len(word.text) if word else len(line.words[0].text) if line.words else 1
        self.diagnostics.append(Diagnostic(severity, message, line.pos(word), line.text, width))

    def warn(self, message: str, line: Line, word: Word | None = None) -> None:
        self.report("warning", message, line, word)

    def line_text(self, pos) -> str:
        return self._texts.get((pos.file, pos.line), "") if pos else ""

    # -- blocks ----------------------------------------------------------

    def open(self, kind: str, line: Line, obj: Any, broken: bool = False) -> Block:
        block = Block(kind, line, obj, broken)
        self.blocks[kind] = block
        self.opened.append(block)
        return block

    def current(self, kind: str) -> Block | None:
        return self.blocks.get(kind)

    def require(self, kind: str, message: str) -> Block:
        """The open block of `kind`, or a Problem with Kore's message."""
        block = self.blocks.get(kind)
        if block is None:
            raise Problem(message)
        return block

    def close(self, line: Line) -> None:
        """A `}` line: close the first open kind in Kore's order."""
        kind = next((k for k in CLOSE_ORDER if k in self.blocks), None)
        if kind is None:
            self.warn("'}' closes nothing: no block is open", line)
            return
        block = self.blocks[kind]
        innermost = self.opened[-1]
        if innermost is not block:
            opener = innermost.line
            self.warn(
                f"this '}}' closes the {kind} block of line {block.line.number}, not the "
                f"{innermost.kind} block opened on line {opener.number} "
                "(Kore closes blocks by kind, not by nesting)",
                line,
            )
        self._finish(block, line)

    def _finish(self, block: Block, close_line: Line) -> None:
        del self.blocks[block.kind]
        self.opened.remove(block)
        if block.broken:
            return
        from korepyd.config import blocks  # the close checks live with the openers

        try:
            blocks.CLOSERS[block.kind](self, block)
        except Problem as problem:
            self.report("error", problem.message, block.line, block.line.words[0])

    def close_all_at_end(self) -> None:
        for kind in CLOSE_ORDER:
            block = self.blocks.get(kind)
            if block is not None:
                self.warn(f"{kind} block is never closed (a '}}' line is missing)", block.line)
                self._finish(block, block.line)

    # -- lines -----------------------------------------------------------

    def feed(self, lines: list[Line]) -> None:
        from korepyd.config.directives import TABLE

        for line in lines:
            self._texts[line.file, line.number] = line.text
            if line.is_close:
                self.close(line)
            elif line.keyword == "}":
                self._loose_close(line)
            elif line.keyword not in TABLE:
                self._unknown(line)
            elif not line.args:
                self.warn(f'ignoring "{line.keyword}": no value given', line)
            else:
                self._apply(TABLE[line.keyword], line)

    def _loose_close(self, line: Line) -> None:
        """`} ` or `} # end`: Kore ignores the line and the block stays open,
        which breaks everything after it; korepyd closes the block."""
        if line.args:
            self.warn("text after '}' is ignored (kore.conf has no trailing comments)", line, line.args[0])
        else:
            self.warn("blanks after '}' (Kore would not close the block here; korepyd does)", line)
        self.close(line)

    def _apply(self, directive, line: Line) -> None:
        try:
            line = self._substitute(line)
            directive.apply(self, line)
        except Problem as problem:
            self.report("error", problem.message, line, problem.word or line.words[0])

    def _substitute(self, line: Line) -> Line:
        """Kore 4.2 `$VAR`: a value starting with '$' names a variable."""
        if not line.value.startswith("$"):
            return line
        name = line.value[1:]
        if name not in self.env:
            raise Problem(f"variable ${name} does not exist", line.args[0])
        content = self.env[name].strip(" \t\r\n")
        if not content:
            raise Problem(f"variable ${name} is empty", line.args[0])
        column = line.args[0].column
        words = tuple(Word(text, column) for text in BLANKS.split(content))
        return replace(line, words=(line.words[0],) + words, value=content)

    def _unknown(self, line: Line) -> None:
        from korepyd.config.directives import RENAMED, TABLE

        keyword = line.keyword
        if keyword in RENAMED:
            hint = f" (renamed to '{RENAMED[keyword]}' in Kore)"
        elif keyword == "{":
            hint = " (a block's '{' must be on the line that opens it)"
        else:
            close = _close_matches(keyword, list(TABLE), n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
        self.warn(f'ignoring unknown keyword "{keyword}"{hint}', line)

    def include(self, path: str, line: Line) -> None:
        """Kore's `include`: the file's lines go through the same state."""
        if len(self._includes) >= MAX_INCLUDE_DEPTH or path in self._includes:
            raise Problem(f"include '{path}' includes itself (include loop)", line.args[0])
        self._includes.append(path)
        try:
            lines, found = self.read_lines(path, line)
            self.diagnostics.extend(found)
            self.feed(lines)
        finally:
            self._includes.pop()

    # -- names -----------------------------------------------------------

    def has_validator(self, name: str) -> bool:
        """Declared earlier (a declaration that failed counts, to spare the
        user a second error for the same mistake)."""
        return name in self.broken_names or any(v.name == name for v in self.validators)

    def known_validator(self, word: Word) -> str:
        """Check that a validator named by `word` was declared earlier."""
        name = word.text
        if self.has_validator(name):
            return name
        raise Problem(f"unknown validator '{name}'{suggest(name, [v.name for v in self.validators])}", word)

    def known_authentication(self, word: Word, message: str) -> str:
        name = word.text
        if name in self.authentications or name in self.broken_names:
            return name
        raise Problem(message + suggest(name, list(self.authentications)), word)


def suggest(name: str, candidates: list[str]) -> str:
    """' (did you mean 'x'?)' when a candidate is close to `name`."""
    close = _close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _close_matches(word: str, candidates: list[str], n: int, cutoff: float) -> list[str]:
    """difflib's suggestions, imported only when a name is wrong (not in workers)."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=n, cutoff=cutoff)

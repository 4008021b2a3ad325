"""The one exception tree of korepyd, and the exit codes the CLI maps it to.

Everything korepyd reports to a person about their input goes through a
Diagnostic: a severity, a message and, when the input came from a file, the
place in it (file, line, column) plus the line itself, so that the message
can be printed the way a compiler prints one:

    conf/app.conf:14:21: error: unknown validator 'v_idd' (did you mean 'v_id'?)
       14 |     validate qs:get id v_idd
          |                        ^~~~~

This module knows nothing about kore.conf itself; the config package makes
the diagnostics, the CLI prints them.

Layer: shared (every layer).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit statuses (also the child-to-parent boot protocol)."""

    OK = 0
    CONFIG = 1          # the configuration (or the app it names) is invalid
    FATAL = 1           # kore.fatalx(): the app stopped the server (Kore's exit status 1)
    USAGE = 2           # bad command line
    BOOT_ERROR = 3      # could not start: port in use, permission denied, ...
    APP_LOAD_ERROR = 4  # the Python app failed to import
    SOFTWARE = 70       # a bug in korepyd (sysexits EX_SOFTWARE)


@dataclass(frozen=True)
class SourcePos:
    """A place in a configuration file; line and column are 1-based."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One message about the user's input.

    `text` is the physical source line the message is about and `width` the
    number of characters to underline from `pos.column`; both may be empty
    when there is no line to show (a missing file, an unset variable).
    """

    severity: str          # "error" or "warning"
    message: str
    pos: SourcePos | None = None
    text: str = ""
    width: int = 1

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def headline(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        return f"{where}{self.severity}: {self.message}"

    def render(self) -> str:
        """The headline plus the source line with a caret under the culprit."""
        if not self.pos or not self.text:
            return self.headline()
        number = str(self.pos.line)
        gutter = " " * len(number)
        # Keep the tabs of the source line so the caret lines up in a terminal.
        lead = "".join(c if c == "\t" else " " for c in self.text[: self.pos.column - 1])
        marker = "^" + "~" * max(0, self.width - 1)
        return (
            f"{self.headline()}\n"
            f" {number} | {self.text}\n"
            f" {gutter} | {lead}{marker}"
        )


class KorepydError(Exception):
    """Root of every error korepyd raises on purpose."""

    exit_code = ExitCode.BOOT_ERROR


class ConfigError(KorepydError):
    """The configuration is invalid; carries every diagnostic found."""

    exit_code = ExitCode.CONFIG

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0].headline() if errors else "invalid configuration"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class AppLoadError(KorepydError):
    """The Python application named by the configuration could not load."""

    exit_code = ExitCode.APP_LOAD_ERROR


class PgsqlError(RuntimeError):
    """A query failed; `sqlstate` and `message` are the server's (a
    RuntimeError, as Kore's pgsql errors are)."""

    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message

"""What a kore.conf line says, before any directive gives it meaning.

Kore's configuration is line-oriented: each physical line is blank, a
comment, a block close (exactly "}") or a statement (a keyword and its
value). The grammar (kore.lark, driven by grammar.py) turns text into the
Line objects below; everything after that works on these and never sees lark.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from korepyd.errors import SourcePos

BLANKS = re.compile(r"[ \t]+")
"""What separates words: spaces and tabs, as in kore.lark (Kore turns tabs
into spaces, then splits on spaces)."""


@dataclass(frozen=True)
class Word:
    """A run of characters between spaces, and the column it starts at."""

    text: str
    column: int


@dataclass(frozen=True)
class Line:
    """One close or statement line of a configuration file.

    `words` is empty for a close. For a statement, `words[0]` is the keyword
    and the rest are the value's words; `text` is the whole physical line.
    `value` is the value as Kore sees it: the rest of the line after the
    keyword, trimmed, inner spaces kept (for directives that take the whole
    rest of the line, like `http_server_version my server 1.0`).
    """

    file: str
    number: int
    text: str
    words: tuple[Word, ...] = ()
    value: str = ""

    @property
    def is_close(self) -> bool:
        return not self.words

    @property
    def keyword(self) -> str:
        return self.words[0].text

    @property
    def args(self) -> tuple[Word, ...]:
        return self.words[1:]

    def rest(self, index: int) -> str:
        """The value from its `index`-th word (0-based) on, inner blanks kept."""
        return BLANKS.split(self.value, maxsplit=index)[index]

    def pos(self, word: Word | None = None) -> SourcePos:
        column = word.column if word is not None else self._first_column()
        return SourcePos(self.file, self.number, column)

    def _first_column(self) -> int:
        if self.words:
            return self.words[0].column
        return len(self.text) - len(self.text.lstrip(" \t\f\v\r")) + 1

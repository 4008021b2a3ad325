"""Turns kore.conf text into Line objects with the Lark grammar in kore.lark.

This is the only module that imports lark. The grammar accepts any text (a
line it cannot give a meaning to is still a statement), so a lark error here
means a bug in the grammar; it is still turned into a diagnostic rather than
a traceback.

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

import functools
from pathlib import Path

import lark

from korepyd.config.syntax import Line, Word
from korepyd.errors import ConfigError, Diagnostic, SourcePos

_GRAMMAR = Path(__file__).with_name("kore.lark")


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=False,
    )


def parse_lines(text: str, file: str) -> list[Line]:
    """Return the close and statement lines of `text`, in order.

    `text` must use "\\n" line endings (source.py normalises them).
    """
    physical = text.split("\n")
    try:
        tree = _parser().parse("\n" + text)
    except lark.exceptions.UnexpectedInput as exc:  # pragma: no cover - grammar bug
        line = max(1, exc.line - 1)
        pos = SourcePos(file, line, exc.column)
        raise ConfigError([Diagnostic("error", "cannot parse this line", pos, physical[line - 1])]) from None
    lines = []
    for node in tree.children:
        tokens = node.children
        number = tokens[0].line - 1  # the prepended newline shifts every line by one
        text = physical[number - 1]
        if node.data == "close":
            lines.append(Line(file, number, text))
            continue
        words = tuple(Word(str(t), t.column) for t in tokens)
        value = text[words[1].column - 1 : tokens[-1].end_column - 1] if len(words) > 1 else ""
        lines.append(Line(file, number, text, words, value))
    return lines

"""Reads configuration files into lines, as text Kore would read.

Kore reads bytes and only ever looks for '\\n'. korepyd reads UTF-8 text and
says what it had to repair: a byte that is not UTF-8 or a NUL byte is an
error at its place; CRLF line endings and a byte-order mark are read as if
they were not there, with one warning (Kore itself would see "}\\r", never
close a block, and carry on silently).

Layer: config (the kore.conf language and its frozen model; shared by every role).
"""

from __future__ import annotations

from pathlib import Path

from korepyd.config.syntax import Line
from korepyd.errors import Diagnostic, SourcePos


def read_path(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def lines_from_bytes(data: bytes, file: str) -> tuple[list[Line], list[Diagnostic]]:
    """Decode, repair and parse one file; return its lines and diagnostics."""
    text, diagnostics = _decode(data, file)
    if text.startswith("\ufeff"):
        text = text[1:]
        diagnostics.append(Diagnostic("warning", "byte-order mark at the start of the file ignored",
                                      SourcePos(file, 1, 1)))
    if "\r\n" in text:
        number = text[: text.index("\r\n")].count("\n") + 1
        diagnostics.append(Diagnostic(
            "warning", "CRLF line endings read as LF (Kore itself would never see a '}' close a block here)",
            SourcePos(file, number, 1)))
        text = text.replace("\r\n", "\n")
    if "\0" in text:
        diagnostics.append(_at(text, text.index("\0"), file, "NUL byte in the file"))
        text = text.replace("\0", "\ufffd")
    from korepyd.config.grammar import parse_lines  # lark only where text is parsed: not in workers

    return parse_lines(text, file), diagnostics


def _decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        text = data.decode("utf-8", errors="replace")
        message = f"not UTF-8: byte 0x{data[exc.start]:02x} (the file must be UTF-8 text)"
        return text, [_at(good + "\ufffd", len(good), file, message)]


def _at(text: str, index: int, file: str, message: str) -> Diagnostic:
    line = text.count("\n", 0, index) + 1
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    shown = text[start : end if end >= 0 else len(text)].replace("\0", "\ufffd")
    return Diagnostic("error", message, SourcePos(file, line, index - start + 1), shown)

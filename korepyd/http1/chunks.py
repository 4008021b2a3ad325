"""A watch on the framing of a chunked request body, beside h11.

h11 parses chunked bodies itself but never shows the chunk lines, and it
accepts a bare CR inside a chunk extension (`5;a=b\\rc`), which other
servers on the path may read differently (request smuggling). ChunkGuard
reads the same bytes h11 is given and refuses, before h11 sees them, any
chunk-size line that is not `HEX[;extension]CRLF` with a printable
extension, and any overlong chunk or trailer line. It only looks at the
line structure; the data itself is h11's business.

Layer: wire (http1), sans-IO.
"""

from __future__ import annotations

import re

MAX_LINE = 4096
_SIZE_LINE = re.compile(rb"[0-9A-Fa-f]{1,16}(;[\t\x20-\x7e]*)?\r\n\Z")


class ChunkError(ValueError):
    """The chunked framing is malformed."""


class ChunkGuard:
    def __init__(self) -> None:
        self._state = "size"       # size, data, data-end, trailer, done
        self._line = bytearray()
        self._remaining = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> int:
        """Check `data`; return how many of its bytes belong to this body
        (the rest, if any, is the next request). Raises ChunkError."""
        i = 0
        while i < len(data) and self._state != "done":
            if self._state == "data":
                step = min(self._remaining, len(data) - i)
                i += step
                self._remaining -= step
                if self._remaining == 0:
                    self._state, self._remaining = "data-end", 2
            elif self._state == "data-end":
                step = min(self._remaining, len(data) - i)
                i += step
                self._remaining -= step
                if self._remaining == 0:
                    self._state = "size"
            else:
                i = self._read_line(data, i)
        return i

    def _read_line(self, data: bytes, i: int) -> int:
        end = data.find(b"\n", i)
        stop = len(data) if end < 0 else end + 1
        self._line += data[i:stop]
        if len(self._line) > MAX_LINE:
            raise ChunkError("chunk line too long")
        if end >= 0:
            line, self._line = bytes(self._line), bytearray()
            self._line_done(line)
        return stop

    def _line_done(self, line: bytes) -> None:
        if self._state == "size":
            if not _SIZE_LINE.match(line):
                raise ChunkError(f"malformed chunk-size line {line[:40]!r}")
            size = int(line.split(b";", 1)[0].split(b"\r", 1)[0], 16)
            self._state, self._remaining = ("data", size) if size else ("trailer", 0)
        elif line in (b"\r\n", b"\n"):  # the end of the trailers
            self._state = "done"
        elif b"\r" in line[:-2]:
            raise ChunkError("bare CR in a trailer line")

"""The readers of a request (h11/_readers.py): request heads, by the
cheapest of three that reads a head as h11 does (SIMPLE_HEAD's match,
llhttp through httptools, h11 itself for every head the first two cannot
settle), and chunked bodies with their trailers. Layer: wire (http1),
sans-IO. A head or body against h11's grammar raises Malformed, with the
status h11 would hint.
"""

from __future__ import annotations

import h11
from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from korepyd.http1.grammar import CHUNK_HEADER, DIGITS, FOLD, HEADER_LINE, TARGET

# the headers whose values the engine needs (framing, keep-alive, switching), by lower name
SPECIAL = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection", b"upgrade", b"expect"})
METHODS = {m: m.decode().lower() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH")}
END = object()                 # a body reader's "end of the message"
_VERSIONS = {f"{major}.{minor}": b"%d.%d" % (major, minor) for major in range(10) for minor in range(10)}
_NAMES_IN: dict[bytes, tuple[bytes, str]] = {}    # request header names seen -> lower case, that as text
_CACHE_MAX = 1024


class Malformed(Exception):
    """What h11 would raise as RemoteProtocolError: the status and why."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status


class HeadReader:
    """A connection's request heads, each read by the cheapest reader that
    reads it as h11 does: SIMPLE_HEAD's match, else llhttp (its parser is
    kept from one request to the next while the connection is kept alive)."""

    __slots__ = ("_parser", "_collector")

    def __init__(self) -> None:
        self._parser: HttpRequestParser | None = None
        self._collector = _HeadCollector()

    def read(self, head: bytes, simple) -> tuple | None:  # cpdef
        """The head as parse_with_h11 returns it, read from `simple` (its
        SIMPLE_HEAD match, or None) or by llhttp; None where h11 must decide."""
        if simple is not None:
            method, target, version, fields = simple.groups()
            return request_fields(method, target, version, simple_fields(fields), True)
        if head[0] < 0x21:  # llhttp skips empty lines before a request; h11 refuses them
            return None
        parser, collector = self._parser, self._collector
        if parser is None:
            parser = HttpRequestParser(collector)
        collector.start()
        self._parser = None
        try:
            parser.feed_data(head)
        except HttpParserUpgrade:
            pass
        except HttpParserError:
            return None
        else:
            if collector.complete and parser.should_keep_alive():
                self._parser = parser
        if not collector.headers_done:
            return None
        method, target, version = parser.get_method(), collector.url, _version(parser)
        if not head.startswith(b"%s %s HTTP/%s\r\n" % (method, target, version)) or not TARGET.fullmatch(target):
            return None
        return request_fields(method, target, version, collector.headers)


class _HeadCollector:
    """llhttp's callbacks for one request head: the target and the header lines."""

    __slots__ = ("url", "headers", "headers_done", "complete")

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_message_complete(self) -> None:
        self.complete = True

class ChunkedReader:
    """h11's ChunkedReader on a bytearray: decoded data, END, or None for "need data"."""

    def __init__(self) -> None:
        self._in_chunk = 0           # bytes of the current chunk still to come
        self._to_discard = b""       # the CRLF after a chunk, as far as it has not come yet
        self._reading_trailer = False

    def __call__(self, buffer: bytearray):
        if self._reading_trailer:
            lines = _extract_lines(buffer)
            if lines is None:
                return None
            _check_fields(_header_fields(lines))
            return END
        if self._to_discard:
            data = _extract_at_most(buffer, len(self._to_discard))
            if data is None:
                return None
            if data != self._to_discard[:len(data)]:
                raise Malformed(f"malformed chunk footer: {data!r} (expected {self._to_discard!r})")
            self._to_discard = self._to_discard[len(data):]
            if self._to_discard:
                return None
        if self._in_chunk == 0:
            end = buffer.find(b"\r\n")
            if end < 0:
                return None
            line = bytes(buffer[:end + 2])
            del buffer[:end + 2]
            match = CHUNK_HEADER.fullmatch(line)
            if not match:
                raise Malformed(f"illegal chunk header: {line!r}")
            self._in_chunk = int(match["size"], 16)
            if self._in_chunk == 0:
                self._reading_trailer = True
                return self(buffer)
        data = _extract_at_most(buffer, self._in_chunk)
        if data is None:
            return None
        self._in_chunk -= len(data)
        if self._in_chunk == 0:
            self._to_discard = b"\r\n"
        return data

def head_end(buffer: bytearray) -> tuple[int, int] | None:  # cpdef
    """Where `\\r?\\n\\r?\\n` first matches (the oracle's HEAD_END): the
    same blank line, found as h11 finds it (the first `\\n\\r?\\n`), by two
    searches for fixed bytes."""
    lf_cr_lf = buffer.find(b"\n\r\n")
    lf_lf = buffer.find(b"\n\n", 0, len(buffer) if lf_cr_lf < 0 else lf_cr_lf + 1)
    if lf_lf >= 0:
        start, stop = lf_lf, lf_lf + 2
    elif lf_cr_lf >= 0:
        start, stop = lf_cr_lf, lf_cr_lf + 3
    else:
        return None
    if start and buffer[start - 1] == 0x0D:
        start -= 1
    return start, stop

def parse_with_h11(head: bytes, header_max: int) -> tuple:
    """A head llhttp could not settle, parsed by the reference: method, target,
    version, headers as (lower name, value) text, and `special`, the values
    of the headers named in SPECIAL by lower name."""
    reference = h11.Connection(h11.SERVER, max_incomplete_event_size=header_max)
    reference.receive_data(head)
    try:
        request = reference.next_event()
    except h11.RemoteProtocolError as exc:
        raise Malformed(str(exc), exc.error_status_hint if exc.error_status_hint >= 400 else 400) from None
    headers, special = [], {}
    for lower, value in request.headers:
        headers.append((lower.decode("latin-1"), value.decode("latin-1")))
        if lower in SPECIAL:
            special.setdefault(lower, []).append(value)
    return request.method, request.target, request.http_version, headers, special

def request_fields(method: bytes, target: bytes, version: bytes, fields: list, trimmed: bool = False) -> tuple | None:  # cpdef
    """HeadReader.read's result from the (name, value) pairs a parser read
    (`trimmed`: values without trailing blanks, which llhttp keeps); None
    where h11 must decide (an odd Content-Length or Transfer-Encoding, h11's
    Host rule)."""
    value: bytes  # (declarations.py: its methods are C calls, compiled)
    headers, special = [], {}
    for name, value in fields:
        names = _NAMES_IN.get(name)
        if names is None:
            names = _names_in(name)
        lower = names[0]
        if not trimmed:
            value = value.rstrip(b" \t")
        if lower in SPECIAL:
            if lower == b"content-length" and not DIGITS.fullmatch(value):
                return None
            if lower == b"transfer-encoding":
                value = value.lower()
                if value != b"chunked" or lower in special:
                    return None
            special.setdefault(lower, []).append(value)
        headers.append((names[1], value.decode("latin-1")))
    hosts = len(special.get(b"host", ()))
    if hosts > 1 or (hosts == 0 and version == b"1.1"):
        return None
    return method, target, version, headers, special

def simple_fields(block: bytes) -> list[tuple[bytes, bytes]]:  # cpdef
    """The (name, value) pairs of the header lines SIMPLE_HEAD matched,
    each `name:[blanks]value[blanks]CRLF`: split at CRLF and at the first
    colon (a name has none), the value without its blanks."""
    pairs = []
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        pairs.append((name, value.strip(b" \t")))
    return pairs

def _names_in(name: bytes) -> tuple[bytes, str]:  # cpdef
    """A request header name as received -> (in lower case, that as text),
    worked out once per name."""
    if len(_NAMES_IN) >= _CACHE_MAX:
        _NAMES_IN.clear()
    lower = name.lower()
    names = _NAMES_IN[name] = (lower, lower.decode("latin-1"))
    return names

def _version(parser: HttpRequestParser) -> bytes:
    text = parser.get_http_version()
    return _VERSIONS.get(text) or text.encode("ascii")

def _extract_at_most(buffer: bytearray, count: int) -> bytes | None:
    data = bytes(buffer[:count])
    if not data:
        return None
    del buffer[:count]
    return data

def _extract_lines(buffer: bytearray) -> list[bytes] | None:
    """h11's ReceiveBuffer.maybe_extract_lines: the lines up to a blank one."""
    for empty in (b"\n", b"\r\n"):
        if buffer.startswith(empty):
            del buffer[:len(empty)]
            return []
    found = head_end(buffer)  # the first \n\r?\n
    if found is None:
        return None
    block = bytes(buffer[:found[1]])
    del buffer[:found[1]]
    lines = [line[:-1] if line.endswith(b"\r") else line for line in block.split(b"\n")]
    return lines[:-2]

def _header_fields(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """h11's _decode_header_lines, obs-fold unfolded as h11 does."""
    unfolded: list[bytes] = []
    for line in lines:
        fold = FOLD.match(line)
        if fold:
            if not unfolded:
                raise Malformed("continuation line at start of headers")
            unfolded[-1] += b" " + line[fold.end():]
        else:
            unfolded.append(line)
    fields = []
    for line in unfolded:
        match = HEADER_LINE.fullmatch(line)
        if not match:
            raise Malformed(f"illegal header line: {line!r}")
        fields.append((match["name"], match["value"]))
    return fields

def _check_fields(fields: list[tuple[bytes, bytes]]) -> None:
    """h11's normalize_and_validate on parsed fields (trailers): Content-Length and Transfer-Encoding."""
    seen_length, seen_encoding = None, False
    for name, value in fields:
        name = name.lower()
        if name == b"content-length":
            lengths = {length.strip() for length in value.split(b",")}
            value = lengths.pop() if len(lengths) == 1 else None
            if value is None or not DIGITS.fullmatch(value) or seen_length not in (None, value):
                raise Malformed("bad or conflicting Content-Length")
            seen_length = value
        elif name == b"transfer-encoding":
            if seen_encoding:
                raise Malformed("multiple Transfer-Encoding headers", 501)
            if value.lower() != b"chunked":
                raise Malformed("Only Transfer-Encoding: chunked is supported", 501)
            seen_encoding = True

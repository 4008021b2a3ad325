"""The server side of one HTTP/1.1 connection, sans-IO: korepyd's one HTTP/1.1
engine. Layer: wire (http1). Feed it bytes with receive_data(), take
events (events.py) from next_event(), and turn responses into bytes with
respond(); it never does I/O and never sleeps: the worker drives it and
owns the timeouts.

It keeps h11's state machine (client and server states, keep-alive, switch
proposals, 100-continue) and its request body framing, ported to a few
plain methods, applies korepyd's rules (rules.py, chunks.py) and gives the
request head to the cheapest reader that reads it as h11 does:

- the plainest heads (a common method, a target and header values of
  visible ASCII, CRLF line ends) are matched by one regular expression,
  h11's grammar narrowed (_SIMPLE_HEAD), and split with bytes methods;
- a head llhttp (httptools) accepts is taken only if it is also in the part
  of the grammar where llhttp and h11 read the same thing: a request line
  of exactly `METHOD SP target SP HTTP/d.d CRLF`, a target of visible
  ASCII, no empty line before it, at most one Transfer-Encoding and that
  one `chunked`, Content-Length of at most 20 digits, h11's Host rule;
- any other head (llhttp refuses it, or it falls outside that part: bare
  LF line ends, methods llhttp does not know, control bytes h11 lets
  through in values, odd spacing) is parsed by h11 itself
  (_parse_with_h11), whose verdict and result stand. A refused request
  costs what it always did; the common one never meets h11.

Chunked bodies are read by a port of h11's ChunkedReader beside the
ChunkGuard (llhttp's chunk and trailer rules differ from h11's).
Responses are written here, byte for byte as h11 writes them, with h11's
header checks and its h11.LocalProtocolError; the one difference: a
reason phrase that h11 would write as given but that could split the
response is refused.

tests/http1/test_differential.py holds it to the oracle, the same
interface on h11 itself (tests/http1/h11_oracle.py), on the request
corpus, on mutations of it and on generated requests and responses.
"""

from __future__ import annotations

import re
from http import HTTPStatus

import h11
from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from korepyd.http1.chunks import ChunkError, ChunkGuard
from korepyd.http1.events import CLOSED, NEED_DATA, BodyData, EndOfRequest, Event, Reject, RequestHead
from korepyd.http1.response import FIELD_VALUE, TOKEN, ResponseHead
from korepyd.http1.rules import CONTENT_LENGTH, Limits, refusal, split_target

__all__ = ["HttpConnection"]

# h11's states, shared so that tests can compare them with h11's own
IDLE, SEND_RESPONSE, SEND_BODY, DONE = h11.IDLE, h11.SEND_RESPONSE, h11.SEND_BODY, h11.DONE
MUST_CLOSE, CONN_CLOSED, ERROR = h11.MUST_CLOSE, h11.CLOSED, h11.ERROR
MIGHT_SWITCH, SWITCHED = h11.MIGHT_SWITCH_PROTOCOL, h11.SWITCHED_PROTOCOL
_UPGRADE, _CONNECT = "upgrade", "connect"          # the protocol switches a client may propose

# (client, server) -> (new client, new server): h11's state-triggered transitions
_JOINT = {
    (MIGHT_SWITCH, SWITCHED): (SWITCHED, SWITCHED),
    (CONN_CLOSED, DONE): (CONN_CLOSED, MUST_CLOSE),
    (CONN_CLOSED, IDLE): (CONN_CLOSED, MUST_CLOSE),
    (ERROR, DONE): (ERROR, MUST_CLOSE),
    (DONE, CONN_CLOSED): (MUST_CLOSE, CONN_CLOSED),
    (IDLE, CONN_CLOSED): (MUST_CLOSE, CONN_CLOSED),
    (DONE, ERROR): (MUST_CLOSE, ERROR),
}

# h11's grammar (h11/_abnf.py), for what h11 checks itself
_HEADER_LINE = re.compile(rb"(?P<name>[-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*(?P<value>([^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*")
_CHUNK_HEADER = re.compile(rb"(?P<size>[0-9A-Fa-f]{1,20})(;.*)?[ \t]*\r\n")
_REASON = re.compile(rb"([ \t]|[^\x00\s])*")
_DIGITS = re.compile(rb"[0-9]{1,20}")
_TARGET = re.compile(rb"[\x21-\x7e]+")
# The plainest heads, matched by one expression with no parser at all (then split by _simple_fields):
# a method llhttp and h11 both know, a target of visible ASCII, CRLF line ends, header values of
# visible ASCII with inner blanks. h11 reads such a head exactly so (tests/http1/test_differential.py);
# possessive repeats keep the expression linear on long runs of blanks.
_SIMPLE_NAME = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_SIMPLE_VALUE = rb"(?:[!-~]++(?:[ \t]++[!-~]++)*+)?+"
_SIMPLE_HEAD = re.compile(rb"(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) ([!-~]++) HTTP/(1\.[01])\r\n"
                          rb"((?:%s:[ \t]*+%s[ \t]*+\r\n)*+)\r\n" % (_SIMPLE_NAME, _SIMPLE_VALUE))
_FOLD = re.compile(rb"[ \t]+")

_VERSIONS = {f"{major}.{minor}": b"%d.%d" % (major, minor) for major in range(10) for minor in range(10)}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {s.value: (s.phrase.encode(), b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode())) for s in HTTPStatus}
_SPECIAL = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection", b"upgrade", b"expect"})
_NAMES: dict[bytes, bytes] = {}                    # response header names already checked -> lower case
_VALUES: set[bytes] = set()                        # values of the headers korepyd writes itself, already checked
_CACHED_VALUES_OF = frozenset({b"server", b"date", b"connection", b"keep-alive", b"content-length", b"content-type",
                               b"strict-transport-security", b"accept-ranges", b"last-modified", b"etag"})
_CACHE_MAX = 1024
_NAMES_IN: dict[bytes, tuple[bytes, str]] = {}    # request header names seen -> lower case, that as text
_METHODS = {m: m.decode().lower() for m in (b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH")}
_END = object()                                    # a body reader's "end of the message"
_END_OF_REQUEST = EndOfRequest()


class _Refusal(Exception):
    """What h11 would raise as RemoteProtocolError: the status and why."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status


class HttpConnection:
    """One connection's HTTP/1.1, server side."""

    __slots__ = ("limits", "head", "_buffer", "_closed", "_guard", "_body_size", "_rejected", "_client", "_server",
                 "_keep_alive", "_proposals", "_waiting_100", "_request_method", "_their_version", "_reader",
                 "_writer", "_parser", "_collector")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.head: RequestHead | None = None
        self._buffer = bytearray()       # received, not yet consumed: h11's receive buffer
        self._closed = False             # the client sent EOF
        self._guard: ChunkGuard | None = None
        self._body_size = 0
        self._rejected: Reject | None = None
        self._client = IDLE
        self._server = IDLE
        self._keep_alive = True
        self._proposals: set[str] = set()
        self._waiting_100 = False
        self._request_method: bytes | None = None
        self._their_version: bytes | None = None
        self._reader: int | _ChunkedReader = 0  # the request body: bytes still to come, or the chunked reader
        self._writer: int | str = 0         # the response body: bytes still owed, "chunked" or "http/1.0"
        self._collector = _HeadCollector()
        self._parser: HttpRequestParser | None = None

    # -- input ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client; b"" means the client closed its side."""
        if self._rejected:
            return
        if data and self._guard is not None and not self._guard.done:
            try:
                self._guard.feed(data)
            except ChunkError as exc:
                self._reject(400, str(exc))
                return
        if data:
            if self._closed:
                raise RuntimeError("received close, then received more data?")
            self._buffer += data
        else:
            self._closed = True

    def next_event(self) -> Event:
        if self._rejected:
            return self._rejected
        try:
            if self._client is IDLE:
                return self._next_head()
            if self._client is SEND_BODY:
                return self._next_body_event()
            return self._after_request()
        except _Refusal as refusal:
            self._client_error()
            return self._reject(refusal.status, str(refusal))

    def _next_head(self) -> Event:
        buffer, limits = self._buffer, self.limits
        end = _head_end(buffer) if buffer else None
        if buffer:  # http_header_max, in one read or many
            size = end[1] if end else len(buffer)
            if size > limits.header_max:
                first_line = buffer.split(b"\n", 1)[0]
                if len(first_line) > limits.header_max:
                    return self._reject(414, "request line longer than http_header_max")
                return self._reject(431, "request head larger than http_header_max")
        if end is None:
            if buffer and buffer[0] < 0x21:
                raise _Refusal("illegal request line")
            if self._closed:
                if buffer:
                    raise _Refusal("peer unexpectedly closed connection")
                self._client_closed()
                return CLOSED
            return NEED_DATA
        whole = end[1] == len(buffer)  # the usual: the buffer holds this head and nothing more
        head = bytes(buffer) if whole else bytes(buffer[:end[1]])
        lines_end = end[0] + 1  # the head without its blank line
        simple = _SIMPLE_HEAD.fullmatch(head)  # its lines all begin with a name: no obs-fold in it
        if simple is None and (head.find(b"\n ", 0, lines_end) >= 0 or head.find(b"\n\t", 0, lines_end) >= 0):
            return self._reject(400, "folded header line (obs-fold)")  # _OBS_FOLD, by hand
        parsed = self._parse_fast(head, simple)
        if parsed is None:  # the checks made before h11 parses, then h11
            lengths = CONTENT_LENGTH.findall(head, 0, lines_end)
        else:  # llhttp took one Content-Length of digits at most, as any line CONTENT_LENGTH matches
            lengths = parsed[4].get(b"content-length", ())
        if len(lengths) > 1 or (lengths and b"," in lengths[0]):
            return self._reject(400, "more than one Content-Length")
        if whole:
            buffer.clear()
        else:
            del buffer[:end[1]]
        method, target, version, headers, special = parsed or _parse_with_h11(head, limits.header_max)
        return self._on_request(method, target, version, headers, special)

    def _parse_fast(self, head: bytes, simple) -> tuple | None:
        """The head as _parse_with_h11 returns it, read by _SIMPLE_HEAD
        (`simple`, its match) or llhttp; None where h11 must decide."""
        if simple is not None:
            method, target, version, fields = simple.groups()
            return _request_fields(method, target, version, _simple_fields(fields), True)
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
        if not head.startswith(b"%s %s HTTP/%s\r\n" % (method, target, version)) or not _TARGET.fullmatch(target):
            return None
        return _request_fields(method, target, version, collector.headers)

    def _on_request(self, method: bytes, target: bytes, version: bytes, headers: list, special: dict) -> Event:
        """h11 takes the Request, then korepyd's rules (rules.refusal).
        `headers` holds (lower name, value) as text; `special` the values
        of the headers named in _SPECIAL, by lower name."""
        self._take_request(method, version, special)
        lengths = special.get(b"content-length")
        encodings = special.get(b"transfer-encoding")
        problem = refusal(method, target, version, len(headers), lengths, encodings, self.limits)
        if problem:
            return self._reject(*problem)
        length = int(lengths[0]) if lengths else None
        chunked = bool(encodings)
        self._body_size = 0
        if chunked:
            self._guard = ChunkGuard()
            try:
                self._guard.feed(bytes(self._buffer))
            except ChunkError as exc:
                return self._reject(400, str(exc))
        text = target.decode("latin-1")
        path, query = split_target(text)
        self.head = RequestHead(_METHODS.get(method) or method.decode("ascii").lower(), text, path, query, version,
                                headers, length, chunked)
        return self.head

    def _take_request(self, method: bytes, version: bytes, special: dict) -> None:
        """h11's Connection._process_event for a Request from the client."""
        if method == b"CONNECT":
            self._proposals.add(_CONNECT)
        if b"upgrade" in special and _comma_split(special[b"upgrade"]):
            self._proposals.add(_UPGRADE)
        self._client = SEND_BODY
        if self._server is not IDLE:
            raise _Refusal(f"can't handle event type Request when role=SERVER and state={self._server}")
        self._server = SEND_RESPONSE
        self._request_method, self._their_version = method, version
        if version < b"1.1" or _has_token(special.get(b"connection"), b"close"):
            self._keep_alive = False
        self._waiting_100 = version >= b"1.1" and _has_token(special.get(b"expect"), b"100-continue")
        self._settle()
        if b"transfer-encoding" in special:
            self._reader = _ChunkedReader()
        else:
            self._reader = int(special[b"content-length"][0]) if b"content-length" in special else 0

    def _next_body_event(self) -> Event:
        buffer, reader = self._buffer, self._reader
        if type(reader) is int:  # h11's ContentLengthReader
            if reader == 0:
                data = _END
            elif buffer:
                data = bytes(buffer[:reader])
                del buffer[:reader]
                self._reader = reader - len(data)
            else:
                data = None
        else:
            data = reader(buffer)
        if data is None:
            if not buffer and self._closed:
                raise _Refusal("peer closed connection without sending complete message body")
            if len(buffer) > self.limits.header_max:
                raise _Refusal("Receive buffer too long", 431)
            if self._closed:
                raise _Refusal("peer unexpectedly closed connection")
            return NEED_DATA
        self._waiting_100 = False
        if data is _END:
            self._client = DONE
            self._settle()
            return _END_OF_REQUEST
        self._body_size += len(data)
        if self._body_size > self.limits.body_max:
            return self._reject(413, "body larger than http_body_max")
        return BodyData(data)

    def _after_request(self) -> Event:
        """h11 between the end of a request and start_next_cycle()."""
        state = self._client
        if (state is DONE and self._buffer) or state is MIGHT_SWITCH or state is SWITCHED:
            return NEED_DATA  # h11: PAUSED
        if self._buffer:
            raise _Refusal("Got data when expecting EOF")
        if self._closed:
            self._client_closed()
            return CLOSED
        return NEED_DATA

    def _reject(self, status: int, reason: str) -> Reject:
        self._rejected = Reject(status, reason)
        return self._rejected

    # -- output ----------------------------------------------------------------

    @property
    def waiting_for_continue(self) -> bool:
        """The client sent Expect: 100-continue and waits before its body."""
        return self._waiting_100

    def send_continue(self) -> bytes:
        self._check_can_send()
        if self._server is not SEND_RESPONSE:
            self._cannot("InformationalResponse")
        self._waiting_100 = False
        return _CONTINUE

    def respond(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]] | ResponseHead) -> bytes:
        """The response head; raises h11.LocalProtocolError on a bad header."""
        if type(headers) is ResponseHead and headers.lines is not None:
            known = _STATUS_LINES.get(status)
            if known is not None and known[0] == reason and status >= 200:
                data = self._respond_checked(status, headers)
                if data is not None:
                    return known[1] + data
        items = _checked_headers(headers)
        reason = _bytesify(reason)
        if not isinstance(status, int):
            raise h11.LocalProtocolError("status code must be integer")
        status = int(status)
        if not 200 <= status < 1000:
            raise h11.LocalProtocolError(f"Response status_code should be in range [200, 1000), not {status}")
        if not _REASON.fullmatch(reason):  # h11 writes any reason: refuse what would split the response
            raise h11.LocalProtocolError(f"Illegal reason phrase {reason!r}")
        self._check_can_send()
        try:
            items = self._clean_up_response(status, items)
            switch = _CONNECT in self._proposals and 200 <= status < 300
            if not switch:
                self._proposals.clear()
            if self._server is not SEND_RESPONSE and (switch or self._server is not IDLE):
                self._cannot("Response")
            if switch:
                self._server = SWITCHED
            else:
                self._server = SEND_BODY
                self._writer = _body_framing(self._request_method, status, items)
            if _has_token(items.connection, b"close"):
                self._keep_alive = False
            self._waiting_100 = False
            self._settle()
        except h11.LocalProtocolError:
            self._server_error()
            raise
        known = _STATUS_LINES.get(status)
        parts = [known[1] if known and known[0] == reason else b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        if items.host:  # h11 writes Host first
            for name, lower, value in items:
                if lower == b"host":
                    parts += (name, b": ", value, b"\r\n")
        for name, lower, value in items:
            if lower != b"host":
                parts += (name, b": ", value, b"\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def _respond_checked(self, status: int, head: ResponseHead) -> bytes | None:
        """respond() for a head whose lines need no checks and no changes:
        the state h11 would reach, and the lines; None when h11 would change
        the head (no length or no keep-alive) or switch protocols."""
        if self._server is not SEND_RESPONSE or self._proposals or not self._keep_alive:
            return None
        no_body = status == 204 or status == 304
        if head.length is None and not no_body:
            return None  # framed by closing, or chunked: h11 rewrites the head (for HEAD too)
        self._server = SEND_BODY
        self._writer = 0 if no_body or self._request_method == b"HEAD" else head.length
        if head.close:
            self._keep_alive = False
        self._waiting_100 = False
        self._settle()
        return head.lines

    def respond_complete(self, status: int, reason: bytes, headers, body: bytes = b"") -> bytes:
        """respond(), send_body(body) if there is a body, and end(): a whole
        response in one piece (h11's states and checks, in fewer steps)."""
        data = self.respond(status, reason, headers)
        if self._server is SEND_BODY and self._writer == len(body):  # a length the body fills exactly
            self._server, self._writer = DONE, 0
            self._settle()
            return data + body if body else data
        return data + (self.send_body(body) if body else b"") + self.end()

    def send_body(self, data: bytes) -> bytes:
        self._check_can_send()
        if self._server is not SEND_BODY:
            self._cannot("Data")
        writer = self._writer
        if type(writer) is int:
            self._count_body(len(data))
            return bytes(data)
        if writer == "chunked":
            return b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        return bytes(data)

    def send_passthrough(self, length: int) -> None:
        """Account for `length` body bytes the caller sends itself (sendfile)."""
        self._check_can_send()
        if self._server is not SEND_BODY:
            self._cannot("Data")
        if type(self._writer) is int:
            self._count_body(length)

    def end(self) -> bytes:
        self._check_can_send()
        if self._server is not SEND_BODY:
            self._cannot("EndOfMessage")
        self._server = DONE
        self._settle()
        writer = self._writer
        if type(writer) is int:
            if writer != 0:
                self._server_error()
                raise h11.LocalProtocolError("Too little data for declared Content-Length")
            return b""
        return b"0\r\n\r\n" if writer == "chunked" else b""

    @property
    def can_respond(self) -> bool:
        return self._server is IDLE or self._server is SEND_RESPONSE

    @property
    def request_method(self) -> bytes | None:
        """Known once the request line is read, even if the request is refused."""
        return self._request_method

    def start_next_cycle(self) -> bool:
        """Ready for the next request on this connection; False if it must close."""
        if self._rejected or self._server is not DONE or self._client is not DONE:
            return False
        self._client = self._server = IDLE
        self._request_method = None
        self._guard = None
        self.head = None
        return True

    def upgraded_data(self) -> bytes:
        """The bytes the client sent after a request that switched protocols."""
        return bytes(self._buffer)

    @property
    def has_buffered_data(self) -> bool:
        return bool(self._buffer)

    def _clean_up_response(self, status: int, items: _Headers) -> _Headers:
        """h11's _clean_up_response_headers_for_sending: framing and Connection."""
        method = b"GET" if self._request_method == b"HEAD" else self._request_method
        framed = type(_body_framing(method, status, items)) is int
        if framed and self._keep_alive:
            return items
        need_close = False
        kept = list(items)
        if not framed:
            kept = [item for item in kept if item[1] not in (b"content-length", b"transfer-encoding")]
            if self._their_version is None or self._their_version < b"1.1":
                need_close = self._request_method != b"HEAD"
            else:
                kept.append((b"Transfer-Encoding", b"transfer-encoding", b"chunked"))
        if not self._keep_alive or need_close:
            options = set(_comma_split(items.connection))
            options.discard(b"keep-alive")
            options.add(b"close")
            kept = [item for item in kept if item[1] != b"connection"]
            kept += [(b"Connection", b"connection", option) for option in sorted(options)]
        return _Headers(kept)

    def _count_body(self, length: int) -> None:
        self._writer -= length
        if self._writer < 0:
            self._server_error()
            raise h11.LocalProtocolError("Too much data for declared Content-Length")

    def _check_can_send(self) -> None:
        if self._server is ERROR:
            raise h11.LocalProtocolError("Can't send data when our state is ERROR")

    def _cannot(self, event: str) -> None:
        state = self._server
        self._server_error()
        raise h11.LocalProtocolError(f"can't handle event type {event} when role=SERVER and state={state}")

    # -- h11's state machine ------------------------------------------------------

    def _client_closed(self) -> None:
        self._client = CONN_CLOSED  # ConnectionClosed from IDLE, DONE, MUST_CLOSE or CLOSED
        self._settle()

    def _client_error(self) -> None:
        self._client = ERROR
        self._settle()

    def _server_error(self) -> None:
        self._server = ERROR
        self._settle()

    def _settle(self) -> None:
        """h11's ConnectionState._fire_state_triggered_transitions."""
        client, server = self._client, self._server
        if (self._keep_alive and not self._proposals and client is not MIGHT_SWITCH and client is not CONN_CLOSED
                and client is not ERROR and server is not CONN_CLOSED and server is not ERROR):
            return  # the common case: nothing triggers (each pair _JOINT maps has one of those states)
        while True:
            before = client, server = self._client, self._server
            if self._proposals and client is DONE:
                client = MIGHT_SWITCH
            if not self._proposals and client is MIGHT_SWITCH:
                client = DONE
            if not self._keep_alive:
                client = MUST_CLOSE if client is DONE else client
                server = MUST_CLOSE if server is DONE else server
            client, server = _JOINT.get((client, server), (client, server))
            self._client, self._server = client, server
            if (client, server) == before:
                return


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


class _ChunkedReader:
    """h11's ChunkedReader on a bytearray: decoded data, _END, or None for "need data"."""

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
            return _END
        if self._to_discard:
            data = _extract_at_most(buffer, len(self._to_discard))
            if data is None:
                return None
            if data != self._to_discard[:len(data)]:
                raise _Refusal(f"malformed chunk footer: {data!r} (expected {self._to_discard!r})")
            self._to_discard = self._to_discard[len(data):]
            if self._to_discard:
                return None
        if self._in_chunk == 0:
            end = buffer.find(b"\r\n")
            if end < 0:
                return None
            line = bytes(buffer[:end + 2])
            del buffer[:end + 2]
            match = _CHUNK_HEADER.fullmatch(line)
            if not match:
                raise _Refusal(f"illegal chunk header: {line!r}")
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


def _head_end(buffer: bytearray) -> tuple[int, int] | None:
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


def _parse_with_h11(head: bytes, header_max: int) -> tuple:
    """A head llhttp could not settle, parsed by the reference: method, target,
    version, headers as (lower name, value) text, and `special`, the values
    of the headers named in _SPECIAL by lower name."""
    reference = h11.Connection(h11.SERVER, max_incomplete_event_size=header_max)
    reference.receive_data(head)
    try:
        request = reference.next_event()
    except h11.RemoteProtocolError as exc:
        raise _Refusal(str(exc), exc.error_status_hint if exc.error_status_hint >= 400 else 400) from None
    headers, special = [], {}
    for lower, value in request.headers:
        headers.append((lower.decode("latin-1"), value.decode("latin-1")))
        if lower in _SPECIAL:
            special.setdefault(lower, []).append(value)
    return request.method, request.target, request.http_version, headers, special


def _request_fields(method: bytes, target: bytes, version: bytes, fields: list, trimmed: bool = False) -> tuple | None:
    """_parse_fast's result from the (name, value) pairs a parser read
    (`trimmed`: values without trailing blanks, which llhttp keeps); None
    where h11 must decide (an odd Content-Length or Transfer-Encoding, h11's
    Host rule)."""
    headers, special = [], {}
    for name, value in fields:
        names = _NAMES_IN.get(name)
        if names is None:
            names = _names_in(name)
        lower = names[0]
        if not trimmed:
            value = value.rstrip(b" \t")
        if lower in _SPECIAL:
            if lower == b"content-length" and not _DIGITS.fullmatch(value):
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


def _simple_fields(block: bytes) -> list[tuple[bytes, bytes]]:
    """The (name, value) pairs of the header lines _SIMPLE_HEAD matched,
    each `name:[blanks]value[blanks]CRLF`: split at CRLF and at the first
    colon (a name has none), the value without its blanks."""
    pairs = []
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        pairs.append((name, value.strip(b" \t")))
    return pairs


def _names_in(name: bytes) -> tuple[bytes, str]:
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
    found = _head_end(buffer)  # the first \n\r?\n
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
        fold = _FOLD.match(line)
        if fold:
            if not unfolded:
                raise _Refusal("continuation line at start of headers")
            unfolded[-1] += b" " + line[fold.end():]
        else:
            unfolded.append(line)
    fields = []
    for line in unfolded:
        match = _HEADER_LINE.fullmatch(line)
        if not match:
            raise _Refusal(f"illegal header line: {line!r}")
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
            if value is None or not _DIGITS.fullmatch(value) or seen_length not in (None, value):
                raise _Refusal("bad or conflicting Content-Length")
            seen_length = value
        elif name == b"transfer-encoding":
            if seen_encoding:
                raise _Refusal("multiple Transfer-Encoding headers", 501)
            if value.lower() != b"chunked":
                raise _Refusal("Only Transfer-Encoding: chunked is supported", 501)
            seen_encoding = True


class _Headers(list):
    """Response header items (name, lower name, value), with what framing needs."""

    __slots__ = ("length", "chunked", "connection", "host")

    def __init__(self, items: list[tuple[bytes, bytes, bytes]]):
        super().__init__(items)
        self.length: bytes | None = None       # the first Content-Length
        self.chunked = False                   # Transfer-Encoding: chunked
        self.connection: list[bytes] = []      # the Connection values
        self.host = False
        for _, lower, value in items:
            if lower in _SPECIAL:
                self._note(lower, value)

    def _note(self, lower: bytes, value: bytes) -> None:
        if lower == b"content-length":
            self.length = value if self.length is None else self.length
        elif lower == b"transfer-encoding":
            self.chunked = True
        elif lower == b"connection":
            self.connection.append(value)
        elif lower == b"host":
            self.host = True


def _checked_headers(headers) -> _Headers:
    """h11's normalize_and_validate for response headers."""
    items = _Headers([])
    for name, value in headers:
        if type(name) is not bytes:
            name = _bytesify(name)
        if type(value) is not bytes:
            value = _bytesify(value)
        lower = _NAMES.get(name)
        if lower is None:
            if not TOKEN.fullmatch(name):
                raise h11.LocalProtocolError(f"Illegal header name {name!r}")
            lower = name.lower()
            if len(_NAMES) >= _CACHE_MAX:
                _NAMES.clear()
            _NAMES[name] = lower
        if value not in _VALUES:
            if not FIELD_VALUE.fullmatch(value):
                raise h11.LocalProtocolError(f"Illegal header value {value!r}")
            if lower in _CACHED_VALUES_OF:
                if len(_VALUES) >= _CACHE_MAX:
                    _VALUES.clear()
                _VALUES.add(value)
        if lower in _SPECIAL:
            if lower == b"content-length":
                lengths = {length.strip() for length in value.split(b",")}
                if len(lengths) != 1:
                    raise h11.LocalProtocolError("conflicting Content-Length headers")
                value = lengths.pop()
                if not _DIGITS.fullmatch(value):
                    raise h11.LocalProtocolError("bad Content-Length")
                if items.length is not None:
                    if items.length != value:
                        raise h11.LocalProtocolError("conflicting Content-Length headers")
                    continue  # h11 keeps one of equal Content-Lengths
            elif lower == b"transfer-encoding":
                if items.chunked:
                    raise h11.LocalProtocolError("multiple Transfer-Encoding headers")
                value = value.lower()
                if value != b"chunked":
                    raise h11.LocalProtocolError("Only Transfer-Encoding: chunked is supported")
            items._note(lower, value)
        items.append((name, lower, value))
    return items


def _body_framing(method: bytes | None, status: int, items: _Headers) -> int | str:
    """h11's _body_framing for a response: a length, "chunked" or "http/1.0"."""
    if status in (204, 304) or method == b"HEAD" or (method == b"CONNECT" and 200 <= status < 300):
        return 0
    if items.chunked:
        return "chunked"
    return "http/1.0" if items.length is None else int(items.length)


def _comma_split(values: list[bytes]) -> list[bytes]:
    """h11's get_comma_header, on the values of one header."""
    return [value for raw in values for value in (v.strip() for v in raw.lower().split(b",")) if value]


def _has_token(values: list[bytes] | None, token: bytes) -> bool:
    """`token` is among the comma-separated values (h11's get_comma_header)."""
    return bool(values) and any(token in value.lower() for value in values) and token in _comma_split(values)


def _bytesify(value) -> bytes:
    if isinstance(value, str):
        return value.encode("ascii")
    if isinstance(value, int):
        raise TypeError("expected bytes-like object, not int")
    return bytes(value)

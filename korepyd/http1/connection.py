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
  h11's grammar narrowed (SIMPLE_HEAD), and split with bytes methods;
- a head llhttp (httptools) accepts is taken only if it is also in the part
  of the grammar where llhttp and h11 read the same thing: a request line
  of exactly `METHOD SP target SP HTTP/d.d CRLF`, a target of visible
  ASCII, no empty line before it, at most one Transfer-Encoding and that
  one `chunked`, Content-Length of at most 20 digits, h11's Host rule;
- any other head (llhttp refuses it, or it falls outside that part: bare
  LF line ends, methods llhttp does not know, control bytes h11 lets
  through in values, odd spacing) is parsed by h11 itself
  (parse_with_h11), whose verdict and result stand. A refused request
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

import h11

from korepyd.http1 import writers
from korepyd.http1.chunks import ChunkError, ChunkGuard
from korepyd.http1.events import CLOSED, NEED_DATA, BodyData, EndOfRequest, Event, Refused, RequestHead
from korepyd.http1.grammar import REASON, SIMPLE_HEAD
from korepyd.http1.readers import END, METHODS, ChunkedReader, HeadReader, Malformed, head_end, parse_with_h11
from korepyd.http1.response import ResponseHead
from korepyd.http1.rules import CONTENT_LENGTH, Limits, broken_rule, split_target
from korepyd.http1.state import (
    CLIENT,
    CONN_CLOSED,
    CONNECT,
    DONE,
    ERROR,
    IDLE,
    MIGHT_SWITCH,
    SEND_BODY,
    SEND_RESPONSE,
    SERVER,
    SWITCHED,
    UPGRADE,
    comma_split,
    has_token,
    settle,
)
from korepyd.http1.writers import STATUS_LINES

__all__ = ["HttpConnection"]

_END_OF_REQUEST = EndOfRequest()


class HttpConnection:
    """One connection's HTTP/1.1, server side."""

    _closed: bool
    _keep_alive: bool
    _waiting_100: bool
    _body_size: int
    __slots__ = ("limits", "head", "_buffer", "_closed", "_guard", "_body_size", "_rejected", "_client", "_server",
                 "_keep_alive", "_proposals", "_waiting_100", "_request_method", "_their_version", "_reader",
                 "_writer", "_heads")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.head: RequestHead | None = None
        self._buffer = bytearray()       # received, not yet consumed: h11's receive buffer
        self._closed = False             # the client sent EOF
        self._guard: ChunkGuard | None = None
        self._body_size = 0
        self._rejected: Refused | None = None
        self._client = IDLE
        self._server = IDLE
        self._keep_alive = True
        self._proposals: set[str] = set()
        self._waiting_100 = False
        self._request_method: bytes | None = None
        self._their_version: bytes | None = None
        self._reader: int | ChunkedReader = 0  # the request body: bytes still to come, or the chunked reader
        self._writer: int | str = 0         # the response body: bytes still owed, "chunked" or "http/1.0"
        self._heads = HeadReader()

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
        except Malformed as exc:
            self._client_error()
            return self._reject(exc.status, str(exc))

    def _next_head(self) -> Event:  # cpdef
        buffer, limits = self._buffer, self.limits
        end = head_end(buffer) if buffer else None
        if buffer:  # http_header_max, in one read or many
            size = end[1] if end else len(buffer)
            if size > limits.header_max:
                first_line = buffer.split(b"\n", 1)[0]
                if len(first_line) > limits.header_max:
                    return self._reject(414, "request line longer than http_header_max")
                return self._reject(431, "request head larger than http_header_max")
        if end is None:
            if buffer and buffer[0] < 0x21:
                raise Malformed("illegal request line")
            if self._closed:
                if buffer:
                    raise Malformed("peer unexpectedly closed connection")
                self._client_closed()
                return CLOSED
            return NEED_DATA
        whole = end[1] == len(buffer)  # the usual: the buffer holds this head and nothing more
        head = bytes(buffer) if whole else bytes(buffer[:end[1]])
        lines_end = end[0] + 1  # the head without its blank line
        simple = SIMPLE_HEAD.fullmatch(head)  # its lines all begin with a name: no obs-fold in it
        if simple is None and (head.find(b"\n ", 0, lines_end) >= 0 or head.find(b"\n\t", 0, lines_end) >= 0):
            return self._reject(400, "folded header line (obs-fold)")  # _OBS_FOLD, by hand
        parsed = self._heads.read(head, simple)
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
        method, target, version, headers, special = parsed or parse_with_h11(head, limits.header_max)
        return self._on_request(method, target, version, headers, special)

    def _on_request(self, method: bytes, target: bytes, version: bytes, headers: list, special: dict) -> Event:  # cpdef
        """h11 takes the Request, then korepyd's rules (rules.broken_rule).
        `headers` holds (lower name, value) as text; `special` the values
        of the headers named in readers.SPECIAL, by lower name."""
        self._take_request(method, version, special)
        lengths = special.get(b"content-length")
        encodings = special.get(b"transfer-encoding")
        problem = broken_rule(method, target, version, len(headers), lengths, encodings, self.limits)
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
        self.head = RequestHead(METHODS.get(method) or method.decode("ascii").lower(), text, path, query, version,
                                headers, length, chunked)
        return self.head

    def _take_request(self, method: bytes, version: bytes, special: dict) -> None:  # cpdef
        """h11's Connection._process_event for a Request from the client."""
        if method == b"CONNECT":
            self._proposals.add(CONNECT)
        if b"upgrade" in special and comma_split(special[b"upgrade"]):
            self._proposals.add(UPGRADE)
        self._client_does("Request")
        try:
            self._server = SERVER[self._server]["Request"]  # the client's Request readies the server
        except KeyError:
            raise Malformed(f"can't handle event type Request when role=SERVER and state={self._server}") from None
        self._request_method, self._their_version = method, version
        if version < b"1.1" or has_token(special.get(b"connection"), b"close"):
            self._keep_alive = False
        self._waiting_100 = version >= b"1.1" and has_token(special.get(b"expect"), b"100-continue")
        self._settle()
        if b"transfer-encoding" in special:
            self._reader = ChunkedReader()
        else:
            self._reader = int(special[b"content-length"][0]) if b"content-length" in special else 0

    def _next_body_event(self) -> Event:  # cpdef
        buffer, reader = self._buffer, self._reader
        if type(reader) is int:  # h11's ContentLengthReader
            if reader == 0:
                data = END
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
                raise Malformed("peer closed connection without sending complete message body")
            if len(buffer) > self.limits.header_max:
                raise Malformed("Receive buffer too long", 431)
            if self._closed:
                raise Malformed("peer unexpectedly closed connection")
            return NEED_DATA
        self._waiting_100 = False
        if data is END:
            self._client_does("EndOfMessage")
            self._settle()
            return _END_OF_REQUEST
        self._body_size += len(data)
        if self._body_size > self.limits.body_max:
            return self._reject(413, "body larger than http_body_max")
        return BodyData(data)

    def _after_request(self) -> Event:  # cpdef
        """h11 between the end of a request and start_next_cycle()."""
        state = self._client
        if (state is DONE and self._buffer) or state is MIGHT_SWITCH or state is SWITCHED:
            return NEED_DATA  # h11: PAUSED
        if self._buffer:
            raise Malformed("Got data when expecting EOF")
        if self._closed:
            self._client_closed()
            return CLOSED
        return NEED_DATA

    def _reject(self, status: int, reason: str) -> Refused:  # cpdef
        self._rejected = Refused(status, reason)
        return self._rejected

    # -- output ----------------------------------------------------------------

    @property
    def waiting_for_continue(self) -> bool:
        """The client sent Expect: 100-continue and waits before its body."""
        return self._waiting_100

    def send_continue(self) -> bytes:
        self._check_can_send()
        self._server_does("InformationalResponse")
        self._waiting_100 = False
        return writers.CONTINUE

    def respond(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]] | ResponseHead) -> bytes:
        """The response head; raises h11.LocalProtocolError on a bad header."""
        if type(headers) is ResponseHead and headers.lines is not None:
            known = STATUS_LINES.get(status)
            if known is not None and known[0] == reason and status >= 200:
                data = self._respond_checked(status, headers)
                if data is not None:
                    return known[1] + data
        items = writers.checked_headers(headers)
        reason = writers.bytesify(reason)
        if not isinstance(status, int):
            raise h11.LocalProtocolError("status code must be integer")
        status = int(status)
        if not 200 <= status < 1000:
            raise h11.LocalProtocolError(f"Response status_code should be in range [200, 1000), not {status}")
        if not REASON.fullmatch(reason):  # h11 writes any reason: refuse what would split the response
            raise h11.LocalProtocolError(f"Illegal reason phrase {reason!r}")
        self._check_can_send()
        try:
            items = self._clean_up_response(status, items)
            switch = CONNECT in self._proposals and 200 <= status < 300
            if not switch:
                self._proposals.clear()
            self._server_does(("Response", CONNECT) if switch else "Response")
            if not switch:
                self._writer = writers.body_framing(self._request_method, status, items)
            if has_token(items.connection, b"close"):
                self._keep_alive = False
            self._waiting_100 = False
            self._settle()
        except h11.LocalProtocolError:
            self._server_error()
            raise
        return writers.head(writers.status_line(status, reason), items)

    def _respond_checked(self, status: int, head: ResponseHead) -> bytes | None:  # cpdef
        """respond() for a head whose lines need no checks and no changes:
        the state h11 would reach, and the lines; None when h11 would change
        the head (no length or no keep-alive) or switch protocols."""
        if self._server is not SEND_RESPONSE or self._proposals or not self._keep_alive:
            return None
        no_body = status == 204 or status == 304
        if head.length is None and not no_body:
            return None  # framed by closing, or chunked: h11 rewrites the head (for HEAD too)
        self._server_does("Response")
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
            self._server_does("EndOfMessage")
            self._writer = 0
            self._settle()
            return data + body if body else data
        return data + (self.send_body(body) if body else b"") + self.end()

    def send_body(self, data: bytes) -> bytes:
        self._check_can_send()
        self._server_does("Data")
        writer = self._writer
        if type(writer) is int:
            self._count_body(len(data))
            return bytes(data)
        if writer == "chunked":
            return writers.chunk(data)
        return bytes(data)

    def send_passthrough(self, length: int) -> None:
        """Account for `length` body bytes the caller sends itself (sendfile)."""
        self._check_can_send()
        self._server_does("Data")
        if type(self._writer) is int:
            self._count_body(length)

    def end(self) -> bytes:
        self._check_can_send()
        self._server_does("EndOfMessage")
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

    def _clean_up_response(self, status: int, items: writers.Headers) -> writers.Headers:
        """h11's _clean_up_response_headers_for_sending: framing and Connection."""
        method = b"GET" if self._request_method == b"HEAD" else self._request_method
        framed = type(writers.body_framing(method, status, items)) is int
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
            options = set(comma_split(items.connection))
            options.discard(b"keep-alive")
            options.add(b"close")
            kept = [item for item in kept if item[1] != b"connection"]
            kept += [(b"Connection", b"connection", option) for option in sorted(options)]
        return writers.Headers(kept)

    def _count_body(self, length: int) -> None:  # cpdef
        self._writer -= length
        if self._writer < 0:
            self._server_error()
            raise h11.LocalProtocolError("Too much data for declared Content-Length")

    def _check_can_send(self) -> None:  # cpdef
        if self._server is ERROR:
            raise h11.LocalProtocolError("Can't send data when our state is ERROR")

    def _cannot(self, event: str) -> None:
        state = self._server
        self._server_error()
        raise h11.LocalProtocolError(f"can't handle event type {event} when role=SERVER and state={state}")

    # -- h11's state machine ------------------------------------------------------

    def _client_does(self, event: str) -> None:  # cpdef
        """Move the client's state by `event` (state.CLIENT); Malformed if it cannot happen now."""
        try:
            self._client = CLIENT[self._client][event]
        except KeyError:
            raise Malformed(f"can't handle event type {event} when role=CLIENT and state={self._client}") from None

    def _server_does(self, event) -> None:  # cpdef
        """Move the server's state by `event` (state.SERVER); h11.LocalProtocolError if it cannot happen now."""
        try:
            self._server = SERVER[self._server][event]
        except KeyError:
            self._cannot(event if type(event) is str else event[0])

    def _client_closed(self) -> None:
        self._client_does("ConnectionClosed")
        self._settle()

    def _client_error(self) -> None:
        self._client = ERROR
        self._settle()

    def _server_error(self) -> None:
        self._server = ERROR
        self._settle()

    def _settle(self) -> None:  # cpdef
        """Apply the moves the states now trigger (state.settle), unless none can be."""
        client, server = self._client, self._server
        if (self._keep_alive and not self._proposals and client is not MIGHT_SWITCH and client is not CONN_CLOSED
                and client is not ERROR and server is not CONN_CLOSED and server is not ERROR):
            return  # the common case: nothing can trigger (see state.settle)
        self._client, self._server = settle(client, server, self._keep_alive, self._proposals)

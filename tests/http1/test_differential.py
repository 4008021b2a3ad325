"""korepyd's HTTP/1.1 engine against the oracle, H11Connection (h11 itself,
with korepyd's rules: tests/http1/h11_oracle.py).

Both are driven the same way (the worker's way: events until NEED_DATA,
100-continue when asked, a response after each request, then
start_next_cycle) and must leave the same trace: every event with all its
fields (BodyData pieces as they come, not only concatenated), h11's client
and server states after each step, the keep-alive decisions, the buffered
bytes, and every byte they write, or the same exception type where
writing fails. Inputs: the corpus
in tests/http1/requests/ in one piece, byte by byte and in 7-byte pieces;
mutations of it; requests generated from parts; pipelined pairs; and
responses generated from parts, all in random splits.

DIFFERENTIAL_EXAMPLES=100000 runs a longer campaign: that many random
examples per property (the default is about 4,000 fixed ones in all).
"""

import os
import re
from pathlib import Path

import h11
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from korepyd.http1.connection import HttpConnection
from korepyd.http1.events import CLOSED, NEED_DATA, BodyData, EndOfRequest, Refused, RequestHead
from korepyd.http1.grammar import SIMPLE_HEAD, SIMPLE_NAME, SIMPLE_VALUE
from korepyd.http1.readers import head_end, parse_with_h11, request_fields, simple_fields
from korepyd.http1.response import HeadPolicy, head_headers, reason
from korepyd.http1.rules import Limits, wants_keep_alive
from tests.http1.h11_oracle import HEAD_END, H11Connection

CORPUS = Path(__file__).parent / "requests"
FILES = sorted(CORPUS.glob("*/*.http"))
SEEDS = [path.read_bytes() for path in FILES]
LIMITS = Limits(header_max=4096, body_max=1024)
POLICY = HeadPolicy(b"korepyd (test)", keepalive=20)
DATE = b"Thu, 01 Jan 2026 00:00:00 GMT"
CAMPAIGN = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "0"))


def fuzz(examples: int):
    """`examples` per run (about 4,000 in all, 12 s here), the same ones each time;
    DIFFERENTIAL_EXAMPLES=N runs N random ones per property instead."""
    return settings(max_examples=CAMPAIGN or examples, deadline=None, derandomize=not CAMPAIGN,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


SEND_ERRORS = (h11.LocalProtocolError, UnicodeEncodeError, TypeError)


# -- the driver ------------------------------------------------------------------

def standard_answer(conn, head: RequestHead) -> list:
    """What dispatch does for a routed request: 200, Kore's headers, a body unless HEAD."""
    keep = wants_keep_alive(head)
    body = b"" if head.method == "head" else b"hello " + head.path.encode("latin-1")
    headers = head_headers(POLICY, [("content-type", "text/plain")], keep_alive=keep, tls=False,
                           length=len(body), date=DATE)
    return send(conn, lambda: [conn.respond_complete(200, b"OK", headers, body)])


def error_answer(conn, status: int) -> list:
    """dispatch.send_error: connection: close, no body (http_pretty_error off)."""
    headers = head_headers(POLICY, [], keep_alive=False, tls=False, length=0, date=DATE)
    return send(conn, lambda: [conn.respond_complete(status, reason(status), headers)])


def send(conn, steps) -> list:
    try:
        return [b"".join(steps())]
    except SEND_ERRORS as exc:
        return [("send failed", type(exc).__name__)]
    except AttributeError:  # h11 0.16 fails to format its own error for (Response, _SWITCH_CONNECT)
        return [("send failed", "LocalProtocolError")]


def trace(cls, pieces, limits: Limits = LIMITS, answer=standard_answer) -> list:
    """Feed `pieces`, then EOF; everything observable, in order."""
    conn = cls(limits)
    out, head = [], None
    for piece in [*pieces, b""]:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            out += (describe(event), states(conn))
            if event is NEED_DATA:
                if conn.waiting_for_continue:
                    out += (send(conn, lambda: [conn.send_continue()]), states(conn))
                break
            if event is CLOSED:
                break
            if isinstance(event, Refused):
                out.append(("can respond", conn.can_respond))
                if conn.can_respond:
                    out += (*error_answer(conn, event.status), states(conn))
                return out
            if isinstance(event, RequestHead):
                head = event
                out.append(("head attribute", conn.head == event))
            elif isinstance(event, EndOfRequest):
                out.append(("buffered", conn.has_buffered_data, conn.upgraded_data(), conn.can_respond))
                out += (*answer(conn, head), states(conn))
                ready = conn.start_next_cycle()
                out += (("next cycle", ready), states(conn))
                if not ready:
                    return out
    return out


def states(conn) -> tuple:
    """h11's client and server states, where each class keeps them."""
    if isinstance(conn, H11Connection):
        return conn._h11.their_state, conn._h11.our_state
    return conn._client, conn._server


def describe(event):
    if isinstance(event, Refused):
        return ("reject", event.status)  # the reason text may differ
    if isinstance(event, BodyData):
        return ("body", event.data)
    return event


def assert_same(pieces, limits: Limits = LIMITS, answer=standard_answer):
    reference = trace(H11Connection, pieces, limits, answer)
    fast = trace(HttpConnection, pieces, limits, answer)
    assert fast == reference, f"input {b''.join(pieces)!r} in {len(pieces)} pieces"
    return reference


def split(data: bytes, step: int | None) -> list[bytes]:
    return [data] if step is None else [data[i:i + step] for i in range(0, len(data), step)]


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


# -- the corpus ------------------------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
@pytest.mark.parametrize("step", [None, 1, 7], ids=["one-read", "bytewise", "7-bytes"])
def test_corpus_gives_the_same_trace(path, step):
    result = assert_same(split(path.read_bytes(), step))
    rejected = [e for e in result if isinstance(e, tuple) and e[0] == "reject"]
    assert bool(rejected) == (path.parent.name == "invalid")


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_corpus_under_other_limits(path):
    for limits in (Limits(header_max=40, body_max=3), Limits(header_max=200, body_max=0)):
        assert_same([path.read_bytes()], limits)
        assert_same(split(path.read_bytes(), 5), limits)


# -- every byte in every place ------------------------------------------------------

PLACES = {
    "before the request": b"@GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "method": b"G@T / HTTP/1.1\r\nHost: h\r\n\r\n",
    "after the method": b"GET@/ HTTP/1.1\r\nHost: h\r\n\r\n",
    "target": b"GET /a@b HTTP/1.1\r\nHost: h\r\n\r\n",
    "target start": b"GET @ HTTP/1.1\r\nHost: h\r\n\r\n",
    "version": b"GET / HTTP/1@1\r\nHost: h\r\n\r\n",
    "end of the request line": b"GET / HTTP/1.1@\nHost: h\r\n\r\n",
    "header name": b"GET / HTTP/1.1\r\nHost: h\r\nX@Y: v\r\n\r\n",
    "before the colon": b"GET / HTTP/1.1\r\nHost: h\r\nX@: v\r\n\r\n",
    "header value": b"GET / HTTP/1.1\r\nHost: h\r\nX: a@b\r\n\r\n",
    "value start": b"GET / HTTP/1.1\r\nHost: h\r\nX:@a\r\n\r\n",
    "value end": b"GET / HTTP/1.1\r\nHost: h\r\nX: a@\r\n\r\n",
    "value alone": b"GET / HTTP/1.1\r\nHost: h\r\nX: @\r\n\r\n",
    "header line start": b"GET / HTTP/1.1\r\nHost: h\r\n@X: v\r\n\r\n",
    "content-length": b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1@\r\n\r\nabcdefghijk",
    "transfer-encoding": b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked@\r\n\r\n1\r\na\r\n0\r\n\r\n",
    "chunk size": b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5@\r\nhello\r\n0\r\n\r\n",
    "chunk extension": b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a@\r\nhello\r\n0\r\n\r\n",
    "chunk end": b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello@\n0\r\n\r\n",
    "trailer": b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a@\r\n\r\n",
    "between requests": b"GET / HTTP/1.1\r\nHost: h\r\n\r\n@GET / HTTP/1.1\r\nHost: h\r\n\r\n",
}


@pytest.mark.parametrize("place", PLACES)
def test_every_byte_in_every_place(place):
    for byte in range(256):
        wire = PLACES[place].replace(b"@", bytes([byte]))
        assert_same([wire])
        assert_same(split(wire, 7))


@fuzz(500)
@given(st.lists(st.sampled_from([b"\r", b"\n", b"a", b" ", b"\r\n"]), max_size=30))
def test_the_head_end_is_found_where_the_reference_finds_it(parts):
    data = bytearray(b"".join(parts))
    match = HEAD_END.search(data)
    assert head_end(data) == ((match.start(), match.end()) if match else None)


# -- generated requests ----------------------------------------------------------------

def mostly(usual: list, odd: list):
    """A pair of strategies: one of `usual`, and one of `usual` four times in five, else one of `odd`."""
    weight = -(-4 * len(odd) // len(usual))
    return st.sampled_from(usual), st.sampled_from(usual * weight + odd)


METHOD = mostly([b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"],
                [b"CONNECT", b"TRACE", b"PRI", b"PROPFIND", b"FOO", b"get", b"G-T", b"GET/", b""])
TARGET = mostly([b"/", b"/index.html?a=1&b=2", b"http://example.com/p?q", b"/a%20b", b"/a?b?c", b"/?", b"//x"],
                [b"*", b"https://h", b"http://h", b"/a#frag", b"!", b"a", b"/\x80", b"/a b", b"/\t", b"/\x7f",
                 b"example.com:443", b"/" + b"x" * 300, b"/;p", b"/~%^`{}|\\", b"/\"<>", b"/\x00"])
VERSION = mostly([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"],
                 [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2", b"HTTP/3.0", b"http/1.1", b"HTTP/11", b"RTSP/1.0",
                  b"HTTP/1.1 ", b"HTTP/1", b"HTTP/1.1\r", b"HTTP/1.1\x00"])
NAME = mostly([b"Host", b"Accept", b"User-Agent", b"Cookie", b"X-A", b"x_y", b"Connection", b"Expect", b"Upgrade",
               b"Sec-WebSocket-Key", b"Accept-Encoding", b"Content-Length", b"Transfer-Encoding"],
              [b"host", b"HOST", b"content-length", b"TRANSFER-ENCODING", b"Bad Name", b"", b"X\x85", b"X:",
               b"Content-Length ", b" X", b"!#$%&'*+-.^_`|~", b"X\x00", b"X\x7f"])
VALUE = mostly([b"x", b"example.com", b"text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", b"a=1; b=2", b"gzip, br",
                b"Mozilla/5.0 (X11; Linux x86_64)", b"keep-alive", b"close", b"100-continue", b"websocket", b"5"],
               [b"", b" x ", b"\tx\t", b"a\x01b", b"a\x7fb", b"caf\xe9", b"a  b", b"a\tb", b"a\x0bb", b"a\x0cb",
                b"a\x00b", b"a\rb", b"chunked", b"Chunked", b"gzip, chunked", b"chunked, chunked", b"gzip",
                b"identity", b"Close", b"keep-alive, close", b"upgrade", b"Upgrade", b"closed", b"100-Continue, foo",
                b"h2c", b"0", b"3", b"10", b"2000", b"1,1", b"1, 1", b" 3", b"+3", b"-1", b"0x5",
                b"00000000000000000000003", b"99999999999999999999", b"3 ", b"y" * 200])
COLON = mostly([b": ", b":"], [b" : ", b":\t", b":  ", b"::"])
EOL = mostly([b"\r\n"], [b"\n", b"\r", b"\r\r\n", b"\n\r"])


@st.composite
def chunked_body(draw, pick: int) -> bytes:
    parts = []
    for data in draw(st.lists(st.binary(min_size=1, max_size=40), max_size=4)):
        size = b"%x" % len(data)
        size = draw(mostly([size, size.upper(), size + b";ext=1"],
                           [b"0" + size, size + b" ", size + b";a\rb", b"0x" + size, b" " + size, b"-" + size,
                            size + b"\n", size + b";\x01", b"1" + size, size + b";" + b"e" * 90])[pick])
        parts.append(size + b"\r\n" + data + draw(mostly([b"\r\n"], [b"\n", b"XY", b"\r", b"", b"\r\n\r\n"])[pick]))
    last = draw(mostly([b"0\r\n\r\n", b"0\r\nX: y\r\n\r\n"],
                       [b"0\r\n\n", b"0\r\nX: a\r\n b\r\n\r\n", b"0\r\n X: y\r\n\r\n", b"0\r\nX: a\x01\r\n\r\n",
                        b"0\r\nContent-Length: x\r\n\r\n", b"0\r\nTransfer-Encoding: gzip\r\n\r\n",
                        b"0\r\nbad\r\n\r\n", b"000\r\n\r\n", b"0;x\r\n\r\n", b"0\r\n", b"", b"0\r\nX: y\n\n",
                        b"0\r\nX: y\r\nX: z\r\n\r\n", b"0\r\nContent-Length: 1, 2\r\n\r\n",
                        b"0\r\n" + b"X: long\r\n" * 12 + b"\r\n"])[pick])
    return b"".join(parts) + last


@st.composite
def request(draw) -> bytes:
    """A request built from parts: all of them usual, or any of them odd (one in five)."""
    pick = draw(st.integers(min_value=0, max_value=1))
    eol = draw(EOL[pick])
    sp = draw(mostly([b" "], [b"  ", b"\t"])[pick])
    line = draw(METHOD[pick]) + sp + draw(TARGET[pick]) + b" " + draw(VERSION[pick])
    headers = [(b"Host", b": ", b"example.com")] if draw(mostly([True], [False])[pick]) else []
    headers += draw(st.lists(st.tuples(NAME[pick], COLON[pick], VALUE[pick]), max_size=8))
    body_kind = draw(mostly(["none", "length", "chunked"], ["raw", "length-off"])[pick])
    body = b""
    if body_kind.startswith("length"):
        body = draw(st.binary(max_size=60))
        declared = len(body) if body_kind == "length" else draw(st.sampled_from([max(len(body) - 1, 0), len(body) + 1]))
        headers.append((b"Content-Length", b": ", b"%d" % declared))
    elif body_kind == "chunked":
        headers.append((b"Transfer-Encoding", b": ", b"chunked"))
        body = draw(chunked_body(pick))
    elif body_kind == "raw":
        body = draw(st.binary(max_size=20))
    headers = draw(st.permutations(headers))
    prefix = draw(mostly([b""], [b"\r\n", b"\n", b" "])[pick])
    block = b"".join(name + colon + value + eol for name, colon, value in headers)
    fold = draw(mostly([b""], [b" folded" + eol, b"\tfolded" + eol])[pick])
    return prefix + line + eol + block + fold + eol + body


LIMIT_CHOICES = st.sampled_from([LIMITS] * 4 + [Limits(header_max=64, body_max=10), Limits(header_max=120, body_max=0),
                                                 Limits(header_max=4096, body_max=16)])
CUTS = st.lists(st.integers(min_value=0, max_value=10_000), max_size=6)


@fuzz(1500)
@given(first=request(), second=st.one_of(st.just(b""), request()), limits=LIMIT_CHOICES, cuts=CUTS)
def test_generated_requests(first, second, limits, cuts):
    assert_same(cut(first + second, cuts), limits)


# The header lines of a head SIMPLE_HEAD matched, read by the grammar: what simple_fields must give.
SIMPLE_FIELDS = re.compile(rb"(%s):[ \t]*+(%s)[ \t]*+\r\n" % (SIMPLE_NAME, SIMPLE_VALUE))


@fuzz(600)
@given(data=st.one_of(request(), st.sampled_from(SEEDS)))
def test_a_simple_head_reads_as_h11_reads_it(data):
    """The plainest heads skip llhttp (SIMPLE_HEAD): what they give is h11's own parse."""
    found = head_end(bytearray(data))
    assume(found is not None)
    head = data[:found[1]]
    simple = SIMPLE_HEAD.fullmatch(head)
    assume(simple is not None)
    method, target, version, fields = simple.groups()
    assert simple_fields(fields) == SIMPLE_FIELDS.findall(fields)
    ours = request_fields(method, target, version, simple_fields(fields), trimmed=True)
    assume(ours is not None)  # else h11 decides: an odd Content-Length or Transfer-Encoding, no single Host
    assume(len(ours[4].get(b"content-length", ())) < 2)  # refused before: "more than one Content-Length"
    assert ours == parse_with_h11(head, 1 << 20)


def test_long_blanks_in_a_simple_head():
    value = b"a" + b" " * 3000 + b"b" + b"\t" * 3000
    head = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + value + b"\r\n\r\n"
    assert SIMPLE_HEAD.fullmatch(head) is not None
    assert SIMPLE_HEAD.fullmatch(head.replace(b"b\t", b"\x01\t")) is None
    conn = HttpConnection(Limits(header_max=8192, body_max=0))
    conn.receive_data(head)
    event = conn.next_event()
    assert dict(event.headers)["x"] == "a" + " " * 3000 + "b"


# -- mutations of the corpus -------------------------------------------------------------

INSERTS = [b"\r", b"\n", b"\r\n", b" ", b"\t", b"\x00", b":", b",", b"\x80", b"0", b"a", b"/", b"\x7f", b";", b"\x01"]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "ascii"]))
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "ascii" and at < len(data):
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS))
        elif kind == "delete":
            del data[at:at + draw(st.integers(min_value=1, max_value=4))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "duplicate":
            data[at:at] = data[max(0, at - 12):at]
    return bytes(data)


@fuzz(800)
@given(data=mutated(), limits=LIMIT_CHOICES, cuts=CUTS)
def test_mutated_corpus(data, limits, cuts):
    assert_same(cut(data, cuts), limits)


@fuzz(500)
@given(first=mutated(), second=mutated(), cuts=CUTS)
def test_mutated_pipelines(first, second, cuts):
    assert_same(cut(first + second, cuts))


# -- responses ---------------------------------------------------------------------

STATUSES = [200, 201, 204, 206, 301, 304, 400, 404, 413, 500, 503, 599, 999, 101, 100, 199, 1000]
REASONS = [None, b"", b"Custom Reason", "OK", b"caf\xe9", "caf\xe9", b"tab\there"]
EXTRA = [(b"content-type", b"text/plain"), (b"x-a", b"1"), (b"connection", b"close"), (b"Connection", b"Upgrade"),
         (b"connection", b"keep-alive, x"), (b"transfer-encoding", b"chunked"), (b"Transfer-Encoding", b"Chunked"),
         (b"transfer-encoding", b"gzip"), (b"content-length", b"5"), (b"content-length", b"5, 5"),
         (b"content-length", b"1, 2"), (b"content-length", b"x"), (b"host", b"h"), (b"x-b", b"a\r\nb"),
         (b"x-c", b" lead"), (b"x-d", b"trail "), (b"x-e", b"a\x00b"), (b"bad name", b"v"), (b"", b"v"),
         ("x-str", "str value"), ("x-uni", "caf\xe9"), (b"x-f", b"\x01ok"), (b"x-g", b"a\x0bb"), (b"x-h", b"")]
# headers given to head_headers as handlers and dispatch give them (str), valid or not: ResponseHead
# writes the valid ones itself (its `lines`) and leaves the others to the connection's checks
USER = mostly([("content-type", "text/plain"), ("X-A", "1"), ("location", "/a b"), ("x-uni", "caf\xe9"), ("x-h", "")],
              [("connection", "close"), ("Connection", "Upgrade"), ("Transfer-Encoding", "chunked"),
               ("content-length", "5"), ("Content-Length", "x"), ("host", "h"), ("x-b", "a\r\nb"), ("x-c", " lead"),
               ("x-d", "trail "), ("x-e", "a\x00b"), ("bad name", "v"), ("", "v"), ("x-g", "a\x0bb"),
               ("x-snow", "\u2603")])[1]
POLICIES = [POLICY, HeadPolicy(b"korepyd", keepalive=5, hsts=600), HeadPolicy(b"bad\r\nname", keepalive=5)]


@st.composite
def responder(draw):
    """A response plan: status, reason, headers and how the body is sent."""
    status = draw(st.sampled_from(STATUSES))
    chosen_reason = draw(st.sampled_from([None] * len(REASONS) + REASONS))
    extra = draw(st.lists(st.sampled_from(EXTRA), max_size=4)) if draw(st.booleans()) else []
    user = draw(st.lists(USER, max_size=3))
    policy, tls = draw(st.sampled_from(POLICIES)), draw(st.booleans())
    body = draw(st.sampled_from([b"", b"hello", b"x" * 70]))
    length = draw(st.sampled_from(["body", "body", "none", "short", "long"]))
    mode = draw(st.sampled_from(["body", "body", "view", "passthrough", "head-only", "twice", "continue",
                                 "complete", "complete"]))
    wants_keep = draw(st.booleans())

    def answer(conn, head: RequestHead) -> list:
        keep = wants_keep_alive(head) and wants_keep
        declared = {"body": len(body), "none": None, "short": max(len(body) - 1, 0), "long": len(body) + 1}[length]
        head = head_headers(policy, user, keep_alive=keep, tls=tls, length=declared, date=DATE)

        def headers():  # iterating a head may raise UnicodeEncodeError, as respond() may
            return [*head, *extra] if extra else head
        why = reason(status) if chosen_reason is None else chosen_reason
        out = []
        if mode == "complete":  # dispatch's way: the whole response in one call
            out += (*send(conn, lambda: [conn.respond_complete(status, why, headers(), body)]), states(conn))
            out.append(("can respond", conn.can_respond))
            return out
        if mode == "continue":
            out += send(conn, lambda: [conn.send_continue()])
        out += (*send(conn, lambda: [conn.respond(status, why, headers())]), states(conn))
        if mode == "body":
            out += send(conn, lambda: [conn.send_body(body)])
        elif mode == "view":
            out += send(conn, lambda: [conn.send_body(memoryview(body)[:3]), conn.send_body(memoryview(body)[3:])])
        elif mode == "passthrough":
            out += send(conn, lambda: [conn.send_passthrough(len(body)) or b""])
        elif mode == "twice":
            out += send(conn, lambda: [conn.respond(status, why, headers())])
        out += send(conn, lambda: [conn.end()])
        out.append(("can respond", conn.can_respond))
        return out

    return answer


RESPONSE_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"HEAD / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
]


@fuzz(800)
@given(requests=st.lists(st.sampled_from(RESPONSE_REQUESTS), min_size=1, max_size=3), plan=responder(),
       cuts=CUTS)
def test_generated_responses(requests, plan, cuts):
    assert_same(cut(b"".join(requests), cuts), answer=plan)


def test_responses_are_written_as_h11_writes_them():
    """Spot checks of the wire itself, beside the differential properties."""
    wire = b"GET / HTTP/1.0\r\n\r\n"
    result = assert_same([wire])
    response = next(e for e in result if isinstance(e, bytes) and e.startswith(b"HTTP/1.1 200"))
    assert response.endswith(b"content-length: 7\r\nConnection: close\r\n\r\nhello /")  # h11 moves it, title-cased


def test_a_reason_phrase_that_would_split_the_response_is_refused():
    """The one deliberate difference: h11 writes any reason phrase as given."""
    headers = [(b"content-length", b"0")]
    reference, fast = H11Connection(LIMITS), HttpConnection(LIMITS)
    assert reference.respond(200, b"OK\r\nSet-Cookie: x", headers).startswith(b"HTTP/1.1 200 OK\r\nSet-Cookie: x\r\n")
    with pytest.raises(h11.LocalProtocolError):
        fast.respond(200, b"OK\r\nSet-Cookie: x", headers)
    assert fast.can_respond and fast.respond(200, b"OK", headers) == b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


# -- the worker's other uses ---------------------------------------------------------------

@pytest.mark.parametrize("cls", [H11Connection, HttpConnection])
def test_websocket_upgrade_leaves_the_client_bytes(cls):
    conn = cls(LIMITS)
    conn.receive_data(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85frame")
    assert isinstance(conn.next_event(), RequestHead)
    assert isinstance(conn.next_event(), EndOfRequest)
    assert conn.next_event() is NEED_DATA
    assert conn.upgraded_data() == b"\x81\x85frame"


def test_state_machines_agree_step_by_step():
    """The internal states, compared with h11's own after each step (trace() does it too)."""
    reference, fast = H11Connection(LIMITS), HttpConnection(LIMITS)
    wire = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\nHost: x\r\n\r\n"

    def same():
        return states(reference) == states(fast)

    for conn in (reference, fast):
        conn.receive_data(wire)
    for _ in range(2):
        for _ in range(3):
            assert describe(reference.next_event()) == describe(fast.next_event()) and same()
        for conn in (reference, fast):
            conn.respond(200, b"OK", [(b"content-length", b"0")])
            conn.end()
        assert same() and reference.start_next_cycle() == fast.start_next_cycle() and same()


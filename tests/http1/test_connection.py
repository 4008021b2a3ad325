"""The sans-IO HTTP connection core, driven in memory.

The corpus in tests/http1/requests/ holds raw requests: every invalid one
must be refused with its status, whether it arrives in one piece or one
byte at a time (h11 alone only enforces its head limit on the latter);
every valid one must produce exactly the requests listed beside it.
"""

import json
from pathlib import Path

import h11
import pytest

from korepyd.http1.connection import HttpConnection
from korepyd.http1.events import CLOSED, NEED_DATA, BodyData, EndOfRequest, Refused, RequestHead
from korepyd.http1.rules import Limits

CORPUS = Path(__file__).parent / "requests"
LIMITS = Limits(header_max=4096, body_max=1024)
INVALID = sorted((CORPUS / "invalid").glob("*.http"))
VALID = sorted((CORPUS / "valid").glob("*.http"))


def run(raw: bytes, step: int | None = None):
    """Feed `raw` (all at once, or `step` bytes at a time), then EOF; return
    the requests seen and the rejection, if any."""
    conn = HttpConnection(LIMITS)
    pieces = [raw] if step is None else [raw[i:i + step] for i in range(0, len(raw), step)]
    pieces.append(b"")
    requests, current = [], None
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is NEED_DATA or event is CLOSED:
                break
            if isinstance(event, Refused):
                return requests, event
            if isinstance(event, RequestHead):
                current = {"method": event.method, "path": event.path, "query": event.query, "body": b""}
            elif isinstance(event, BodyData):
                current["body"] += event.data
            elif isinstance(event, EndOfRequest):
                current["body"] = current["body"].decode()
                requests.append(current)
                _answer(conn)
                if not conn.start_next_cycle():
                    return requests, None
    return requests, None


def _answer(conn: HttpConnection) -> None:
    conn.respond(200, b"OK", [(b"content-length", b"0")])
    conn.end()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
@pytest.mark.parametrize("step", [None, 1], ids=["one-read", "bytewise"])
def test_invalid_requests_are_refused(path, step):
    expected = json.loads(path.with_suffix(".json").read_text())["status"]
    requests, reject = run(path.read_bytes(), step)
    assert reject is not None, f"accepted: {requests}"
    assert reject.status == expected, reject.reason
    assert requests == []


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
@pytest.mark.parametrize("step", [None, 1, 7], ids=["one-read", "bytewise", "7-bytes"])
def test_valid_requests_parse(path, step):
    expected = json.loads(path.with_suffix(".json").read_text())["requests"]
    requests, reject = run(path.read_bytes(), step)
    assert reject is None, reject
    assert requests == expected


def test_corpus_is_not_empty():
    assert len(INVALID) >= 40 and len(VALID) >= 10


def test_keep_alive_with_a_real_h11_client():
    client = h11.Connection(h11.CLIENT)
    server = HttpConnection(LIMITS)
    for path in (b"/a", b"/b"):
        wire = client.send(h11.Request(method="GET", target=path, headers=[("Host", "x")]))
        server.receive_data(wire + client.send(h11.EndOfMessage()))  # b"" alone would mean EOF
        head = server.next_event()
        assert isinstance(head, RequestHead) and head.path == path.decode()
        assert isinstance(server.next_event(), EndOfRequest)
        client.receive_data(server.respond(200, b"OK", [(b"content-length", b"2")]) + server.send_body(b"hi")
                            + server.end())
        response = client.next_event()
        assert response.status_code == 200 and response.reason == b"OK"
        assert client.next_event().data == b"hi"
        assert isinstance(client.next_event(), h11.EndOfMessage)
        client.start_next_cycle()
        assert server.start_next_cycle()


def test_expect_100_continue_only_when_asked():
    client = h11.Connection(h11.CLIENT)
    server = HttpConnection(LIMITS)
    headers = [("Host", "x"), ("Content-Length", "3"), ("Expect", "100-continue")]
    server.receive_data(client.send(h11.Request(method="POST", target="/", headers=headers)))
    assert isinstance(server.next_event(), RequestHead)
    assert server.next_event() is NEED_DATA and server.waiting_for_continue
    client.receive_data(server.send_continue())
    assert client.next_event().status_code == 100
    server.receive_data(client.send(h11.Data(data=b"abc")) + client.send(h11.EndOfMessage()))
    assert server.next_event() == BodyData(b"abc")


def test_announced_body_over_the_limit_is_refused_before_it_arrives():
    server = HttpConnection(LIMITS)
    server.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    event = server.next_event()
    assert isinstance(event, Refused) and event.status == 413


def test_body_max_zero_refuses_any_body_with_405():
    server = HttpConnection(Limits(body_max=0))
    server.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nA")
    assert server.next_event().status == 405


def test_request_heads_compare_by_value_and_say_what_they_hold():
    """RequestHead behaves as the dataclass it was, compiled or not."""
    def make(path="/a"):
        return RequestHead("get", path + "?q=1", path, "q=1", b"1.1", [("host", "x")], None, False)

    assert make() == make() and make() != make("/b")
    assert make() != ("get", "/a?q=1")
    assert repr(make()) == ("RequestHead(method='get', target='/a?q=1', path='/a', query='q=1', http_version=b'1.1', "
                            "headers=[('host', 'x')], content_length=None, chunked=False)")
    with pytest.raises(TypeError):
        hash(make())
    head = make()
    head.path = "/c"
    assert head.path == "/c" and head.header("host") == "x" and head.header("cookie") is None


def test_header_gives_the_last_value_of_a_name():
    head = RequestHead("get", "/", "/", "", b"1.1", [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")], None, False)
    assert [head.header(name) for name in ("a", "b", "c", "d")] == ["3", "2", "4", None]
    assert RequestHead("get", "/", "/", "", b"1.1", [], None, False).header("a") is None

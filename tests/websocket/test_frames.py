"""The websocket fast path (korepyd.websocket.frames) against wsproto alone.

Two sessions are fed the same client bytes in the same pieces, one with
the fast path and one without (fast=False), and must give the same
messages, the same bytes back (pongs, close replies), the same close and
the same answer to a send afterwards. The frames are generated from every
part a header has: FIN, RSV bits, each opcode, masked or not, each length
form (including the non-minimal ones), lengths on both sides of the
session's limit, text that is and is not UTF-8, close frames with and
without a code.
"""

import os
from itertools import pairwise

import h11
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import Request
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol

from korepyd.websocket import frames
from korepyd.websocket.session import OP_BINARY, OP_TEXT, Closed, Message, WebSocketSession

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "0")) or 1500


def handshake(offer_deflate: bool = False) -> tuple[bytes, list]:
    client = WSConnection(ConnectionType.CLIENT)
    extensions = [PerMessageDeflate()] if offer_deflate else []
    server = h11.Connection(h11.SERVER)
    server.receive_data(client.send(Request(host="x", target="/ws", extensions=extensions)))
    request = server.next_event()
    return request.target, request.headers.raw_items()


def session(maxframe: int, fast: bool, offer_deflate: bool = False) -> WebSocketSession:
    target, headers = handshake(offer_deflate)
    ws = WebSocketSession(maxframe, fast=fast)
    ws.accept(b"GET", target, headers, [])
    return ws


def client_frame(op: int, payload: bytes, *, fin=True, rsv=0, masked=True, form="minimal", mask=b"\x01\x82\x43\xf4"):
    size = len(payload)
    if form == "minimal":
        form = "7" if size < 126 else "16" if size < 65536 else "64"
    if form == "7":
        length = bytes([size & 0x7F])
    elif form == "16":
        length = bytes([126]) + (size & 0xFFFF).to_bytes(2, "big")
    else:
        length = bytes([127]) + size.to_bytes(8, "big")
    head = bytes([(0x80 if fin else 0) | rsv << 4 | op, length[0] | (0x80 if masked else 0)]) + length[1:]
    if not masked:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def run(ws: WebSocketSession, pieces: list[bytes]):
    trace = []
    for piece in pieces:
        events, reply = ws.receive_data(piece)
        trace.append((events, reply))
        if ws.closed is not None:
            break
    try:
        after = ws.send_message(OP_TEXT, "after")
    except Exception as error:  # the same exception from both, if any
        after = type(error)
    return trace, ws.closed, ws._ws.state, after


def joined(trace):
    return [e for events, _ in trace for e in events], b"".join(reply for _, reply in trace)


payloads = st.one_of(
    st.binary(max_size=140),
    st.text(max_size=60).map(str.encode),
    st.sampled_from([b"\xff", b"\xed\xa0\x80", b"caf\xc3", b"\xc3\xa9" * 70]),
    st.integers(100, 300).map(lambda n: bytes(n)),
    st.just(bytes(66000)),
)


@st.composite
def frames_(draw):
    op = draw(st.sampled_from([1, 1, 2, 2, 2, 0, 8, 9, 10, 3, 0xB]))
    payload = draw(payloads)
    if op == 8 and draw(st.booleans()):
        payload = draw(st.sampled_from([1000, 1001, 1005, 1011, 999, 4000])).to_bytes(2, "big") + payload[:50]
    return client_frame(
        op, payload,
        fin=draw(st.sampled_from([True, True, True, False])),
        rsv=draw(st.sampled_from([0, 0, 0, 0, 4, 2, 1])),
        masked=draw(st.sampled_from([True, True, True, False])),
        form=draw(st.sampled_from(["minimal", "minimal", "minimal", "7", "16", "64"])),
        mask=draw(st.binary(min_size=4, max_size=4)),
    )


@st.composite
def split(draw, data: bytes):
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=6)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(frames_(), min_size=1, max_size=8), st.sampled_from([16, 125, 200, 16384, 70000]), st.data())
def test_the_fast_path_agrees_with_wsproto(wire, maxframe, data):
    pieces = data.draw(split(b"".join(wire)))
    fast, slow = run(session(maxframe, True), pieces), run(session(maxframe, False), pieces)
    assert joined(fast[0]) == joined(slow[0])
    assert fast[1:] == slow[1:]


def test_common_frames_stay_on_the_fast_path():
    ws = session(16384, fast=True)
    wire = client_frame(1, "héllo".encode()) + client_frame(2, bytes(300)) + client_frame(9, b"p") + client_frame(10, b"")
    events, reply = ws.receive_data(wire)
    assert events == [Message(OP_TEXT, "héllo"), Message(OP_BINARY, bytes(300))]
    assert reply == b"\x8a\x01p"
    assert ws._fast_in and ws._fast_out
    assert ws.send_message(OP_BINARY, bytes(300)) == b"\x82\x7e\x01\x2c" + bytes(300)
    # a fragmented message hands the input to wsproto, which goes on reading everything after it
    events, _ = ws.receive_data(client_frame(1, b"fr", fin=False) + client_frame(0, b"ag") + client_frame(2, b"x"))
    assert events == [Message(OP_TEXT, "frag"), Message(OP_BINARY, b"x")]
    assert not ws._fast_in
    events, _ = ws.receive_data(client_frame(8, (1000).to_bytes(2, "big")))
    assert events == [Closed(1000, "")]


def test_an_agreed_extension_keeps_the_connection_on_wsproto():
    ws = session(16384, fast=True, offer_deflate=True)
    assert not ws._fast_in and not ws._fast_out
    assert session(16384, fast=True, offer_deflate=False)._fast_in


def test_the_fast_frames_are_what_a_wsproto_client_reads():
    reader = FrameProtocol(client=True, extensions=[])
    sizes = [0, 1, 125, 126, 65535, 65536]
    reader.receive_bytes(b"".join(frames.frame(OP_BINARY, bytes([n % 251]) * n) for n in sizes))
    received = list(reader.received_frames())
    assert [len(f.payload) for f in received] == sizes
    assert all(f.message_finished and f.payload == bytes([len(f.payload) % 251]) * len(f.payload) for f in received)

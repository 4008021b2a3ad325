"""The websocket session (sans-IO) against a real wsproto client."""

import zlib

import h11
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Pong, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from korepyd.websocket.session import OP_BINARY, OP_TEXT, Closed, WebSocketSession
from korepyd.websocket.session import Message as WsMessage
from korepyd.websocket.upgrade import check


def connect(maxframe=16384, deflate_client=False):
    client = WSConnection(ConnectionType.CLIENT)
    extensions = [PerMessageDeflate()] if deflate_client else []
    handshake = client.send(Request(host="x", target="/ws", extensions=extensions))
    server_h11 = h11.Connection(h11.SERVER)
    server_h11.receive_data(handshake)
    request = server_h11.next_event()
    session = WebSocketSession(maxframe)
    reply = session.accept(b"GET", request.target, request.headers.raw_items(), [(b"server", b"test")])
    client.receive_data(reply)
    assert isinstance(next(client.events()), AcceptConnection)
    return client, session


def test_text_binary_and_fragmented_messages():
    client, session = connect()
    wire = client.send(TextMessage("héllo")) + client.send(BytesMessage(b"\x00\x01"))
    wire += client.send(TextMessage("frag", message_finished=False)) + client.send(TextMessage("ment"))
    events, reply = session.receive_data(wire)
    assert events == [WsMessage(OP_TEXT, "héllo"), WsMessage(OP_BINARY, b"\x00\x01"), WsMessage(OP_TEXT, "fragment")]
    assert reply == b""
    client.receive_data(session.send_message(OP_TEXT, "back"))
    assert [e.data for e in client.events()] == ["back"]


def test_ping_is_answered_and_close_is_completed():
    client, session = connect()
    events, reply = session.receive_data(client.send(Ping(b"p")))
    client.receive_data(reply)
    assert [type(e) for e in client.events()] == [Pong]
    events, reply = session.receive_data(client.send(CloseConnection(code=1000, reason="bye")))
    assert events == [Closed(1000, "bye")]
    client.receive_data(reply)
    assert isinstance(next(client.events()), CloseConnection)


@pytest.mark.parametrize("parts", [1, 3])
def test_a_message_over_websocket_maxframe_closes_with_1009(parts):
    client, session = connect(maxframe=1000)
    chunk = b"x" * (1200 // parts + 1)
    wire = b"".join(client.send(BytesMessage(chunk, message_finished=i == parts - 1)) for i in range(parts))
    events, reply = session.receive_data(wire)
    assert events == [Closed(1009, "message too big")]
    client.receive_data(reply)
    close = next(client.events())
    assert isinstance(close, CloseConnection) and close.code == 1009


def test_compressed_message_is_inflated_and_a_deflate_bomb_is_refused():
    client, session = connect(maxframe=100_000, deflate_client=True)
    events, _ = session.receive_data(client.send(TextMessage("a" * 50_000)))
    assert events == [WsMessage(OP_TEXT, "a" * 50_000)]
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b"\0" * 50_000_000) + bomb.flush(zlib.Z_SYNC_FLUSH)
    assert len(payload) < 100_000
    frame = bytes([0xC2]) + _masked_length(len(payload[:-4])) + payload[:-4]  # FIN|RSV1, binary, masked (zero key)
    events, reply = session.receive_data(frame)
    assert events and events[0].code == 1009


def _masked_length(n):
    if n < 126:
        head = bytes([0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0"


def test_invalid_utf8_closes_with_1007():
    client, session = connect()
    frame = bytes([0x81]) + _masked_length(2) + b"\xff\xfe"
    events, _ = session.receive_data(frame)
    assert events[0].code == 1007


@pytest.mark.parametrize("headers, status", [
    ([("sec-websocket-version", "13"), ("upgrade", "websocket"), ("connection", "Upgrade")], 400),
    ([("sec-websocket-key", "k"), ("sec-websocket-version", "8"), ("upgrade", "websocket"),
      ("connection", "Upgrade")], 400),
])
def test_kore_handshake_checks(headers, status):
    refusal = check("get", headers)
    assert refusal.status == status
    if ("sec-websocket-version", "8") in headers:
        assert refusal.headers == (("sec-websocket-version", "13"),)

"""IPC framing and relaying, in memory."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from korepyd.ipc import KEYMGR, PARENT, WORKER_ALL, Decoder, IpcError, Message, MsgId, destinations, encode

messages = st.builds(Message, st.integers(0, 255), st.integers(0, 65535), st.integers(0, 65535),
                     st.binary(max_size=300))


@given(st.lists(messages, max_size=8), st.integers(1, 50))
def test_round_trip_whatever_the_read_sizes(batch, step):
    wire = b"".join(encode(m) for m in batch)
    decoder = Decoder()
    got = []
    for i in range(0, len(wire), step):
        decoder.receive_data(wire[i:i + step])
        got.extend(decoder.messages())
    assert got == batch
    assert decoder.pending == 0


def test_partial_frame_waits_for_more():
    wire = encode(Message(MsgId.READY, 1, PARENT, b"hello"))
    decoder = Decoder()
    decoder.receive_data(wire[:-1])
    assert decoder.next_message() is None
    decoder.receive_data(wire[-1:])
    assert decoder.next_message() == Message(MsgId.READY, 1, PARENT, b"hello")


def test_oversized_frame_is_refused_before_it_arrives():
    decoder = Decoder(max_payload=1024)
    decoder.receive_data(encode(Message(1, 1, 2, b"x" * 2048))[:20])
    with pytest.raises(IpcError, match="2048 bytes announced"):
        decoder.next_message()


def test_broadcast_goes_to_every_other_worker_once():
    msg = Message(MsgId.WEBSOCKET, 2, WORKER_ALL, b"frame")
    assert destinations(msg, [1, 2, 3, KEYMGR]) == [1, 3]


def test_direct_message_to_a_running_child_or_nowhere():
    assert destinations(Message(MsgId.CERTIFICATE, KEYMGR, 3), [1, 3, KEYMGR]) == [3]
    assert destinations(Message(MsgId.CERTIFICATE, KEYMGR, 4), [1, 3, KEYMGR]) == []

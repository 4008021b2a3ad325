"""The keymgr <-> worker payloads: round trips, and malformed input is an
IpcError, never an exception of another kind."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from korepyd.ipc import IpcError
from korepyd.ipc.keymaterial import Certificate, Challenge, pack, unpack


def test_round_trips():
    cert = Certificate("a.test", b"-----BEGIN CERTIFICATE-----", b"key", placeholder=True)
    assert Certificate.decode(cert.encode()) == cert
    challenge = Challenge("tls-alpn-01", "a.test", "tok-en_1", b"chain", b"key")
    assert Challenge.decode(challenge.encode()) == challenge
    assert Challenge.decode(Challenge("http-01", "a.test", "t").encode()) == Challenge("http-01", "a.test", "t")


@pytest.mark.parametrize("payload", [b"", b"\x00\x00", b"\x00\x00\x00\x09abc", pack(b"a", b"b") + b"x"])
def test_malformed(payload):
    with pytest.raises(IpcError):
        unpack(payload, 2)


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_ipc_error(data):
    for kind in (Certificate, Challenge):
        try:
            kind.decode(data)
        except IpcError:
            pass

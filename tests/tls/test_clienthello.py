"""The ClientHello parser, fed real ClientHellos made by Python's ssl
(OpenSSL), whole, byte by byte, re-fragmented into small records, and
garbage."""

import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from korepyd.tls import clienthello
from korepyd.tls.clienthello import Hello, MalformedHello, NotTLS, parse


def client_hello(server_name="example.com", alpn=("h2", "http/1.1")) -> bytes:
    context = ssl.create_default_context()
    if alpn:
        context.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def refragment(hello: bytes, size: int) -> bytes:
    """The same handshake bytes cut into records of `size` bytes."""
    body = b""
    i = 0
    while i < len(hello):
        length = int.from_bytes(hello[i + 3:i + 5], "big")
        body += hello[i + 5:i + 5 + length]
        i += 5 + length
    return b"".join(b"\x16\x03\x01" + len(body[j:j + size]).to_bytes(2, "big") + body[j:j + size]
                    for j in range(0, len(body), size))


def test_sni_and_alpn():
    assert parse(client_hello()) == Hello("example.com", (b"h2", b"http/1.1"))
    assert parse(client_hello("KoRe.Example", ("acme-tls/1",))) == Hello("kore.example", (b"acme-tls/1",))


def test_no_sni_and_no_alpn():
    hello = client_hello(server_name=None, alpn=())
    assert parse(hello) == Hello(None, ())


def test_incomplete_input_asks_for_more_byte_by_byte():
    hello = client_hello()
    for n in range(len(hello)):
        assert parse(hello[:n]) is None, n
    assert parse(hello).server_name == "example.com"


@pytest.mark.parametrize("size", [7, 100])
def test_fragmented_records(size):
    data = refragment(client_hello(), size)
    assert parse(data) == Hello("example.com", (b"h2", b"http/1.1"))
    assert parse(data[:-1]) is None


def test_plain_http_is_not_tls():
    with pytest.raises(NotTLS):
        parse(b"GET / HTTP/1.1\r\n")


@pytest.mark.parametrize("data", [
    b"\x16\x03\x01\x00\x00", b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00",
    b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00",
])
def test_garbage_is_refused(data):
    with pytest.raises(MalformedHello):
        parse(data)


HELLO = client_hello()


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 400))
def test_fuzz_never_crashes(noise, cut):
    for data in (noise, b"\x16" + noise, HELLO[:cut] + noise):
        try:
            parse(data)
        except (NotTLS, MalformedHello):
            pass


@pytest.mark.parametrize("size", [1, 7, 100, 16384])
def test_wanted_is_the_end_of_the_record_begun(size):
    """A reader that peeks waits for wanted() bytes: each time it has them,
    parse() gets further, and it ends with the Hello, never asking for
    more than the whole ClientHello."""
    data = refragment(HELLO, size)
    have = 0
    while (hello := clienthello.parse(data[:have])) is None:
        need = clienthello.wanted(data[:have])
        assert have < need <= len(data)
        have = need
    assert hello.server_name == "example.com" and have == len(data)

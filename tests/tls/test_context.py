"""Server contexts from PEM bytes, checked by in-memory handshakes with
Python's ssl as the client."""

import ssl
from pathlib import Path

import pytest

from korepyd.tls.context import Profile, challenge_context, server_context
from tests.tlscerts import ClientCA, self_signed


def handshake(server: ssl.SSLContext, cert_pem: bytes, *, client_version=None, alpn=("http/1.1",),
              client_cert=None) -> ssl.SSLObject:
    client = ssl.create_default_context(cadata=cert_pem.decode())
    client.set_alpn_protocols(list(alpn))
    if client_cert:
        client.load_cert_chain(*client_cert)
    if client_version:
        client.minimum_version = client.maximum_version = client_version
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(c_in, c_out, server_hostname="korepyd.test")
    s = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side, out, other_in in ((c, c_out, s_in), (s, s_out, c_in)):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            other_in.write(out.read())
    return c


def test_handshake_with_key_material_from_bytes(tmp_path):
    cert, key = self_signed()
    context = server_context(cert, key, scratch=str(tmp_path))
    client = handshake(context, cert)
    assert client.version() == "TLSv1.3" and client.selected_alpn_protocol() == "http/1.1"
    assert list(tmp_path.iterdir()) == []  # the key never stays on disk


@pytest.mark.parametrize("version, client, works", [
    ("1.2", ssl.TLSVersion.TLSv1_3, False), ("1.2", ssl.TLSVersion.TLSv1_2, True),
    ("1.3", ssl.TLSVersion.TLSv1_2, False), ("both", ssl.TLSVersion.TLSv1_2, True),
])
def test_tls_version(version, client, works):
    cert, key = self_signed()
    context = server_context(cert, key, Profile(version=version))
    if works:
        assert handshake(context, cert, client_version=client).version() is not None
    else:
        with pytest.raises(ssl.SSLError):
            handshake(context, cert, client_version=client)


def test_challenge_context_answers_only_acme_tls():
    cert, key = self_signed()
    client = handshake(challenge_context(cert, key), cert, alpn=("acme-tls/1",))
    assert client.selected_alpn_protocol() == "acme-tls/1"


def test_client_verify_requires_a_certificate_from_the_ca(tmp_path):
    cert, key = self_signed()
    ca = ClientCA()
    context = server_context(cert, key, Profile(client_ca=ca.pem))
    pem, private = ca.issue("alice")
    (tmp_path / "c.pem").write_bytes(pem)
    (tmp_path / "c.key").write_bytes(private)
    assert handshake(context, cert, client_cert=(tmp_path / "c.pem", tmp_path / "c.key")).version()
    with pytest.raises(ssl.SSLError):  # no certificate: TLS 1.3 reports it after the handshake, on first read
        c = handshake(context, cert)
        c.read(1)


def test_tls_dhparam_enables_dhe(tmp_path):
    cert, key = self_signed(rsa_bits=2048)
    dhparam = (Path(__file__).parent / "ffdhe2048.pem").read_bytes()  # RFC 7919, made by openssl genpkey
    context = server_context(cert, key, Profile(version="1.2", ciphers="DHE-RSA-AES128-GCM-SHA256", dhparam=dhparam),
                             scratch=str(tmp_path))
    client = handshake(context, cert, client_version=ssl.TLSVersion.TLSv1_2)
    assert client.cipher()[0] == "DHE-RSA-AES128-GCM-SHA256"
    assert list(tmp_path.iterdir()) == []

"""Server contexts from PEM bytes, checked by in-memory handshakes with
Python's ssl as the client."""

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from korepyd.tls.context import server_context


def self_signed(name="korepyd.test"):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def handshake(server: ssl.SSLContext, cert_pem: bytes, *, client_version=None) -> ssl.SSLObject:
    client = ssl.create_default_context(cadata=cert_pem.decode())
    client.set_alpn_protocols(["http/1.1"])
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
    context = server_context(cert, key, version=version)
    if works:
        assert handshake(context, cert, client_version=client).version() is not None
    else:
        with pytest.raises(ssl.SSLError):
            handshake(context, cert, client_version=client)

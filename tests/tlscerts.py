"""Certificates for the TLS tests, made with cryptography: self-signed
server certificates, and a small CA issuing client certificates."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: str, issuer: str, public_key, days: float = 1):
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=days)))


def self_signed(name: str = "korepyd.test", *more: str, rsa_bits: int = 0) -> tuple[bytes, bytes]:
    """(cert_pem, key_pem) for `name` (and `more` names): EC P-256, or RSA
    with `rsa_bits`."""
    key = rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
    sans = x509.SubjectAlternativeName([x509.DNSName(n) for n in (name, *more)])
    cert = _builder(name, name, key.public_key()).add_extension(sans, critical=False).sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def write_self_signed(directory: Path, stem: str, name: str) -> tuple[Path, Path]:
    cert, key = self_signed(name)
    (directory / f"{stem}.pem").write_bytes(cert)
    (directory / f"{stem}.key").write_bytes(key)
    return directory / f"{stem}.pem", directory / f"{stem}.key"


class ClientCA:
    """A CA that issues client certificates."""

    def __init__(self, name: str = "korepyd test CA"):
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (_builder(name, name, self.key.public_key(), days=2)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name: str) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _builder(common_name, self.name, key.public_key()).sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)

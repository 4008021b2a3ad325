"""What a server shows the CA to prove it controls a name: the key
authorization (RFC 8555 section 8.1), the tls-alpn-01 certificate
(RFC 8737) and the http-01 path (RFC 8555 section 8.3).

Kore answers tls-alpn-01 only (src/acme.c); korepyd also offers http-01.
This module only computes; installing the answer in the workers is the
key manager's business.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

import datetime
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from korepyd.acme import keys

ACME_TLS_ALPN = "acme-tls/1"
ACME_IDENTIFIER_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")    # id-pe-acmeIdentifier
HTTP01_PREFIX = "/.well-known/acme-challenge/"
CERT_LIFETIME = datetime.timedelta(days=1)
CLOCK_SKEW = datetime.timedelta(hours=1)

_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def check_token(token: str) -> str:
    """A challenge token is base64url (RFC 8555 section 8.3): anything
    else is refused, so it can never shape a path or a header."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValueError(f"invalid ACME challenge token {token!r}")
    return token


def key_authorization(token: str, account_key_pem: bytes) -> str:
    """token "." base64url(JWK thumbprint of the account key)."""
    return f"{check_token(token)}.{keys.thumbprint(keys.public_jwk(account_key_pem))}"


def http01_path(token: str) -> str:
    return HTTP01_PREFIX + check_token(token)


def tlsalpn01_certificate(domain: str, key_authorization: str) -> tuple[bytes, bytes]:
    """(cert_pem, key_pem) that answers tls-alpn-01 for `domain`: a fresh
    EC P-256 key, a self-signed certificate whose only SAN is the domain
    and whose critical acmeIdentifier extension holds the DER OCTET STRING
    of SHA-256(key authorization); it lives a day."""
    digest = hashlib.sha256(key_authorization.encode("ascii")).digest()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)] if len(domain) <= keys.MAX_CN else [])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + CERT_LIFETIME)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .add_extension(x509.UnrecognizedExtension(ACME_IDENTIFIER_OID, b"\x04\x20" + digest), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem

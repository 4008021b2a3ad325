"""The key authorization, the tls-alpn-01 certificate and the http-01 path."""

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from korepyd.acme.challenge import ACME_TLS_ALPN, http01_path, key_authorization, tlsalpn01_certificate
from korepyd.acme.keys import generate_key_pem

# RFC 7638 section 3.1: an RSA public key and its SHA-256 JWK thumbprint.
RFC7638_N = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCi"
             "FV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgn"
             "Yb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw"
             "0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def test_key_authorization_rfc7638_vector():
    public = rsa.RSAPublicNumbers(65537, b64url_int(RFC7638_N)).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_authorization("tok-EN_1", pem) == f"tok-EN_1.{RFC7638_THUMBPRINT}"


def test_key_authorization_ec_thumbprint_computed_by_hand():
    pem = generate_key_pem()
    numbers = serialization.load_pem_private_key(pem, None).public_key().public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": b64url(numbers.x.to_bytes(32, "big")),
           "y": b64url(numbers.y.to_bytes(32, "big"))}
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    assert key_authorization("abc", pem) == "abc." + b64url(hashlib.sha256(canonical).digest())


@pytest.mark.parametrize("token", ["", "../etc", "a/b", "a b", "tok=", "tök", "a\n"])
def test_tokens_that_are_not_base64url_are_refused(token):
    with pytest.raises(ValueError, match="token"):
        key_authorization(token, generate_key_pem())
    with pytest.raises(ValueError, match="token"):
        http01_path(token)


def test_http01_path():
    assert http01_path("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0") == \
        "/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"


def test_tlsalpn01_certificate():
    keyauth = "token.thumbprint"
    cert_pem, key_pem = tlsalpn01_certificate("korepyd.test", keyauth)
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(san.value) == [x509.DNSName("korepyd.test")]
    acme = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31"))
    assert acme.critical
    assert acme.value.value == b"\x04\x20" + hashlib.sha256(keyauth.encode()).digest()
    now = datetime.datetime.now(datetime.UTC)
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= datetime.timedelta(days=2)
    cert.verify_directly_issued_by(cert)    # self-signed
    assert ACME_TLS_ALPN == "acme-tls/1"


def test_tlsalpn01_certificate_for_a_long_name():
    domain = ".".join(["a" * 60, "b" * 60, "korepyd.test"])
    cert = x509.load_pem_x509_certificate(tlsalpn01_certificate(domain, "t.k")[0])
    assert list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value) == [x509.DNSName(domain)]
    assert list(cert.subject) == []


def test_each_certificate_has_its_own_key():
    assert tlsalpn01_certificate("korepyd.test", "t.k")[1] != tlsalpn01_certificate("korepyd.test", "t.k")[1]

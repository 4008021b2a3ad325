"""Keys for ACME: the account key as a JWK with its JWS algorithm, new
keys for accounts and domains, and the CSR sent at finalize.

Account keys are EC P-256 (ES256, what korepyd creates), EC P-384
(ES384) or RSA of 2048 bits or more (RS256). This module knows nothing
about files or the network.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

from dataclasses import dataclass

import josepy as jose
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

MIN_RSA_BITS = 2048
MAX_CN = 64     # RFC 5280 ub-common-name


@dataclass(frozen=True)
class AccountKey:
    jwk: jose.JWK
    alg: jose.JWASignature

    @classmethod
    def from_pem(cls, pem: bytes) -> AccountKey:
        """The account key from a PEM private key; ValueError if it is
        not one ACME can sign with."""
        key = _private_key(pem, "account key")
        if isinstance(key, ec.EllipticCurvePrivateKey):
            algs = {"secp256r1": jose.ES256, "secp384r1": jose.ES384}
            if key.curve.name not in algs:
                raise ValueError(f"account key: curve {key.curve.name} is not supported (P-256 or P-384)")
            return cls(jose.JWKEC(key=key), algs[key.curve.name])
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < MIN_RSA_BITS:
                raise ValueError(f"account key: RSA key of {key.key_size} bits, {MIN_RSA_BITS} at least")
            return cls(jose.JWKRSA(key=key), jose.RS256)
        raise ValueError("account key: neither EC nor RSA")

    def thumbprint(self) -> str:
        """The JWK thumbprint (RFC 7638, SHA-256), base64url."""
        return thumbprint(self.jwk)


def thumbprint(jwk: jose.JWK) -> str:
    return jose.b64encode(jwk.public_key().thumbprint()).decode("ascii")


def public_jwk(pem: bytes) -> jose.JWK:
    """The public JWK of a PEM key, private or public."""
    try:
        return jose.JWK.load(pem).public_key()
    except (ValueError, TypeError, jose.errors.Error) as exc:
        raise ValueError(f"account key: cannot load the PEM key ({exc})") from None


def generate_key_pem() -> bytes:
    """A new EC P-256 private key, PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def csr_der(domains: list[str], domain_key_pem: bytes) -> bytes:
    """A CSR for `domains` (CN the first, when it fits; SANs all of
    them), signed with the domain key, DER."""
    if not domains:
        raise ValueError("CSR: no domain")
    key = _private_key(domain_key_pem, "domain key")
    names = [x509.NameAttribute(NameOID.COMMON_NAME, domains[0])] if len(domains[0]) <= MAX_CN else []
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name(names))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]), critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER)


def _private_key(pem: bytes, what: str):
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what}: not a usable unencrypted PEM private key ({exc})") from None

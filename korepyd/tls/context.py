"""SSL contexts for TLS servers, from kore.conf's settings (Kore:
kore_tls_domain_setup() in src/tls_openssl.c).

The default is Mozilla's "intermediate" profile: TLS 1.2 and 1.3, ECDHE
(and DHE with tls_dhparam) with AEAD ciphers, key exchange on X25519,
P-256 or P-384 (openssl.cnf; P-256 alone without it), no
compression, no renegotiation. `tls_version` narrows the versions,
`tls_cipher` replaces the TLS 1.2 cipher list, `client_verify CA [CRL]`
requires client certificates, and ALPN offers http/1.1. (Python's ssl
cannot limit the chain depth; `client_verify_depth` is not applied.)

Everything arrives as bytes: key material from keymgr, the other files
read before the worker dropped its privileges. Python's ssl loads
certificates, keys, CRLs and DH parameters only from files, so each is
written to a file in a private (0700) directory, loaded and removed at
once.

Layer: wire (TLS), sans-IO.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from dataclasses import dataclass

INTERMEDIATE_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
))
ACME_TLS_ALPN = "acme-tls/1"


@dataclass(frozen=True)
class Profile:
    """The settings every domain's context shares (tls_version, tls_cipher,
    tls_dhparam), and one domain's client_verify files, as bytes."""

    version: str = "both"
    ciphers: str | None = None
    dhparam: bytes | None = None
    client_ca: bytes | None = None
    crl: bytes | None = None


def server_context(cert_pem: bytes, key_pem: bytes, profile: Profile = Profile(),
                   scratch: str | None = None) -> ssl.SSLContext:
    """A server context for one domain; `scratch` is a private directory
    for the moment the material must be a file."""
    context = _base(profile.version)
    context.set_ciphers(profile.ciphers or INTERMEDIATE_CIPHERS)
    if not groups_configured():
        # OpenSSL's default groups include X448, secp521r1 and ffdhe*, which the
        # profile rejects; Python's ssl can name a single group: P-256, which
        # every client of the profile has (openssl.cnf gives workers three).
        context.set_ecdh_curve("prime256v1")
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    with _files(scratch, chain=key_pem + b"\n" + cert_pem, dh=profile.dhparam, crl=profile.crl) as path:
        context.load_cert_chain(path["chain"])
        if "dh" in path:
            context.load_dh_params(path["dh"])
        if profile.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=profile.client_ca.decode("ascii", "replace"))
            if "crl" in path:
                context.load_verify_locations(cafile=path["crl"])
                context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context


OPENSSL_CNF = os.path.join(os.path.dirname(__file__), "openssl.cnf")


def groups_configured() -> bool:
    """Whether OpenSSL was started with korepyd's openssl.cnf (workers are)."""
    return os.environ.get("OPENSSL_CONF") == OPENSSL_CNF


def challenge_context(cert_pem: bytes, key_pem: bytes, scratch: str | None = None) -> ssl.SSLContext:
    """The context that answers ACME's tls-alpn-01 (RFC 8737) for one domain:
    the challenge certificate, offered only as `acme-tls/1`."""
    context = _base("both")
    context.set_alpn_protocols([ACME_TLS_ALPN])
    with _files(scratch, chain=key_pem + b"\n" + cert_pem) as path:
        context.load_cert_chain(path["chain"])
    return context


def _base(version: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    return context


@contextlib.contextmanager
def _files(scratch: str | None, **contents: bytes | None):
    """Write each non-empty content to its own file (mode 0600) in a fresh
    0700 directory; yield their paths by name; remove them all after."""
    directory = tempfile.mkdtemp(prefix="korepyd-tls-", dir=scratch)
    paths = {}
    try:
        for name, data in contents.items():
            if data:
                paths[name] = os.path.join(directory, name + ".pem")
                with open(os.open(paths[name], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                    file.write(data)
        yield paths
    finally:
        for path in paths.values():
            os.unlink(path)
        os.rmdir(directory)

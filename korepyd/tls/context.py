"""SSL contexts for TLS servers, from kore.conf's settings (Kore:
kore_tls_domain_setup() in src/tls_openssl.c).

The default is Mozilla's "intermediate" profile: TLS 1.2 and 1.3, ECDHE
(and DHE with tls_dhparam) with AEAD ciphers, no compression, no
renegotiation. `tls_version` narrows the versions, `tls_cipher` replaces
the TLS 1.2 cipher list, `client_verify CA [CRL]` requires client
certificates, and ALPN offers http/1.1. (Python's ssl cannot limit the
chain depth; `client_verify_depth` is not applied here.)

Python's ssl reads certificates and keys only from files; the key
material arrives as bytes (from keymgr), so it is written to a file in a
private (0700) directory, loaded, and removed at once.
"""

from __future__ import annotations

import os
import ssl
import tempfile

INTERMEDIATE_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
))


def server_context(cert_pem: bytes, key_pem: bytes, *, version: str = "both", ciphers: str | None = None,
                   dhparam: str | None = None, client_ca: str | None = None, crl: str | None = None,
                   scratch: str | None = None) -> ssl.SSLContext:
    """A server context for one domain; `scratch` is a private directory
    for the moment the key material must be a file."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    context.set_ciphers(ciphers or INTERMEDIATE_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    if dhparam:
        context.load_dh_params(dhparam)
    load_chain(context, cert_pem, key_pem, scratch)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
        if crl:
            context.load_verify_locations(cafile=crl)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context


def load_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, scratch: str | None = None) -> None:
    """load_cert_chain() from bytes, through a file that lives for a moment."""
    directory = tempfile.mkdtemp(prefix="korepyd-tls-", dir=scratch)
    try:
        path = os.path.join(directory, "chain.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key_pem + b"\n" + cert_pem)
        finally:
            os.close(fd)
        try:
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
    finally:
        os.rmdir(directory)

"""What keymgr reads from disk: each TLS domain's certificate chain and
key (Kore: keymgr_load_domain_privatekey() and the certificate chain
keymgr sends in src/keymgr.c), checked before any worker sees them, and
the rand_file.

Paths are as in kore.conf, relative to keymgr's root (it has dropped its
privileges and may be chrooted there).

Layer: role (keymgr).
"""

from __future__ import annotations

import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from korepyd.config import model
from korepyd.errors import KorepydError
from korepyd.ipc.keymaterial import Certificate

RAND_BYTES = 1024


class MaterialError(KorepydError):
    """A certificate or key cannot be used; the message says which and why."""


def tls_domains(config: model.Config) -> list[model.Domain]:
    """The domains served over TLS, in configuration order."""
    tls_servers = {s.name for s in config.servers if s.tls}
    return [d for d in config.domains if d.attach in tls_servers]


def load_files(domain: model.Domain) -> Certificate:
    """The certfile and certkey of a domain, checked: a PEM chain, a PEM
    key, and the key is the one the first certificate names."""
    chain = _read(domain, "certfile", domain.certfile)
    key = _read(domain, "certkey", domain.certkey)
    check(domain.name, chain, key)
    return Certificate(domain.name, chain, key)


def check(name: str, chain: bytes, key: bytes) -> None:
    try:
        certificates = x509.load_pem_x509_certificates(chain)
    except ValueError:
        raise MaterialError(f"domain {name}: the certfile holds no PEM certificate") from None
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except (ValueError, TypeError) as exc:
        raise MaterialError(f"domain {name}: the certkey is not an unencrypted PEM private key ({exc})") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if (certificates[0].public_key().public_bytes(serialization.Encoding.DER, public)
            != private.public_key().public_bytes(serialization.Encoding.DER, public)):
        raise MaterialError(f"domain {name}: the certkey is not the key of the certificate in certfile")


def _read(domain: model.Domain, what: str, path: str | None) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise MaterialError(f"domain {domain.name}: cannot read {what} '{path}' from keymgr's root "
                            f"({os.getcwd()}): {exc.strerror}") from None


def refresh_rand_file(path: str) -> None:
    """Mix rand_file into OpenSSL's pool when it exists, then replace it with
    fresh bytes (Kore keeps it between runs so a chrooted keymgr starts
    seeded; OpenSSL here seeds itself from getrandom(2) anyway)."""
    try:
        with open(path, "rb") as file:
            ssl.RAND_add(file.read(RAND_BYTES), RAND_BYTES / 2)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise MaterialError(f"rand_file '{path}': {exc.strerror}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as file:
            file.write(os.urandom(RAND_BYTES))
    except OSError as exc:
        raise MaterialError(f"rand_file '{path}': cannot write it: {exc.strerror}") from None

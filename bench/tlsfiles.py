"""The throwaway TLS material of the https scenario, made in the run's
scratch directory the first time a server needs it and removed with it:

  ec    an ECDSA P-256 key and a self-signed certificate for 127.0.0.1 and
        localhost: what every server serves, but Kore
  rsa   the same on an RSA-2048 key: Kore 4.3 loads no other kind of key
  dh    the RFC 7919 ffdhe4096 group (`openssl genpkey`): Kore will not
        start without a tls_dhparam file, TLS or not

Keys are PKCS#8 PEM, which granian requires. Nothing is verified against
these certificates: the clients (wrk, run.py's checks) skip verification.
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

DAYS = 2


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    kind: str  # "ec" (ECDSA P-256) or "rsa" (RSA-2048)


def certificate(directory: Path, kind: str = "ec") -> Certificate:
    """The self-signed certificate of `kind` in `directory`, made if missing."""
    found = Certificate(directory / f"{kind}-cert.pem", directory / f"{kind}-key.pem", kind)
    if not found.cert.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
        found.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
        found.key.chmod(0o600)
        found.cert.write_bytes(self_signed(key).public_bytes(serialization.Encoding.PEM))
    return found


def self_signed(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=DAYS))
            .add_extension(names, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def dhparam(directory: Path) -> Path:
    """The ffdhe4096 group as PEM DH parameters in `directory`, made if missing."""
    path = directory / "ffdhe4096.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe4096",
                            "-out", str(path)], check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RuntimeError(f"cannot write Kore's DH parameters with openssl(1): {exc}") from exc
    return path

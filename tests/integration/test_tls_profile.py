"""The default TLS profile is Mozilla's "intermediate" configuration, as
sslyze's compliance checker sees it (`sslyze --mozilla_config=intermediate`)
against the real daemon, with an RSA-2048 and with an EC P-256 certificate.

sslyze lives in its own virtualenv (it pins its own cryptography), made by
`make sslyze` (a step of `make test`). The certificate comes from a local CA
handed to sslyze with --certinfo_ca_file, so that the checker's certificate
checks (trusted path, key type and size, signature, lifespan) pass on their
merits, as they would with a public CA, instead of failing on a self-signed
leaf. Beyond sslyze's verdict, the test reads its JSON results and checks the
server configuration itself: protocol versions, cipher suites, key exchange
groups, and the TLS attack checks.

`tls_version 1.2` and `tls_version 1.3` narrow the profile and still
handshake (Python's ssl is enough for that)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.integration.daemon import Daemon, write_site
from tests.integration.test_tls import wait_serving

ROOT = Path(__file__).resolve().parents[2]
SSLYZE = Path(os.environ.get("KOREPYD_SSLYZE") or ROOT / ".venv-sslyze" / "bin" / "sslyze")
SSLYZE_TIMEOUT = 180
NAME = "korepyd.test"

CONF = """
server tls {{
    bind 127.0.0.1 {port}
}}
workers 1
{extra}
domain korepyd.test {{
    attach tls
    certfile server.pem
    certkey server.key
    route / {{
        handler page
    }}
}}
python_import app.py
"""

APP = """
def page(req):
    req.response(200, b"ok")
"""

# What Mozilla's intermediate profile (5.7, the one sslyze 6.3 carries) allows.
INTERMEDIATE_VERSIONS = {"tls_1_2_cipher_suites", "tls_1_3_cipher_suites"}
INTERMEDIATE_TLS13 = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
INTERMEDIATE_TLS12 = {
    "ecdsa": {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
              "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    "rsa": {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
}
INTERMEDIATE_CURVES = {"X25519", "secp256r1", "secp384r1"}
# The scans sslyze's compliance checker needs (SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER).
CHECKED_BY_SSLYZE = (
    "ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites", "tls_1_1_cipher_suites",
    "tls_1_2_cipher_suites", "tls_1_3_cipher_suites", "heartbleed", "robot", "openssl_ccs_injection",
    "tls_fallback_scsv", "tls_compression", "session_renegotiation", "certificate_info", "elliptic_curves",
    "tls_extended_master_secret",
)


def _key(kind: str):
    return rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_ca_and_server_cert(directory: Path, kind: str) -> Path:
    """A local CA and a 90-day server certificate for NAME it issued, both
    `kind` keys (rsa: RSA-2048 signed with SHA-256; ecdsa: P-256 signed with
    ECDSA-SHA-256), built as the web PKI wants them (cryptography's verifier,
    which sslyze uses, is strict). Writes server.pem, server.key, ca.pem;
    returns ca.pem's path."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = _key(kind), _key(kind)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"korepyd test CA ({kind})")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=90))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=kind == "rsa",
                                         content_commitment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(_pem_key(key))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return directory / "ca.pem"


def start(directory: Path, kind: str, extra: str = "") -> tuple[Daemon, Path]:
    ca = write_ca_and_server_cert(directory, kind)
    port = write_site(directory, CONF, APP, extra=extra)
    daemon = Daemon(directory, port, args=("-n", "-r"))
    wait_serving(daemon)
    return daemon, ca


def run_sslyze(port: int, ca: Path, json_out: Path) -> subprocess.CompletedProcess:
    if not os.access(SSLYZE, os.X_OK):
        pytest.fail(f"sslyze is not installed at {SSLYZE}: run `make sslyze` (a step of `make test`)")
    command = [str(SSLYZE), "--mozilla_config=intermediate", f"--certinfo_ca_file={ca}", f"--sni={NAME}",
               f"--json_out={json_out}", f"127.0.0.1:{port}"]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=SSLYZE_TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"sslyze did not finish within {SSLYZE_TIMEOUT} s:\n{timeout.stdout}")


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_default_profile_is_mozilla_intermediate(tmp_path, kind):
    daemon, ca = start(tmp_path, kind)
    try:
        done = run_sslyze(daemon.port, ca, tmp_path / "sslyze.json")
    finally:
        assert daemon.stop() == 0
    report = f"sslyze exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    # sslyze exits 0 also when it could not connect at all: the verdict line must be there
    assert done.returncode == 0 and f"127.0.0.1:{daemon.port}: OK - Compliant." in done.stdout, report
    assert "Traceback" not in daemon.log()

    [server] = json.loads((tmp_path / "sslyze.json").read_text())["server_scan_results"]
    assert server["scan_status"] == "COMPLETED", report
    result = server["scan_result"]
    for name in CHECKED_BY_SSLYZE:
        assert result[name]["status"] == "COMPLETED", (name, result[name]["error_trace"])

    # protocol versions and cipher suites: exactly what the profile allows
    versions = {name for name, attempt in result.items()
                if name.endswith("_cipher_suites") and attempt["result"]["is_tls_version_supported"]}
    assert versions == INTERMEDIATE_VERSIONS
    accepted = {version: result[version]["result"]["accepted_cipher_suites"] for version in versions}
    assert {s["cipher_suite"]["name"] for s in accepted["tls_1_3_cipher_suites"]} == INTERMEDIATE_TLS13
    assert {s["cipher_suite"]["name"] for s in accepted["tls_1_2_cipher_suites"]} == INTERMEDIATE_TLS12[kind]

    # key exchange: only the profile's curves, and every accepted suite used one of them (no finite-field DHE)
    curves = {curve["name"] for curve in result["elliptic_curves"]["result"]["supported_curves"]}
    assert curves and curves <= INTERMEDIATE_CURVES, curves
    for suite in accepted["tls_1_2_cipher_suites"] + accepted["tls_1_3_cipher_suites"]:
        key = suite["ephemeral_key"]
        assert key["type_name"] == "ECDH" and key["curve_name"] in INTERMEDIATE_CURVES, key

    # the attack checks the profile implies
    assert result["tls_compression"]["result"]["supports_compression"] is False
    assert result["session_renegotiation"]["result"]["supports_secure_renegotiation"] is True
    assert result["session_renegotiation"]["result"]["is_vulnerable_to_client_renegotiation_dos"] is False
    assert result["tls_fallback_scsv"]["result"]["supports_fallback_scsv"] is True
    assert result["tls_extended_master_secret"]["result"]["supports_ems_extension"] is True
    assert result["heartbleed"]["result"]["is_vulnerable_to_heartbleed"] is False
    assert result["robot"]["result"]["robot_result"] == "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    assert result["openssl_ccs_injection"]["result"]["is_vulnerable_to_ccs_injection"] is False

    # the certificate checks passed on their merits: a path to the supplied CA for the name sent
    # as SNI (cryptography's server verifier checks the name too), the right key
    [deployment] = result["certificate_info"]["result"]["certificate_deployments"]
    trusted_by = {path["trust_store"]["name"] for path in deployment["path_validation_results"]
                  if path["was_validation_successful"]}
    assert trusted_by == {"Supplied CA file"}, deployment["path_validation_results"]
    key = deployment["received_certificate_chain"][0]["public_key"]
    assert (key["algorithm"], key["key_size"]) == {"rsa": ("RSAPublicKey", 2048),
                                                   "ecdsa": ("ECPublicKey", 256)}[kind]


def handshake(port: int, version: ssl.TLSVersion, ca: Path) -> tuple[str, str]:
    """One handshake with a client that speaks only `version`: the
    negotiated version and cipher."""
    context = ssl.create_default_context(cafile=str(ca))
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=NAME) as tls:
            return tls.version(), tls.cipher()[0]


@pytest.mark.parametrize("setting, speaks, refuses", [
    ("1.3", ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2),
    ("1.2", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3),
], ids=["tls_version 1.3", "tls_version 1.2"])
def test_tls_version_narrows_the_profile_and_still_handshakes(tmp_path, setting, speaks, refuses):
    daemon, ca = start(tmp_path, "ecdsa", extra=f"tls_version {setting}")
    try:
        version, cipher = handshake(daemon.port, speaks, ca)
        assert version == f"TLSv{setting}"
        if setting == "1.2":
            assert cipher in {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                              "ECDHE-ECDSA-CHACHA20-POLY1305"}
        with pytest.raises((ssl.SSLError, ConnectionError)):
            handshake(daemon.port, refuses, ca)
        assert handshake(daemon.port, speaks, ca)[0] == version  # the worker lives on
    finally:
        assert daemon.stop() == 0

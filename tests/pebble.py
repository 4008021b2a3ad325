"""A throwaway ACME CA for the tests: Debian's pebble (2.4.0) and
pebble-challtestsrv as its DNS, both on 127.0.0.1 only, with ports picked
at start, a WFE certificate made here (the package ships none) and every
name resolving to 127.0.0.1 (see shared/reference/acme-pebble.md).

    with running_pebble(env={"PEBBLE_AUTHZREUSE": "100"}) as ca:
        ca.directory_url, ca.ca_pem, ca.root_pem, ca.http_port, ca.tls_port

The thing under test answers validations on http_port (http-01) and
tls_port (tls-alpn-01), on 127.0.0.1 (and ::1, to be safe). A machine
without pebble fails these tests: .ci/run installs it.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_ENV = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
PORTS = ("listen", "management", "http", "tls", "dns", "dns_management")


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if path is None:
        raise RuntimeError(f"{name} not found: apt-get install pebble (it provides pebble and pebble-challtestsrv)")
    return path


def pick_ports() -> dict[str, int]:
    """Distinct free ports, picked while every probe socket is still open
    (closing each before the next can hand out the same port twice). The
    validation ports are free on ::1 too, and the DNS port for UDP."""
    for _ in range(50):
        probes: list[socket.socket] = []
        try:
            ports = {}
            for name in PORTS:
                probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                probes.append(probe)
                probe.bind(("127.0.0.1", 0))
                ports[name] = port = probe.getsockname()[1]
                extra = [(socket.AF_INET6, socket.SOCK_STREAM, "::1")] if name in ("http", "tls") else []
                extra += [(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1")] if name == "dns" else []
                for family, kind, host in extra:
                    other = socket.socket(family, kind)
                    probes.append(other)
                    other.bind((host, port))
            return ports
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free ports for pebble")


def _wfe_certificates(directory: Path) -> None:
    """ca.pem, cert.pem and key.pem for pebble's HTTPS (ACME and management)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "korepyd test pebble WFE CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName("localhost"), x509.DNSName("pebble"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))


class Pebble:
    """One pebble + challtestsrv pair; start() it, stop() it."""

    def __init__(self, env: dict[str, str] | None = None, config: dict | None = None):
        self.env = {**DEFAULT_ENV, **(env or {})}
        self.config = dict(config or {})
        self.dir = Path(tempfile.mkdtemp(prefix="korepyd-pebble-"))
        self.processes: list[subprocess.Popen] = []
        self.ports: dict[str, int] = {}
        self.ca_pem = b""
        self.root_pem = b""

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['listen']}/dir"

    @property
    def http_port(self) -> int:
        return self.ports["http"]

    @property
    def tls_port(self) -> int:
        return self.ports["tls"]

    def start(self) -> Pebble:
        pebble, challtestsrv = _binary("pebble"), _binary("pebble-challtestsrv")
        _wfe_certificates(self.dir)
        self.ca_pem = (self.dir / "ca.pem").read_bytes()
        self.ports = pick_ports()
        p = self.ports
        config = {"listenAddress": f"127.0.0.1:{p['listen']}", "managementListenAddress": f"127.0.0.1:{p['management']}",
                  "certificate": str(self.dir / "cert.pem"), "privateKey": str(self.dir / "key.pem"),
                  "httpPort": p["http"], "tlsPort": p["tls"], "ocspResponderURL": "",
                  "externalAccountBindingRequired": False, **self.config}
        (self.dir / "pebble-config.json").write_text(json.dumps({"pebble": config}))
        try:
            self._spawn("challtestsrv", [challtestsrv, "-dns01", f"127.0.0.1:{p['dns']}", "-http01", "",
                                         "-https01", "", "-tlsalpn01", "", "-management",
                                         f"127.0.0.1:{p['dns_management']}", "-defaultIPv4", "127.0.0.1",
                                         "-defaultIPv6", ""], os.environ)
            self._spawn("pebble", [pebble, "-config", str(self.dir / "pebble-config.json"),
                                   "-dnsserver", f"127.0.0.1:{p['dns']}"], {**os.environ, **self.env})
            self._wait_ready()
            self.root_pem = self._get(f"https://127.0.0.1:{p['management']}/roots/0")
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, argv: list[str], env) -> None:
        with open(self.dir / f"{name}.log", "wb") as log:
            self.processes.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                   env=dict(env), cwd=self.dir))

    def _get(self, url: str, timeout: float = 2.0) -> bytes:
        context = ssl.create_default_context(cadata=self.ca_pem.decode())
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        with opener.open(url, timeout=timeout) as response:
            return response.read()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited ({process.returncode}):\n{self.logs()}")
            try:
                self._get(self.directory_url, timeout=1.0)
                return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"pebble did not answer in {START_TIMEOUT:g} s:\n{self.logs()}") from None
                time.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.dir.glob("*.log")))

    def stop(self) -> None:
        """Stop both processes by their PIDs (TERM, then KILL), remove the files."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        self.processes.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_pebble(env: dict[str, str] | None = None, config: dict | None = None) -> Iterator[Pebble]:
    """A started Pebble, stopped on exit. `env` adds to or overrides
    DEFAULT_ENV; `config` adds pebble config keys, such as
    {"certificateValidityPeriod": 600}."""
    ca = Pebble(env, config).start()
    try:
        yield ca
    finally:
        ca.stop()

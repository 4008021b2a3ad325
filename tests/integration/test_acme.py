"""ACME through the real daemon against a real local CA (Debian's pebble,
tests/pebble.py): certificates obtained by tls-alpn-01 and by http-01,
served over HTTPS to a client trusting only pebble's root, renewed and
swapped in without a restart; and the placeholder served while the CA
cannot be reached."""

import socket
import ssl
import subprocess
import time

from cryptography import x509

from tests.integration.daemon import Daemon, write_site
from tests.integration.test_tls import wait_serving
from tests.pebble import running_pebble

CONF = """
server tls {{
    bind 127.0.0.1 {tls_port}
}}
server plain {{
    bind 127.0.0.1 {port}
    tls no
}}
workers 2
acme_provider {provider}
acme_ca_root pebble-ca.pem
acme_email ops@korepyd.test
domain alpn.korepyd.test {{
    attach tls
    acme yes
    route / {{
        handler page
    }}
}}
{more}
python_import app.py
"""

HTTP01_DOMAINS = """
domain http.korepyd.test {
    attach tls
    acme yes
    acme_challenge http-01
    route / {
        handler page
    }
}
domain http.korepyd.test {
    attach plain
    redirect ^/.*$ 301 https://http.korepyd.test/
}
"""

APP = """
def page(req):
    req.response(200, req.host.encode())
"""


def start(tmp_path, pebble, more: str = "", directory: str | None = None) -> Daemon:
    (tmp_path / "pebble-ca.pem").write_bytes(pebble.ca_pem if pebble else b"")
    port = write_site(tmp_path, CONF, APP, port=pebble.http_port if pebble else None,
                      tls_port=pebble.tls_port if pebble else free_tcp_port(),
                      provider=directory or pebble.directory_url, more=more)
    daemon = Daemon(tmp_path, port, args=("-n", "-r"))
    wait_serving(daemon)
    return daemon


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served(port: int, name: str, root_pem: bytes | None = None) -> tuple[x509.Certificate, bytes]:
    """The certificate served for `name`, and the response to GET /; with
    `root_pem` the chain must verify up to it, for that name."""
    if root_pem:
        context = ssl.create_default_context(cadata=root_pem.decode())
    else:
        context = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    return cert, data


def keep_alive(port: int, name: str, root_pem: bytes) -> ssl.SSLSocket:
    """A TLS connection that has served one request and stays open."""
    tls = ssl.create_default_context(cadata=root_pem.decode()).wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=name)
    tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    assert tls.recv(65536).startswith(b"HTTP/1.1 200")
    return tls


def wait_issued(daemon: Daemon, name: str, count: int = 1, timeout: float = 30.0) -> None:
    text = f"domain {name}: certificate issued"
    deadline = time.monotonic() + timeout
    while daemon.log().count(text) < count:
        assert daemon.proc.poll() is None, daemon.log()
        assert time.monotonic() < deadline, f"no {text!r} in time:\n{daemon.log()}"
        time.sleep(0.1)


def test_certificates_by_tls_alpn_01_and_http_01(tmp_path):
    with running_pebble() as pebble:
        daemon = start(tmp_path, pebble, HTTP01_DOMAINS)
        try:
            workers = daemon.workers()
            wait_issued(daemon, "alpn.korepyd.test")
            wait_issued(daemon, "http.korepyd.test")
            (tmp_path / "pebble-root.pem").write_bytes(pebble.root_pem)
            for name in ("alpn.korepyd.test", "http.korepyd.test"):
                cert, response = served(pebble.tls_port, name, pebble.root_pem)
                assert response.startswith(b"HTTP/1.1 200") and response.endswith(name.encode())
                curl = subprocess.run(["curl", "-sS", "--cacert", str(tmp_path / "pebble-root.pem"), "--resolve",
                                       f"{name}:{pebble.tls_port}:127.0.0.1", f"https://{name}:{pebble.tls_port}/"],
                                      capture_output=True, timeout=10)
                assert (curl.returncode, curl.stdout) == (0, f"{name}:{pebble.tls_port}".encode()), curl.stderr
                assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
                    .get_values_for_type(x509.DNSName) == [name]
            # the stored files are Kore's layout, owner-only
            for name in ("alpn.korepyd.test", "http.korepyd.test"):
                for file in ("fullchain.pem", "key.pem"):
                    assert (tmp_path / "certificates" / name / file).stat().st_mode & 0o077 == 0
            assert (tmp_path / "account-key.pem").stat().st_mode & 0o077 == 0
            log = daemon.log()
            assert "(tls-alpn-01)" in log and "(http-01)" in log
            assert daemon.workers() == workers and "Traceback" not in log
            # the plain server still redirects once the challenge is gone
            assert daemon.get("/", headers={"Host": "http.korepyd.test"})[0] == 301
        finally:
            assert daemon.stop() == 0


def test_renewal_is_installed_without_a_restart(tmp_path):
    with running_pebble(config={"certificateValidityPeriod": 9}) as pebble:
        daemon = start(tmp_path, pebble)
        try:
            workers = daemon.workers()
            wait_issued(daemon, "alpn.korepyd.test")
            first = served(pebble.tls_port, "alpn.korepyd.test", pebble.root_pem)[0]
            kept = keep_alive(pebble.tls_port, "alpn.korepyd.test", pebble.root_pem)
            # a third of 9 s left: keymgr orders again after about 6 s
            wait_issued(daemon, "alpn.korepyd.test", count=2)
            deadline = time.monotonic() + 5
            while (second := served(pebble.tls_port, "alpn.korepyd.test", pebble.root_pem)[0]) == first:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert second.not_valid_after_utc > first.not_valid_after_utc
            assert daemon.workers() == workers
            # a connection made before the renewal goes on with its certificate
            kept.sendall(b"GET / HTTP/1.1\r\nHost: alpn.korepyd.test\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200")
            assert x509.load_der_x509_certificate(kept.getpeercert(binary_form=True)) == first
            kept.close()
        finally:
            assert daemon.stop() == 0


def test_placeholder_while_the_ca_is_unreachable(tmp_path):
    closed = free_tcp_port()
    daemon = start(tmp_path, None, directory=f"https://127.0.0.1:{closed}/dir")
    try:
        cert, response = served(daemon_tls_port(tmp_path), "alpn.korepyd.test")
        assert cert.subject == cert.issuer  # self-signed
        assert "placeholder" in cert.subject.rfc4514_string()
        assert response.startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 10
        while "ACME failed" not in daemon.log():
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.1)
        log = daemon.log()
        assert "serving a self-signed placeholder" in log and "next try in 1 min" in log
        assert "Traceback" not in log
    finally:
        assert daemon.stop() == 0


def daemon_tls_port(directory) -> int:
    conf = (directory / "kore.conf").read_text()
    return int(conf.split("server tls {")[1].split("bind 127.0.0.1 ")[1].split()[0])

"""TLS through the real daemon: certificates chosen by SNI, keymgr as the
only reader of keys, 421 for a name other than the handshake's, client
certificates, HSTS, certificate rotation without a restart, and what
non-TLS clients get."""

import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
from cryptography import x509

from tests.integration.daemon import Daemon, write_site
from tests.tlscerts import ClientCA, write_self_signed

CONF = """
server tls {{
    bind 127.0.0.1 {port}
}}
workers 2
{extra}
domain a.test {{
    attach tls
    certfile a.pem
    certkey a.key
    {verify}
    route / {{
        handler page
    }}
}}
domain b.test {{
    attach tls
    certfile b.pem
    certkey b.key
    route / {{
        handler page
    }}
}}
python_import app.py
"""

APP = """
def page(req):
    who = req.connection.x509dict
    name = who["subject"].get("CN") if who else "-"
    req.response(200, f"{req.host} client={name}".encode())
"""


def start(tmp_path, *, extra="", verify="", args=("-n", "-r")) -> Daemon:
    write_self_signed(tmp_path, "a", "a.test")
    write_self_signed(tmp_path, "b", "b.test")
    port = write_site(tmp_path, CONF, APP, extra=extra, verify=verify)
    daemon = Daemon(tmp_path, port, args=args)
    wait_serving(daemon)
    return daemon


def wait_serving(daemon: Daemon, text: str = "serving with", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in daemon.log():
        if daemon.proc.poll() is not None:
            raise RuntimeError(f"korepyd exited with {daemon.proc.returncode}:\n{daemon.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"korepyd did not log {text!r}:\n{daemon.log()}")
        time.sleep(0.05)


def client_context(cafile=None, cert=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    if cert:
        context.load_cert_chain(*cert)
    return context


def https_get(port: int, sni: str | None, host: str | None = None, context=None,
              path: str = "/") -> tuple[int, str, dict, x509.Certificate]:
    """One request over a fresh TLS connection: status, body, headers and the
    server's certificate."""
    context = context or client_context()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=sni) as tls:
            served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
            assert tls.selected_alpn_protocol() == "http/1.1"
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host or sni}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    if not data:
        raise ConnectionError("closed without a response")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), body.decode(), headers, served


def common_name(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def test_sni_picks_the_domain_certificate(tmp_path):
    daemon = start(tmp_path)
    try:
        for name in ("a.test", "b.test"):
            status, body, headers, served = https_get(daemon.port, name,
                                                      context=client_context(cafile=str(tmp_path / f"{name[0]}.pem")))
            assert (status, common_name(served)) == (200, name)
            assert body == f"{name} client=-"
            assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        # no name, or an unknown one: the server's first domain answers the handshake
        assert common_name(https_get(daemon.port, None, host="a.test")[3]) == "a.test"
        assert common_name(https_get(daemon.port, "c.test", host="c.test")[3]) == "a.test"
    finally:
        assert daemon.stop() == 0


def test_host_other_than_the_server_name_is_421(tmp_path):
    daemon = start(tmp_path)
    try:
        assert https_get(daemon.port, "a.test", host="b.test")[0] == 421
        assert https_get(daemon.port, "a.test", host="A.TEST")[0] == 200
    finally:
        daemon.stop()


def test_workers_never_read_the_keys(tmp_path):
    """Keys readable by root only; workers run as nobody, keymgr as root."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root (CI runs as root)")
    extra = "privsep worker {\n runas nobody\n skip chroot\n}\nprivsep keymgr {\n runas root\n skip chroot\n}"
    write_self_signed(tmp_path, "a", "a.test")
    write_self_signed(tmp_path, "b", "b.test")
    for key in ("a.key", "b.key"):
        os.chmod(tmp_path / key, 0o600)
    os.chmod(tmp_path, 0o755)
    port = write_site(tmp_path, CONF, APP, extra=extra, verify="")
    daemon = Daemon(tmp_path, port, args=())
    try:
        wait_serving(daemon)
        assert "user=nobody" in daemon.log() and "[keymgr] started" in daemon.log()
        assert https_get(daemon.port, "b.test")[0] == 200
    finally:
        assert daemon.stop() == 0


def test_client_verify(tmp_path):
    ca = ClientCA()
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    pem, key = ca.issue("alice")
    (tmp_path / "alice.pem").write_bytes(pem)
    (tmp_path / "alice.key").write_bytes(key)
    stranger = ClientCA("another CA").issue("mallory")
    (tmp_path / "mallory.pem").write_bytes(stranger[0])
    (tmp_path / "mallory.key").write_bytes(stranger[1])
    daemon = start(tmp_path, verify="client_verify ca.pem")
    try:
        status, body, _, _ = https_get(daemon.port, "a.test",
                                       context=client_context(cert=(tmp_path / "alice.pem", tmp_path / "alice.key")))
        assert status == 200 and body.endswith("client=alice")
        for cert in (None, (tmp_path / "mallory.pem", tmp_path / "mallory.key")):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                https_get(daemon.port, "a.test", context=client_context(cert=cert))
        # b.test asks for no certificate; a.test's name reached over b.test's handshake is 421 first
        assert https_get(daemon.port, "b.test")[0] == 200
    finally:
        daemon.stop()


def test_sigusr1_installs_new_certificates_without_restart(tmp_path):
    daemon = start(tmp_path)
    try:
        before = https_get(daemon.port, "a.test")[3].serial_number
        pids = daemon.workers()
        write_self_signed(tmp_path, "a", "a.test")
        daemon.signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while https_get(daemon.port, "a.test")[3].serial_number == before:
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.1)
        assert daemon.workers() == pids
        assert "certificate sent to the workers" in daemon.log()
    finally:
        assert daemon.stop() == 0


def test_bad_key_stops_the_start_with_a_clear_error(tmp_path):
    write_self_signed(tmp_path, "a", "a.test")
    write_self_signed(tmp_path, "b", "b.test")
    (tmp_path / "b.key").write_bytes((tmp_path / "a.key").read_bytes())
    port = write_site(tmp_path, CONF, APP, extra="", verify="")
    daemon = Daemon(tmp_path, port, args=("-n", "-r"))
    assert daemon.proc.wait(10) != 0  # the workers waiting for certificates stop at once
    log = daemon.log()
    assert "domain b.test: the certkey is not the key of the certificate in certfile" in log
    assert "keymgr failed to start" in log and "did not stop" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize("greeting, answer", [
    (b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", b"HTTP/1.1 400 Bad Request"),   # plain HTTP on the TLS port
    (b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00", b""),     # a handshake record that is no ClientHello
    (b"\x16\x03\x01\x40\x01" + b"\x00" * 64, b""),           # a record longer than TLS allows
    (b"\x00\x01garbage", b""),
])
def test_non_tls_clients_are_closed_and_the_worker_lives(tmp_path, greeting, answer):
    daemon = start(tmp_path)
    try:
        pids = daemon.workers()
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as sock:
            sock.sendall(greeting)
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
        assert received.startswith(answer) and (answer or received == b"")
        assert https_get(daemon.port, "a.test")[0] == 200
        assert daemon.workers() == pids
        assert "Traceback" not in daemon.log()
    finally:
        daemon.stop()


@pytest.mark.parametrize("group, works", [("X25519", True), ("P-256", True), ("P-384", True), ("X448", False)])
def test_key_exchange_groups(tmp_path, group, works):
    """Workers offer X25519, P-256 and P-384 (korepyd's openssl.cnf), so a
    browser's X25519 key share needs no second round trip."""
    daemon = start(tmp_path)
    try:
        out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{daemon.port}", "-servername", "a.test",
                              "-groups", group], input=b"", capture_output=True, timeout=10).stdout.decode()
        assert ("Server Temp Key" in out) == works, out
    finally:
        daemon.stop()


def keymgr_pid(daemon: Daemon, missing_ok: bool = False) -> int | None:
    for pid in daemon.workers():
        if b"korepyd.keymgr" in open(f"/proc/{pid}/cmdline", "rb").read():
            return pid
    if missing_ok:  # between a keymgr's death and its successor's start
        return None
    raise AssertionError(f"no keymgr among the children:\n{daemon.log()}")


def test_keymgr_is_restarted_and_tls_goes_on(tmp_path):
    daemon = start(tmp_path)
    try:
        first = keymgr_pid(daemon)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while "restarting keymgr" not in daemon.log() or keymgr_pid(daemon, missing_ok=True) in (None, first):
            assert https_get(daemon.port, "a.test")[0] == 200  # the workers keep their contexts meanwhile
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.05)
        # a worker started now gets its certificates from the new keymgr
        workers = [pid for pid in daemon.workers() if pid != keymgr_pid(daemon)]
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while workers[0] in daemon.workers() or len(daemon.workers()) < 3:
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.05)
        for _ in range(10):  # both workers, whichever accepts
            assert https_get(daemon.port, "b.test")[0] == 200
    finally:
        assert daemon.stop() == 0


def test_hup_reload_keeps_tls(tmp_path):
    daemon = start(tmp_path)
    try:
        before = keymgr_pid(daemon)
        write_self_signed(tmp_path, "b", "b.test")
        serial = x509.load_pem_x509_certificate((tmp_path / "b.pem").read_bytes()).serial_number
        daemon.signal(signal.SIGHUP)
        wait_serving(daemon, "reloaded: generation 2 serves")
        deadline = time.monotonic() + 10
        while before in daemon.workers():  # the old generation's keymgr stops with its workers
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.05)
        assert keymgr_pid(daemon) != before
        for _ in range(10):
            assert https_get(daemon.port, "b.test")[3].serial_number == serial
    finally:
        assert daemon.stop() == 0


def test_keymgr_reads_keys_in_its_own_chroot(tmp_path):
    """privsep keymgr { root }: keymgr chroots there and finds the files
    relative to it, while the workers never have the directory."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root (CI runs as root)")
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    write_self_signed(keys, "a", "a.test")
    write_self_signed(keys, "b", "b.test")
    extra = f"privsep worker {{\n skip chroot\n}}\nprivsep keymgr {{\n root {keys}\n}}\nrand_file random.data"
    port = write_site(tmp_path, CONF, APP, extra=extra, verify="")
    daemon = Daemon(tmp_path, port, args=())
    try:
        wait_serving(daemon)
        assert f"[keymgr] started (#{keymgr_pid(daemon)} chroot={keys} user=root)" in daemon.log()
        assert https_get(daemon.port, "a.test")[0] == 200
        # rand_file is relative to keymgr's root, refreshed at start, owner-only
        assert (keys / "random.data").stat().st_size == 1024
        assert (keys / "random.data").stat().st_mode & 0o077 == 0
    finally:
        assert daemon.stop() == 0

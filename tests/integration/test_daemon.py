"""The daemon as a whole, started for real on 127.0.0.1: workers serve,
a killed worker is replaced, HUP reloads without failing a request (a HUP
a second too, under keep-alive clients that never retry), TERM lets a
request in flight finish and stops generations still draining at once,
readiness reaches $NOTIFY_SOCKET, and a root-started daemon drops the
workers' privileges.

Load comes from a few threads doing one request per connection, or from
keep-alive clients (KeepAliveLoad), for a bounded time; each test reports
its figures on stdout (pytest -s).
"""

from __future__ import annotations

import http.client
import os
import pwd
import signal
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, free_port, write_site

CONF = """
python_import app.py
server main {{
    bind 127.0.0.1 {port}
    tls no
}}
workers {workers}
{extra}
domain * {{
    attach main
    route /pid {{
        handler pid
    }}
    route /version {{
        handler version
    }}
    route /slow {{
        handler slow
    }}
}}
"""

APP = """
import os
import kore

VERSION = b"{version}"

def pid(req):
    req.response(200, str(os.getpid()).encode())

def version(req):
    req.response(200, VERSION)

async def slow(req):
    await kore.suspend(1500)
    req.response(200, b"slow done")
"""


def start(tmp_path: Path, *, workers: int = 2, version: str = "v1", extra: str = "", env=None, port=None,
          conf: str = CONF) -> Daemon:
    port = write_site(tmp_path, conf, APP.replace("{version}", version), workers=workers, extra=extra, port=port)
    daemon = Daemon(tmp_path, port, env=env)
    daemon.wait_ready("/pid")
    return daemon


@pytest.fixture
def daemons():
    started: list[Daemon] = []
    yield started
    for d in started:
        d.stop()


class _Threads:
    """Runs `self._threads` while the `with` block lasts (a load's clients)."""

    _stop: threading.Event
    _threads: list[threading.Thread]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(30)


class Load(_Threads):
    """Threads sending requests, one connection each, until stopped."""

    def __init__(self, daemon: Daemon, path: str, threads: int = 2):
        self.daemon, self.path = daemon, path
        self.results: Counter = Counter()
        self.bodies: Counter = Counter()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        while not self._stop.is_set():
            try:
                status, body = self.daemon.get(self.path, timeout=10)
                self.results[status] += 1
                self.bodies[body] += 1
            except OSError as exc:
                self.results["error"] += 1
                self.errors.append(repr(exc))

    @property
    def total(self) -> int:
        return sum(self.results.values())

    @property
    def failed(self) -> int:
        return self.total - self.results[200]


def test_two_workers_serve(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    workers = daemon.workers()
    assert len(workers) == 2
    seen = {int(daemon.get("/pid")[1]) for _ in range(60)}
    assert seen == set(workers)


def test_killed_worker_is_respawned_under_load(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    victim = daemon.workers()[0]
    with Load(daemon, "/pid") as load:
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        while victim in daemon.workers() or len(daemon.workers()) < 2:
            assert time.monotonic() - killed_at < 2.0, "no new worker within 2 s"
            time.sleep(0.02)
        respawn = time.monotonic() - killed_at
        while load.total < 4000 and time.monotonic() - killed_at < 15:  # at most 2 can fail (2 threads)
            time.sleep(0.1)
    print(f"\nkill under load: {load.total} requests, {load.failed} failed, respawned in {respawn:.2f} s")
    assert load.total > 2000
    assert load.failed * 1000 < load.total, load.errors[:5]
    assert "was killed by SIGKILL" in daemon.log()
    assert victim not in {int(b) for b in daemon_bodies(daemon, 40)}


def daemon_bodies(daemon: Daemon, n: int) -> set[bytes]:
    return {daemon.get("/pid")[1] for _ in range(n)}


def test_hup_reloads_under_load_without_a_failed_request(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    old_workers = set(daemon.workers())
    with Load(daemon, "/version", threads=3) as load:
        time.sleep(1.0)
        (tmp_path / "app.py").write_text(APP.replace("{version}", "v2"))
        daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while daemon.get("/version")[1] != b"v2":
            assert time.monotonic() < deadline, daemon.log()
            time.sleep(0.05)
        time.sleep(1.0)
    print(f"\nHUP under load: {load.total} requests, {load.failed} failed, {dict(load.bodies)}")
    assert load.failed == 0, load.errors[:5]
    assert load.bodies[b"v1"] > 0 and load.bodies[b"v2"] > 0
    assert not old_workers & set(daemon.workers())


class KeepAliveLoad(_Threads):
    """Clients that each keep one connection alive and send requests back to
    back with Python's http.client, never retrying: a request that fails
    counts as failed, and the next one opens a new connection. A response
    with `Connection: close` makes http.client open a new connection for the
    next request by itself (that is no retry: nothing was lost)."""

    def __init__(self, daemon: Daemon, path: str, clients: int):
        self.daemon, self.path = daemon, path
        self.requests = [0] * clients
        self.failures = [0] * clients
        self.connections = [1] * clients
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def _run(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=30)
        while not self._stop.is_set():
            try:
                if conn.sock is None and self.requests[i]:
                    self.connections[i] += 1
                conn.request("GET", self.path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body:
                    raise http.client.HTTPException(f"{response.status} {body!r}")
            except (OSError, http.client.HTTPException) as exc:
                self.failures[i] += 1
                self.errors.append(repr(exc))
                conn.close()
            self.requests[i] += 1
        conn.close()


def test_hup_every_second_fails_no_keep_alive_request(tmp_path, daemons):
    daemon = start(tmp_path, conf=CONF.replace("    attach main\n", "    attach main\n    accesslog access.log\n"))
    daemons.append(daemon)
    with KeepAliveLoad(daemon, "/version", clients=8) as load:
        for _ in range(10):
            time.sleep(1.0)
            daemon.signal(signal.SIGHUP)
        time.sleep(1.0)
    reloads = daemon.log().count("reloaded: generation")
    print(f"\nHUP every second under keep-alive load: {sum(load.requests)} requests, {sum(load.failures)} failed, "
          f"{reloads} reloads completed, {sum(load.connections)} connections; per client {load.requests}")
    assert sum(load.failures) == 0, load.errors[:5]
    assert min(load.requests) > 200
    assert reloads >= 3  # HUPs that come while a generation starts are one reload
    deadline = time.monotonic() + 10  # the clients are gone: every old generation is done
    while len(daemon.workers()) > 2:
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    assert daemon.stop() == 0
    logged = (tmp_path / "access.log").read_text().count('"GET /version HTTP/1.1" 200')
    assert logged == sum(load.requests)  # every generation's lines, once each
    assert "killed" not in daemon.log() and "cut off" not in daemon.log()


def test_term_during_a_reload_drain_stops_at_once(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    idle = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    idle.request("GET", "/pid")
    holder = int(idle.getresponse().read())  # its worker keeps the connection alive for 20 s
    daemon.signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while "reloaded: generation 2 serves" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    daemon.signal(signal.SIGHUP)  # a second generation while the first drains
    while "reloaded: generation 3 serves" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    time.sleep(0.5)
    assert holder in daemon.workers() and len(daemon.workers()) == 3  # still draining, on its idle connection
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.proc.wait(10) == 0
    took = time.monotonic() - started
    print(f"\nTERM during a drain: stopped in {took:.2f} s")
    assert took < 3.0
    idle.close()


def test_broken_configuration_on_hup_keeps_the_old_one(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    workers = daemon.workers()
    conf = tmp_path / "kore.conf"
    conf.write_text(conf.read_text().replace("handler version", "handler nonexistent"))
    daemon.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reload failed" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    assert "callback 'nonexistent' for '/version' not found" in daemon.log()
    assert daemon.get("/version") == (200, b"v1")
    assert daemon.workers() == workers


def test_term_lets_the_request_in_flight_finish(tmp_path, daemons):
    daemon = start(tmp_path)
    daemons.append(daemon)
    pidfile = tmp_path / "kore.pid"
    assert pidfile.read_text().strip() == str(daemon.proc.pid)
    answer = {}
    slow = threading.Thread(target=lambda: answer.update(r=daemon.get("/slow", timeout=10)))
    slow.start()
    time.sleep(0.5)
    daemon.signal(signal.SIGTERM)
    slow.join(10)
    assert answer["r"] == (200, b"slow done")
    assert daemon.proc.wait(15) == 0
    assert not pidfile.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", daemon.port), timeout=1).close()


def test_readiness_reaches_notify_socket(tmp_path, daemons):
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(20)
    try:
        port = free_port()
        with socket.socket() as probe:  # nothing may accept before READY=1 is sent
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        daemon = start(tmp_path, env={"NOTIFY_SOCKET": path}, port=port)
        daemons.append(daemon)
        assert listener.recv(4096).split(b"\n")[0] == b"READY=1"
        daemon.signal(signal.SIGHUP)
        assert listener.recv(4096).startswith(b"RELOADING=1")
        assert listener.recv(4096).startswith(b"READY=1")
        daemon.stop()
        assert listener.recv(4096) == b"STOPPING=1"
    finally:
        listener.close()


def test_worker_death_policy_terminate_stops_the_server(tmp_path, daemons):
    daemon = start(tmp_path, extra="worker_death_policy terminate")
    daemons.append(daemon)
    os.kill(daemon.workers()[0], signal.SIGKILL)
    assert daemon.proc.wait(20) != 0
    assert "worker_death_policy is terminate" in daemon.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation needs root")
def test_root_daemon_drops_worker_privileges(tmp_path, daemons):
    root = tmp_path / "chroot"
    root.mkdir()
    nobody = pwd.getpwnam("nobody")
    port = _free_privileged_port()
    extra = f"privsep worker {{\n    runas nobody\n    root {root}\n}}"
    daemon = start(tmp_path, extra=extra, port=port)
    daemons.append(daemon)
    for pid in daemon.workers():
        status = Path(f"/proc/{pid}/status").read_text()
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        assert set(uids) == {str(nobody.pw_uid)}
        assert os.readlink(f"/proc/{pid}/root") == str(root)
    parent = Path(f"/proc/{daemon.proc.pid}/status").read_text()
    assert "Uid:\t0\t0\t0\t0" in parent
    assert daemon.get("/pid")[0] == 200
    assert f"chroot={root} user=nobody" in daemon.log()


def _free_privileged_port() -> int:
    for port in range(980, 1024):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 1024")


def test_worker_that_cannot_start_stops_the_server_with_a_reason(tmp_path):
    port = write_site(tmp_path, CONF.replace("python_import app.py", "python_import app.py init"),
                      APP.replace("{version}", "v1") + "\ndef init(action):\n    raise RuntimeError('no database')\n",
                      workers=2, extra="")
    daemon = Daemon(tmp_path, port)
    assert daemon.proc.wait(30) != 0
    log = daemon.log()
    assert "the app failed to start in this worker" in log and "RuntimeError: no database" in log
    assert "failed to start" in log
    assert log.count("started (#") <= 2  # no restart loop


def test_daemonize_detaches_and_stops_by_pidfile(tmp_path):
    port = write_site(tmp_path, CONF, APP.replace("{version}", "v1"), workers=1, extra="")
    daemon = Daemon(tmp_path, port, args=("-d",))
    assert daemon.proc.wait(20) == 0  # the foreground process returns at once
    pidfile = tmp_path / "kore.pid"
    deadline = time.monotonic() + 20
    while not pidfile.exists() or daemon_get(port) != 200:
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.1)
    pid = int(pidfile.read_text())
    assert pid != daemon.proc.pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not pidfile.exists()


def daemon_get(port: int) -> int | None:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/pid")
        return conn.getresponse().status
    except OSError:
        return None

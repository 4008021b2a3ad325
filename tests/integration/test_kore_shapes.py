"""Apps in the shape of Kore's own Python examples (tests/apps/README.md)
run unchanged and answer what Kore's READMEs say, with the default worker
count; and the parts of the `kore` module they lean on, each through a
running daemon: tasks from import time, handlers in submodules, a socket
bound at import, kore_parent_configure's effects in the workers, tracer
from the parent, kore.config's privsep and media type options."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, free_port

APPS = Path(__file__).resolve().parents[1] / "apps"


def _copy(tmp_path: Path, name: str) -> Path:
    shutil.copytree(APPS / name, tmp_path / name)
    return tmp_path / name


def _start(directory: Path, command: tuple, env: dict, ready: str | None = "/") -> Daemon:
    port = int(env["APP_PORT"])
    daemon = Daemon(directory, port, env=env, command=command)
    if ready is not None:
        daemon.wait_ready(ready)
    return daemon


def _wait_for(daemon: Daemon, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in daemon.log():
        assert time.monotonic() < deadline and daemon.proc.poll() is None, daemon.log()
        time.sleep(0.05)


def test_async_shape_task_at_import_and_routes_in_submodules(tmp_path):
    _copy(tmp_path, "async_app")
    daemon = _start(tmp_path, ("async_app/app.py",), {"APP_PORT": str(free_port())}, ready="/socket-test")
    try:
        for _ in range(4):  # both workers: each runs its own helper task
            status, body = daemon.get("/queue")
            assert status == 200 and body.startswith(b"hello from worker ")
        assert daemon.get("/lock") == (200, b"held")
        status, body = daemon.get("/proc")
        assert status == 200 and json.loads(body) == {"status": 0, "out": "from a child\n"}
        assert daemon.get("/socket") == (200, b"response from /socket-test")
        status, body = daemon.get("/httpclient")
        assert status == 200 and body.startswith(b"200 200 response from /socket-test korepyd")
        assert "helper got hello" in daemon.log() and "Traceback" not in daemon.log()
    finally:
        daemon.stop()


def test_echo_shape_socket_bound_at_import_without_a_server(tmp_path):
    _copy(tmp_path, "echo_app")
    port = free_port()
    daemon = _start(tmp_path, ("echo_app/echo.py",), {"APP_PORT": str(port)}, ready=None)
    try:
        _wait_for(daemon, "serving with 2 worker(s)")
        seen = set()
        for n in range(12):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
                greeting = client.recv(64)
                assert greeting.startswith(b"worker ")
                seen.add(greeting)
                client.sendall(b"ping %d\n" % n)
                assert client.recv(64) == b"ping %d\n" % n
        log = daemon.log()
        assert "no server is configured" in log and "Address already in use" not in log
        assert "Traceback" not in log
        assert len(seen) >= 1
    finally:
        assert daemon.stop() == 0


@pytest.fixture
def pgsql_app(tmp_path, postgres):
    directory, port = _copy(tmp_path, "pgsql_app"), free_port()
    conf = directory / "kore.conf"
    conf.write_text(conf.read_text().replace("127.0.0.1 8888", f"127.0.0.1 {port}"))
    return directory, {"APP_PORT": str(port), "APP_DATABASE": postgres.conninfo}


def test_pgsql_shape_as_a_package_with_its_own_kore_conf(pgsql_app):
    directory, env = pgsql_app
    daemon = _start(directory.parent, ("pgsql_app",), env, ready="/hello")
    try:
        assert daemon.get("/hello") == (200, b"hello\n")
        status, body = daemon.get("/")
        assert status == 200 and json.loads(body)[0]["name"] == "coder"
        status, body = daemon.get("/slow")
        assert status == 200 and json.loads(body) == [[{"pg_sleep": ""}], "parent"]  # state made in the parent
    finally:
        daemon.stop()


def test_kore_parent_configure_reaches_every_worker(pgsql_app):
    """A kore.conf app: kore_parent_configure sets the database up, once
    the configuration is read, as Kore calls it; every worker has it."""
    directory, env = pgsql_app
    (directory.parent / "kore.conf").write_text(f"python_import {directory}\ninclude {directory}/kore.conf\n")
    daemon = _start(directory.parent, ("-n", "-r", "-c", "kore.conf"), env, ready="/hello")  # kodev run's -nr
    try:
        workers = set()
        for _ in range(8):
            status, body = daemon.get("/")
            assert status == 200, body
            workers.add(json.loads(body)[0]["worker"])
        assert workers <= {"1", "2"}
    finally:
        daemon.stop()


PARENT_HOOKS = '''
import kore

STATE = {}


def tracer(kind, value, tb):
    with open("traced.log", "a") as f:
        f.write(repr(value) + "\\n")


def kore_parent_configure(args):
    kore.tracer(tracer)
    STATE["from"] = "kore_parent_configure"
    try:
        kore.config.workers = 3
    except RuntimeError as exc:
        STATE["config"] = str(exc).split(" (")[0]


def state(req):
    req.response(200, repr(sorted(STATE.items())).encode())


def fail(req):
    raise KeyError("traced")
'''


def test_parent_hook_state_and_tracer_reach_the_workers(tmp_path):
    port = free_port()
    (tmp_path / "hooks.py").write_text(PARENT_HOOKS)
    (tmp_path / "kore.conf").write_text(f"""python_import hooks.py
server s {{
    bind 127.0.0.1 {port}
    tls no
}}
domain * {{
    attach s
    route /state state
    route /fail fail
}}
""")
    check = Daemon(tmp_path, port, command=("-t", "-c", "kore.conf"))
    assert check.proc.wait(20) == 0
    daemon = _start(tmp_path, ("-c", "kore.conf"), {"APP_PORT": str(port)}, ready="/state")
    try:
        assert daemon.get("/state") == (200, b"[('config', 'configured cannot be changed at runtime'), "
                                              b"('from', 'kore_parent_configure')]")
        assert daemon.get("/fail")[0] == 500
        assert (tmp_path / "traced.log").read_text() == "KeyError('traced')\n"
        assert "uncaught exception" not in daemon.log()
    finally:
        daemon.stop()


def test_a_failing_parent_hook_fails_the_check_and_the_start_alike(tmp_path):
    (tmp_path / "broken.py").write_text("def kore_parent_configure(args):\n    raise ValueError('no database')\n"
                                        "def index(req): pass\n")
    (tmp_path / "kore.conf").write_text("python_import broken.py\nserver s {\n bind 127.0.0.1 1\n tls no\n}\n"
                                        "domain * {\n attach s\n route / index\n}\n")
    for command in (("-t", "-c", "kore.conf"), ("-c", "kore.conf")):
        daemon = Daemon(tmp_path, 1, command=command)
        assert daemon.proc.wait(20) != 0
        assert "kore_parent_configure failed: ValueError: no database (" in daemon.log()
        assert "Traceback" not in daemon.log()
        daemon.log_path.unlink()


def test_a_module_name_that_clashes_says_so(tmp_path):
    (tmp_path / "site.py").write_text("def index(req): pass\n")
    (tmp_path / "kore.conf").write_text("python_import ./site.py\nserver s {\n bind 127.0.0.1 1\n tls no\n}\n"
                                        "domain * {\n attach s\n route / index\n}\n")
    daemon = Daemon(tmp_path, 1, command=("-t", "-c", "kore.conf"))
    assert daemon.proc.wait(20) != 0
    log = daemon.log()
    assert "the module name 'site' clashes with the already loaded module 'site'" in log
    assert "rename the file" in log and "not found" not in log


def test_kore_log_in_the_parent_before_the_server_runs(tmp_path):
    port = free_port()
    (tmp_path / "app.py").write_text(f"""
import kore
kore.log(kore.LOG_INFO, "info at import")
kore.log(kore.LOG_NOTICE, "notice at import")

class App:
    def configure(self, args):
        kore.log(kore.LOG_INFO, "info in configure")
        kore.server(ip="127.0.0.1", port="{port}", tls=False)
        kore.domain("*").route("/", self.index)

    def index(self, req):
        req.response(200, b"ok")

koreapp = App()
""")
    daemon = _start(tmp_path, ("app.py",), {"APP_PORT": str(port)})
    try:
        log = daemon.log()
        for line in ("[parent] info at import", "[parent] notice at import", "[parent] info in configure"):
            assert line in log
    finally:
        daemon.stop()


def test_kore_config_takes_the_privsep_and_media_type_options(tmp_path):
    port = free_port()
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "notes.korepyd").write_text("hello")
    (tmp_path / "app.py").write_text(f"""
import kore
kore.config.root = "{tmp_path}"
kore.config.runas = "www-data"
kore.config.keymgr_root = "/srv/keys"
kore.config.keymgr_runas = "nobody"
kore.config.acme_root = "/srv/acme"
kore.config.acme_runas = "nobody"
kore.config.http_media_type = "text/x-korepyd korepyd"
kore.config.pledge = "stdio inet"
kore.server(ip="127.0.0.1", port="{port}", tls=False)
kore.domain("*").filemaps({{"/static/": "static"}})
""")
    dump = subprocess.run([sys.executable, "-m", "korepyd", "-t", "--dump", "app.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=20)
    assert dump.returncode == 0, dump.stderr
    data = json.loads(dump.stdout)
    assert (data["privsep_worker"]["root"], data["privsep_worker"]["runas"]) == (str(tmp_path), "www-data")
    assert (data["privsep_keymgr"]["root"], data["privsep_keymgr"]["runas"]) == ("/srv/keys", "nobody")
    assert "pledge(2) exists on OpenBSD only" in dump.stderr
    daemon = _start(tmp_path, ("app.py",), {"APP_PORT": str(port)}, ready="/static/notes.korepyd")
    try:  # deployment dev (a Python app's default): the privsep options are not applied, the media type is
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/static/notes.korepyd")
        response = conn.getresponse()
        assert (response.status, response.getheader("content-type"), response.read()) == (
            200, "text/x-korepyd", b"hello")
        conn.close()
    finally:
        daemon.stop()


RELOADED = '''
import socket
import kore

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", {echo}))
listener.listen()
wrapped = kore.socket_wrap(listener)


async def accept():
    while True:
        client = await wrapped.accept()
        await client.send(b"VERSION")
        client.close()

kore.task_create(accept())
kore.server(ip="127.0.0.1", port="{port}", tls=False)
kore.domain("*")


@kore.route("/", methods=["get"])
def index(req):
    req.response(200, b"VERSION")
'''


def test_a_reload_runs_the_apps_new_code_on_the_sockets_it_bound(tmp_path):
    port, echo = free_port(), free_port()
    app = tmp_path / "app.py"
    app.write_text(RELOADED.format(port=port, echo=echo).replace("VERSION", "v1"))
    daemon = _start(tmp_path, ("app.py",), {"APP_PORT": str(port)})
    try:
        assert daemon.get("/") == (200, b"v1")
        app.write_text(RELOADED.format(port=port, echo=echo).replace("VERSION", "v2"))
        daemon.signal(signal.SIGHUP)
        _wait_for(daemon, "reloaded: generation 2 serves")
        assert daemon.get("/") == (200, b"v2")
        deadline = time.monotonic() + 10
        while True:  # the old generation's tasks stop accepting on the shared socket as it exits
            with socket.create_connection(("127.0.0.1", echo), timeout=5) as client:
                if client.recv(16) == b"v2":
                    break
            assert time.monotonic() < deadline
        assert "Address already in use" not in daemon.log() and "reload failed" not in daemon.log()
    finally:
        daemon.stop()

"""The servers under test and how one is started and stopped.

Every server runs one worker process, pinned with `taskset -c 0` (its
supervisor, if it has one, too), on 127.0.0.1 and a free port:

  korepyd    .venv/bin/korepyd -c kore.conf   (bench/korepyd_app, copied to a scratch directory)
  uvicorn    uvicorn[standard]: httptools, uvloop, websockets
  hypercorn  hypercorn --worker-class trio
  granian    granian --interface asgi --loop uvloop
  socketify  socketify.py's own App API (uWebSockets): bench/peers/socketify_app.py
  kore       Kore itself, the binary $KORE (korebin.py), serving bench/korepyd_app
             as korepyd does, through a Kore-specific copy of its kore.conf
  trio-h11   a minimal trio + h11 server      (bench/peers/trio_refs.py, korepyd's .venv;
  trio-raw   trio answering without parsing    the plain scenario only)
  korepyd-pure  korepyd with KOREPYD_NO_EXTENSIONS=1: its request path as pure Python,
             not compiled (korepyd/compiled.py); run only when named in --server

uvicorn, hypercorn and granian serve bench/peers/asgi_app.py. For the
https scenario each is given tlsfiles.py's certificate: korepyd and Kore
through a copy of kore.conf with `tls yes` and certfile/certkey (Kore's on
an RSA key, the only kind it loads), the others through their own options.
A stop is SIGTERM, up to 10 s for the server to exit, then SIGKILL for
whatever of it is left.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import korebin
import tlsfiles
from scenarios import SCENARIOS

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KOREPYD = ROOT / ".venv" / "bin" / "korepyd"
PEERS = BENCH / "peers"
PEER_APP = "asgi_app:app"
SERVER_CPU = "0"
NAMES = ("korepyd", "uvicorn", "hypercorn", "granian", "socketify", "kore", "trio-h11", "trio-raw", "korepyd-pure")
DEFAULT = NAMES[:-1]
PLAIN_ONLY = frozenset({"trio-h11", "trio-raw"})  # the reference loops: they answer "/" and nothing else
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Site:
    """What the servers serve from: korepyd's scratch copy of bench/korepyd_app
    (holding bench-static-dir/), the peers' bin/, and the database if any."""
    korepyd_dir: Path
    peer_bin: Path
    db: str | None = None

    @property
    def static_dir(self) -> Path:
        return self.korepyd_dir / "bench-static-dir"

    @property
    def tls_dir(self) -> Path:
        """Where tlsfiles.py makes the certificates, beside korepyd's directory."""
        return self.korepyd_dir.parent / "tls"


def unsupported(scenario: str, name: str) -> str | None:
    """Why `name` cannot serve the scenario named `scenario`, or None."""
    if name in PLAIN_ONLY and scenario != "plain":
        return "the reference loops serve the plain scenario only"
    if name == "kore" and SCENARIOS[scenario].database and not korebin.has_pgsql():
        return "this Kore was built without PGSQL=1: no kore.dbquery"
    return None


def serving(scenario: str, names: list[str]) -> list[str]:
    """Those of `names` that answer the scenario named `scenario`."""
    return [name for name in names if unsupported(scenario, name) is None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(name: str, port: int, site: Site, tls: bool = False) -> tuple[list[str], Path, dict[str, str]]:
    """argv, working directory and extra environment of one server, serving
    HTTPS if `tls`."""
    if name in ("korepyd", "korepyd-pure"):
        conf = korepyd_conf(site, port, tls)
        env = {"KOREPYD_BENCH_DB": site.db or "", "KOREPYD_NO_EXTENSIONS": "1" if name == "korepyd-pure" else ""}
        return [str(KOREPYD), "-c", conf.name], site.korepyd_dir, env
    if name == "kore":
        return [korebin.binary(), "-c", kore_conf(site, port, tls).name], site.korepyd_dir, {
            "KOREPYD_BENCH_DB": site.db or ""}
    if name in PLAIN_ONLY:
        return [str(ROOT / ".venv" / "bin" / "python"), str(PEERS / "trio_refs.py"),
                name.removeprefix("trio-"), str(port)], PEERS, {}
    env = {"BENCH_STATIC_DIR": str(site.static_dir), "BENCH_DB": site.db or "", "PYTHONPATH": str(PEERS)}
    bin_ = site.peer_bin
    cert = tlsfiles.certificate(site.tls_dir) if tls else None
    if name == "uvicorn":
        argv = [str(bin_ / "uvicorn"), PEER_APP, "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
                "--http", "httptools", "--ws", "websockets", "--no-access-log", "--log-level", "warning"]
        argv += ["--ssl-certfile", str(cert.cert), "--ssl-keyfile", str(cert.key)] if cert else []
    elif name == "hypercorn":
        argv = [str(bin_ / "hypercorn"), "--worker-class", "trio", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                "--log-level", "WARNING", PEER_APP]
        argv += ["--certfile", str(cert.cert), "--keyfile", str(cert.key)] if cert else []
    elif name == "granian":
        argv = [str(bin_ / "granian"), "--interface", "asgi", "--workers", "1", "--loop", "uvloop",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", PEER_APP]
        argv += ["--ssl-certificate", str(cert.cert), "--ssl-keyfile", str(cert.key)] if cert else []
    elif name == "socketify":
        argv = [str(bin_ / "python"), str(PEERS / "socketify_app.py"), str(port)]
        argv += [str(cert.cert), str(cert.key)] if cert else []
    else:
        raise ValueError(f"unknown server {name!r}")
    return argv, PEERS, env


def korepyd_conf(site: Site, port: int, tls: bool) -> Path:
    """korepyd's kore.conf on `port` (rewritten in place), or for `tls` a
    copy of it, kore-https.conf, with TLS on and tlsfiles.py's certificate."""
    conf = site.korepyd_dir / "kore.conf"
    conf.write_text(_sub(r"^(\s*bind\s+127\.0\.0\.1\s+)\d+", rf"\g<1>{port}", conf.read_text(), "bind"))
    if not tls:
        return conf
    variant = site.korepyd_dir / "kore-https.conf"
    variant.write_text(_with_tls(conf.read_text(), tlsfiles.certificate(site.tls_dir)))
    return variant


def kore_conf(site: Site, port: int, tls: bool) -> Path:
    """Kore's copy of korepyd's kore.conf: the same app, through
    bench/peers/kore_app.py (see there), with the DH parameters Kore wants
    at start, and for `tls` TLS on with the RSA certificate."""
    text = korepyd_conf(site, port, False).read_text()
    text = _sub(r"^(python_import\s+)app\.py\b", r"\g<1>kore_app.py", text, "python_import app.py")
    text = f"tls_dhparam\t{tlsfiles.dhparam(site.tls_dir)}\n" + text
    if tls:
        text = _with_tls(text, tlsfiles.certificate(site.tls_dir, "rsa"))
    (site.korepyd_dir / "kore_app.py").write_bytes((PEERS / "kore_app.py").read_bytes())
    conf = site.korepyd_dir / ("kore-kore-https.conf" if tls else "kore-kore.conf")
    conf.write_text(text)
    return conf


def _with_tls(text: str, cert: tlsfiles.Certificate) -> str:
    """kore.conf `text` with its server's `tls no` turned on and the
    certificate in its domain."""
    text = _sub(r"^([ \t]*tls[ \t]+)no[ \t]*$", r"\g<1>yes", text, "tls no")
    lines = f"\tcertfile\t{cert.cert}\n\tcertkey\t\t{cert.key}\n"
    return _sub(r"^(domain\s+\S+\s*\{[ \t]*\n)", lambda m: m.group(1) + lines, text, "domain")


def _sub(pattern: str, replacement, text: str, what: str) -> str:
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    if not count:
        raise RuntimeError(f"kore.conf has no {what} line to change")
    return new


class Running:
    """One server process, started by the constructor; use as a context
    manager so that it is stopped whatever happens."""

    def __init__(self, name: str, site: Site, log_path: Path, wrap: Sequence[str] = (),
                 stop_timeout: float = STOP_TIMEOUT, tls: bool = False):
        """`wrap`: a command the server runs under (valgrind); `tls`: serve
        HTTPS (and get() speaks it)."""
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.tls = tls
        argv, cwd, env = command(name, self.port, site, tls)
        self.command = ["taskset", "-c", SERVER_CPU, *wrap, *argv]
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command, cwd=cwd, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        if self.tls:  # the certificate is the run's own, self-signed: not verified
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def closes_after(self, path: str, timeout: float = 5.0) -> bool:
        """Whether the server, asked for `path` with `Connection: close`,
        answers and closes the connection (plain HTTP)."""
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nConnection: close\r\n\r\n"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
                sock.sendall(request.encode())
                answer = b""
                while chunk := sock.recv(65536):  # until the server closes; a timeout raises
                    answer += chunk
        except OSError:
            return False
        return answer.startswith(b"HTTP/1.1 200")

    def wait_ready(self, path: str = "/", timeout: float = START_TIMEOUT) -> None:
        """Until `path` answers 200 (RuntimeError if the server exits or
        takes longer than `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if self.get(path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 3) -> str:
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"

    def descendants(self) -> list[int]:
        return descendants(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        family = {pid: _started(pid) for pid in self.descendants()}
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid, started in family.items():  # any child the server left behind (the same process, not a new one)
            if started is not None and _started(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _started(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if fields else None  # starttime, in clock ticks since boot


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(entry)):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found

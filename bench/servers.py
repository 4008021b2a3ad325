"""The servers under test and how one is started and stopped.

Every server runs one worker process, pinned with `taskset -c 0` (its
supervisor, if it has one, too), on 127.0.0.1 and a free port:

  korepyd    .venv/bin/korepyd -c kore.conf   (bench/korepyd_app, copied to a scratch directory)
  uvicorn    uvicorn[standard]: httptools, uvloop, websockets
  hypercorn  hypercorn --worker-class trio
  granian    granian --interface asgi --loop uvloop
  trio-h11   a minimal trio + h11 server      (bench/peers/trio_refs.py, korepyd's .venv;
  trio-raw   trio answering without parsing    the plain scenario only)
  korepyd-pure  korepyd with KOREPYD_NO_EXTENSIONS=1: its request path as pure Python,
             not compiled (korepyd/compiled.py); run only when named in --server

The peers serve bench/peers/asgi_app.py. A stop is SIGTERM, up to 10 s
for the server to exit, then SIGKILL for whatever of it is left.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KOREPYD = ROOT / ".venv" / "bin" / "korepyd"
PEERS = BENCH / "peers"
PEER_APP = "asgi_app:app"
SERVER_CPU = "0"
NAMES = ("korepyd", "uvicorn", "hypercorn", "granian", "trio-h11", "trio-raw", "korepyd-pure")
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


def serving(scenario: str, names: list[str]) -> list[str]:
    """Those of `names` that answer `scenario`: the reference loops only "/"."""
    return [name for name in names if scenario == "plain" or name not in PLAIN_ONLY]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(name: str, port: int, site: Site) -> tuple[list[str], Path, dict[str, str]]:
    """argv, working directory and extra environment of one server."""
    if name in ("korepyd", "korepyd-pure"):
        conf = site.korepyd_dir / "kore.conf"
        conf.write_text(re.sub(r"(?m)^(\s*bind\s+127\.0\.0\.1\s+)\d+", rf"\g<1>{port}", conf.read_text()))
        env = {"KOREPYD_BENCH_DB": site.db or "", "KOREPYD_NO_EXTENSIONS": "1" if name == "korepyd-pure" else ""}
        return [str(KOREPYD), "-c", "kore.conf"], site.korepyd_dir, env
    if name in PLAIN_ONLY:
        return [str(ROOT / ".venv" / "bin" / "python"), str(PEERS / "trio_refs.py"),
                name.removeprefix("trio-"), str(port)], PEERS, {}
    env = {"BENCH_STATIC_DIR": str(site.static_dir), "BENCH_DB": site.db or "", "PYTHONPATH": str(PEERS)}
    bin_ = site.peer_bin
    if name == "uvicorn":
        argv = [str(bin_ / "uvicorn"), PEER_APP, "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
                "--http", "httptools", "--ws", "websockets", "--no-access-log", "--log-level", "warning"]
    elif name == "hypercorn":
        argv = [str(bin_ / "hypercorn"), "--worker-class", "trio", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                "--log-level", "WARNING", PEER_APP]
    elif name == "granian":
        argv = [str(bin_ / "granian"), "--interface", "asgi", "--workers", "1", "--loop", "uvloop",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", PEER_APP]
    else:
        raise ValueError(f"unknown server {name!r}")
    return argv, PEERS, env


class Running:
    """One server process, started by the constructor; use as a context
    manager so that it is stopped whatever happens."""

    def __init__(self, name: str, site: Site, log_path: Path, wrap: Sequence[str] = (),
                 stop_timeout: float = STOP_TIMEOUT):
        """`wrap`: a command the server runs under (valgrind)."""
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        argv, cwd, env = command(name, self.port, site)
        self.command = ["taskset", "-c", SERVER_CPU, *wrap, *argv]
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command, cwd=cwd, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

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

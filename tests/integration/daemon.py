"""Start the real korepyd on 127.0.0.1 for a test, and talk to it.

Each daemon runs in its own directory (a kore.conf and an app.py written
by the test), logs to daemon.log there, and is stopped at the end of the
test whatever happened.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, directory: Path, port: int, env: dict[str, str] | None = None, args: tuple = (),
                 command: tuple = ("-c", "kore.conf"), wrapper: tuple = ()):
        self.dir = directory
        self.port = port
        self.log_path = directory / "daemon.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*wrapper, sys.executable, "-m", "korepyd", *args, *command], cwd=directory,
                                     stdout=log, stderr=log, env={**os.environ, **(env or {})})
        log.close()

    def wait_ready(self, path: str = "/") -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"korepyd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.get(path, timeout=1)
            except OSError:
                time.sleep(0.05)
                continue
            if "serving with" in self.log():  # every worker is ready
                return
            time.sleep(0.05)
        raise RuntimeError(f"korepyd did not answer within {START_TIMEOUT} s:\n{self.log()}")

    def get(self, path: str, timeout: float = 5.0, method: str = "GET", body=None,
            headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def workers(self) -> list[int]:
        """Pids of the parent's children."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return sorted(pids)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def write_site(directory: Path, conf: str, app: str, **values) -> int:
    port = values.pop("port", None) or free_port()
    (directory / "kore.conf").write_text(conf.format(port=port, **values))
    (directory / "app.py").write_text(app)
    return port


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def start_example(directory: Path, name: str, *args: str, ready: str = "/") -> Daemon:
    """Copy examples/NAME (an app.py, or a package) into `directory` and run
    it as a user would: `korepyd app.py PORT [args]` or `korepyd NAME PORT [args]`."""
    source = EXAMPLES / name
    if (source / "__init__.py").exists():
        shutil.copytree(source, directory / name)
        target = name
    else:
        shutil.copy(source / "app.py", directory / "app.py")
        target = "app.py"
    port = free_port()
    daemon = Daemon(directory, port, command=(target, str(port), *args))
    daemon.wait_ready(ready)
    return daemon

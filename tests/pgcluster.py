"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary
directory, a server on a unix socket only (no TCP port to collide with),
fsync off, stopped and removed at the end. As root it runs as the
`postgres` user, since initdb refuses root. .ci/run installs PostgreSQL;
a machine without it fails these tests rather than skipping them."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return found[-1]


class Cluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="korepyd-pg-"))
        self.data = self.dir / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.dir.chmod(0o755)

    @property
    def conninfo(self) -> str:
        return f"host={self.dir} user=postgres dbname=postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> Cluster:
        if not self.data.exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        options = (f"-k {self.dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.dir / "server.log"), "-o", options,
                  "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

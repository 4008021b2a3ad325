"""tools/system-packages: make test's check of the Debian packages finds a
missing program and prints the one command that installs it (--check only
reports: it never runs apt-get), and on this machine finds nothing missing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "system-packages"
PROGRAMS = ("chromium", "systemd-analyze", "openssl", "curl", "pebble", "pebble-challtestsrv", "gcc", "setpriv",
            "runuser", "id")


def check(path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", str(SCRIPT), "--check", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": path, "PYTHON": sys.executable})


def test_a_missing_program_is_named_with_its_install_command(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in PROGRAMS:  # everything but mandoc
        (bin_dir / name).symlink_to(shutil.which(name))
    called = tmp_path / "apt-get-called"
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\ntouch {called}\n")
    (bin_dir / "apt-get").chmod(0o755)
    done = check(str(bin_dir), "test")
    assert done.returncode == 1, done.stderr
    sudo = "sudo " if os.geteuid() else ""
    assert "  mandoc: the man page lint" in done.stderr
    assert f"{sudo}apt-get install -y mandoc\n" in done.stderr, done.stderr
    assert not called.exists()


def test_nothing_is_missing_here():
    done = check(os.environ["PATH"], "test")
    assert (done.returncode, done.stderr) == (0, "")

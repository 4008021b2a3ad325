"""The systemd units: `systemd-analyze verify` is silent for both, and the
hardening they use (NoNewPrivileges) still lets the children chroot and
drop to the privsep user."""

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, write_site

ROOT = Path(__file__).resolve().parent.parent
UNITS = ("korepyd.service", "korepyd@.service")


def test_units_verify_cleanly(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is not installed"
    korepyd = Path(sys.executable).with_name("korepyd")
    for unit in UNITS:
        text = (ROOT / "systemd" / unit).read_text().replace("/usr/local/bin/korepyd", str(korepyd))
        (tmp_path / unit).write_text(text)
    (tmp_path / "korepyd@site.service").write_text((tmp_path / "korepyd@.service").read_text())
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "korepyd.service"),
                           str(tmp_path / "korepyd@site.service")], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
    for page in ("korepyd.8", "kore.conf.5"):  # named by Documentation=
        assert (ROOT / "man" / page).exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege separation needs root")
def test_no_new_privileges_still_lets_children_drop_privileges(tmp_path):
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is not installed"
    root = tmp_path / "jail"
    root.mkdir()
    conf = ("python_import app.py\nserver s {{\n bind 127.0.0.1 {port}\n tls no\n}}\nworkers 1\n"
            "privsep worker {{\n runas nobody\n root JAIL\n}}\n"
            "domain * {{\n attach s\n route / {{\n handler index\n }}\n}}\n").replace("JAIL", str(root))
    port = write_site(tmp_path, conf, "def index(req):\n    req.response(200, b'ok')\n")
    daemon = Daemon(tmp_path, port, wrapper=(setpriv, "--no-new-privs"))
    try:
        daemon.wait_ready("/")
        assert daemon.get("/") == (200, b"ok")
        worker = daemon.workers()[0]
        status = Path(f"/proc/{worker}/status").read_text()
        assert "NoNewPrivs:\t1" in status
        uid = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]
        assert int(uid) == pwd.getpwnam("nobody").pw_uid
        assert os.readlink(f"/proc/{worker}/root") == str(root)
    finally:
        daemon.stop()

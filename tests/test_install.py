"""`make install DESTDIR=... PREFIX=...` produces the expected tree, the
installed korepyd runs, and `make uninstall` removes it all again."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make(target, destdir, *extra):
    return subprocess.run(["make", "-s", target, f"DESTDIR={destdir}", "PREFIX=/opt/korepyd",
                           f"PYTHON={sys.executable}", "PIP_INSTALL_FLAGS=--no-deps --no-build-isolation", *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_install_tree_then_uninstall(tmp_path):
    done = make("install", tmp_path)
    assert done.returncode == 0, done.stderr
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    for expected in ("opt/korepyd/bin/korepyd", "opt/korepyd/share/man/man8/korepyd.8",
                     "opt/korepyd/share/man/man5/kore.conf.5", "lib/systemd/system/korepyd.service",
                     "lib/systemd/system/korepyd@.service", "etc/korepyd/kore.conf"):
        assert expected in files
    assert any(f.endswith("site-packages/korepyd/config/kore.lark") for f in files)  # package data too
    assert any(f.endswith("site-packages/korepyd/_compiled/manifest.txt") for f in files)  # and the compiled path
    unit = (tmp_path / "lib/systemd/system/korepyd.service").read_text()
    assert "ExecStart=/opt/korepyd/bin/korepyd -f -c /etc/korepyd/kore.conf" in unit
    site = next(tmp_path.rglob("site-packages"))
    check = subprocess.run([str(tmp_path / "opt/korepyd/bin/korepyd"), "-t", "-c", "etc/korepyd/kore.conf"],
                           env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True, cwd=tmp_path)
    version = subprocess.run([str(tmp_path / "opt/korepyd/bin/korepyd"), "-v"], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(site), "KOREPYD_NO_EXTENSIONS": ""})
    assert version.stdout == "korepyd 0.1.0 (request path compiled)\n", version.stderr
    # The installed program reads the installed configuration; only the site's files are missing here.
    assert check.returncode == 1
    assert "accesslog open(/var/log/korepyd/access.log): No such file or directory" in check.stderr
    assert "cannot create filemap for www: failed to stat '/var/lib/korepyd/www'" in check.stderr
    assert "2 errors in the configuration" in check.stderr
    done = make("uninstall", tmp_path)
    assert done.returncode == 0, done.stderr
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert left == [], left


def test_install_leaves_the_running_environment_alone():
    """pip with --root used to uninstall the environment's own korepyd first."""
    done = subprocess.run([sys.executable, "-c", "import korepyd, sys; print(korepyd.__file__)"], cwd="/",
                          capture_output=True, text=True)
    assert done.returncode == 0 and str(ROOT) in done.stdout

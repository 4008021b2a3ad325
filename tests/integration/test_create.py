"""`korepyd create NAME` makes an app directory that `korepyd NAME` serves
over HTTPS at once, with a certificate curl can verify for 127.0.0.1."""

import subprocess
import sys

from tests.integration.daemon import Daemon, free_port
from tests.integration.test_tls import wait_serving


def korepyd(*args, cwd):
    return subprocess.run([sys.executable, "-m", "korepyd", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=30)


def test_create_then_serve(tmp_path):
    made = korepyd("create", "mysite", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "serve it:  korepyd mysite" in made.stdout
    app = tmp_path / "mysite"
    assert sorted(p.name for p in app.iterdir()) == [".gitignore", "__init__.py", "app.py", "cert", "kore.conf"]
    assert (app / "cert" / "key.pem").stat().st_mode & 0o077 == 0
    assert korepyd("-t", "mysite", cwd=tmp_path).returncode == 0
    port = free_port()
    conf = app / "kore.conf"
    conf.write_text(conf.read_text().replace("8888", str(port)))
    daemon = Daemon(tmp_path, port, command=("mysite",))
    try:
        wait_serving(daemon)
        curl = subprocess.run(["curl", "-sS", "--cacert", str(app / "cert" / "server.pem"),
                               f"https://127.0.0.1:{port}/"], capture_output=True, timeout=10)
        assert (curl.returncode, curl.stdout) == (0, b"Hello from mysite.\n"), curl.stderr
    finally:
        assert daemon.stop() == 0


def test_create_refuses_existing_directories_and_bad_names(tmp_path):
    (tmp_path / "taken").mkdir()
    taken = korepyd("create", "taken", cwd=tmp_path)
    assert taken.returncode == 2 and "taken already exists" in taken.stderr
    bad = korepyd("create", "my-app", cwd=tmp_path)
    assert bad.returncode == 2 and "not a Python package name" in bad.stderr
    shadow = korepyd("create", "site", cwd=tmp_path)
    assert shadow.returncode == 2 and "a module Python already has" in shadow.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]

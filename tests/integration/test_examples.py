"""The example apps in examples/, started as a user would and queried."""

import json
import time

import pytest

from tests.integration.daemon import Daemon, free_port, start_example


@pytest.fixture(scope="module")
def async_app(tmp_path_factory):
    daemon = start_example(tmp_path_factory.mktemp("async"), "async")
    yield daemon
    daemon.stop()


def test_async_example(async_app):
    assert json.loads(async_app.get("/")[1])[0] == "/ticks"
    time.sleep(0.35)
    assert int(async_app.get("/ticks")[1].split()[0]) >= 2
    assert async_app.get("/queue?job=hello") == (200, b"HELLO\n")
    status, output = async_app.get("/uptime")
    assert status == 200 and b"load average" in output
    assert json.loads(async_app.get("/fanout")[1]) == {"completion_order": [10, 20, 30]}
    status, body = async_app.get("/fetch")
    assert status == 200 and body.startswith(b"the /ticks route said (200): ")


def test_package_directory_app(tmp_path):
    package = tmp_path / "mysite"
    package.mkdir()
    (package / "__init__.py").write_text("from .app import koreapp\n")
    (package / "app.py").write_text(
        "import os\nimport kore\n\n"
        "class App:\n"
        "    def configure(self, args):\n"
        "        kore.server(ip='127.0.0.1', port=args[1], tls=False)\n"
        "        kore.domain('*').route('/', self.index)\n"
        "    def index(self, req):\n"
        "        req.response(200, os.getcwd().encode())\n\n"
        "koreapp = App()\n")
    port = free_port()
    daemon = Daemon(tmp_path, port, command=("mysite", str(port)))
    try:
        daemon.wait_ready("/")
        assert daemon.get("/") == (200, str(package).encode())  # Kore runs a package from its directory
    finally:
        daemon.stop()

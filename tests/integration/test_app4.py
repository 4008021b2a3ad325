"""A Kore 4.x app configured in code (examples/app4), run as
`korepyd app.py PORT` on 127.0.0.1."""

import http.client

import pytest

from tests.integration.daemon import start_example


@pytest.fixture(scope="module")
def app4(tmp_path_factory):
    daemon = start_example(tmp_path_factory.mktemp("app4"), "app4")
    yield daemon
    daemon.stop()


def test_routes_configured_in_code(app4):
    assert app4.get("/") == (200, b"hello from koreapp")
    assert app4.get("/decorated") == (200, b"decorated")
    assert app4.get("/item/7?q=abc") == (200, b"item 7 q=abc")
    assert app4.get("/item/7?q=ABC") == (200, b"item 7 q=None")  # the validator refused it
    assert app4.get("/item/7", method="POST", body=b"", headers={"Content-Length": "0"})[0] == 405


def test_async_auth_and_redirect(app4):
    assert app4.get("/secret", headers={"X-Key": "open sesame"}) == (200, b"hello from koreapp")
    conn = http.client.HTTPConnection("127.0.0.1", app4.port, timeout=5)
    conn.request("GET", "/secret")
    response = conn.getresponse()
    assert (response.status, response.getheader("location")) == (302, "/")
    assert response.getheader("server") == "app4"
    conn.close()
    assert app4.get("/old")[0] == 301


def test_hooks_and_defaults(app4):
    log = app4.log()
    assert "app4: workerstart" in log
    assert "root=" in log  # Python apps default to deployment dev: no chroot

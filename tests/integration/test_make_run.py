"""The first five minutes: the bundled example configuration, started
exactly as `make run` starts it (`korepyd -c conf/kore.conf` from the top of
the tree, port 8888), serves every page its index links to."""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from trio_websocket import open_websocket_url

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8888"


@pytest.fixture(scope="module")
def site(tmp_path_factory, postgres):
    log = open(tmp_path_factory.mktemp("makerun") / "daemon.log", "wb")
    env = {**os.environ, "KOREPYD_EXAMPLE_DB": postgres.conninfo}  # the /db page is linked only with one
    proc = subprocess.Popen([sys.executable, "-m", "korepyd", "-c", "conf/kore.conf"], cwd=ROOT, stdout=log, stderr=log,
                            env=env)
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(BASE + "/", timeout=1)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "make run's server did not start"
            time.sleep(0.1)
    yield proc
    proc.terminate()
    assert proc.wait(20) == 0


def test_every_page_the_index_links_to(site):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    index = opener.open(BASE + "/", timeout=5).read().decode()
    links = re.findall(r'href="([^"]+)"', index)
    assert len(links) >= 9 and "/db" in links
    for link in links:  # /private without the cookie goes to /login, which sets it and comes back
        response = opener.open(BASE + link, timeout=10)
        assert response.status == 200, link
    assert b"private page" in opener.open(BASE + "/private", timeout=5).read()
    assert b"order [100, 200, 300]" in opener.open(BASE + "/slow", timeout=5).read()
    assert b"PostgreSQL" in opener.open(BASE + "/db", timeout=5).read()


async def test_the_chat_page_talks_to_its_websocket(site):
    async with open_websocket_url("ws://127.0.0.1:8888/ws") as ws:
        assert (await ws.get_message()).startswith("welcome")
        await ws.send_message("hi")
        assert await ws.get_message() == "hi"

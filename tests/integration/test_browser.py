"""A real browser: headless Chromium (Debian's chromium, installed by
.ci/run) opens the chat page, types a message, sends it, and sees it come
back through the websocket. Chromium is driven over its DevTools protocol
with trio-websocket; everything stays on 127.0.0.1."""

import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
import trio
from trio_websocket import open_websocket_url

from tests.integration.daemon import start_example

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chat(tmp_path):
    daemon = start_example(tmp_path, "chat", "2", ready="/chat/")
    yield daemon
    daemon.stop()


@pytest.fixture
def browser():
    assert CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium)"
    profile = tempfile.mkdtemp(prefix="korepyd-chromium-")
    proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking", "--disable-component-update",
                             "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline and proc.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        yield next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


class DevTools:
    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method, **params):
        request_id = next(self.ids)
        await self.ws.send_message(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            answer = json.loads(await self.ws.get_message())
            if answer.get("id") == request_id:
                return answer.get("result", {})

    async def evaluate(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression, timeout=15):
        with trio.fail_after(timeout):
            while not await self.evaluate(expression):
                await trio.sleep(0.1)


async def test_chat_page_sends_and_receives_in_a_real_browser(chat, browser):
    async with open_websocket_url(browser) as ws:
        page = DevTools(ws)
        await page.call("Page.navigate", url=f"http://127.0.0.1:{chat.port}/chat/")
        await page.wait_for("document.body && document.body.dataset.connected === 'yes'")
        await page.wait_for("document.getElementById('log').innerText.includes('welcome')")
        await page.evaluate("document.getElementById('text').value = 'hello from chromium';"
                            "document.getElementById('form').requestSubmit(); true")
        await page.wait_for("document.getElementById('log').innerText.includes('hello from chromium')")

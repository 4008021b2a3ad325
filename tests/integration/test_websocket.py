"""Websockets through the daemon, with trio-websocket as the client: the
chat example (examples/chat) with two workers, echo and a global broadcast
between clients on different workers, plus limits and errors."""

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from tests.integration.daemon import Daemon, start_example


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    daemon = start_example(tmp_path_factory.mktemp("ws"), "chat", "2", ready="/chat/")
    yield daemon
    daemon.stop()


async def client_on_worker(stack, url, avoid=None):
    """A websocket client (kept open on `stack`), reconnecting until it lands
    on a worker other than `avoid`; returns it and its worker id."""
    for _ in range(50):
        attempt = AsyncExitStack()
        ws = await attempt.enter_async_context(open_websocket_url(url))
        worker = (await ws.get_message()).rsplit(" ", 1)[1]
        if worker != avoid:
            await stack.enter_async_context(attempt)
            return ws, worker
        await attempt.aclose()
    raise AssertionError("could not land on another worker")


async def test_echo_and_global_broadcast_across_workers(chat):
    url = f"ws://127.0.0.1:{chat.port}/ws"
    async with AsyncExitStack() as stack:
        a, worker_a = await client_on_worker(stack, url)
        b, worker_b = await client_on_worker(stack, url, avoid=worker_a)
        await a.send_message("hello from a")
        assert await a.get_message() == "hello from a"       # echoed to the sender once
        assert await b.get_message() == "hello from a"       # through the parent to the other worker
        await b.send_message(b"\x00binary")
        assert await b.get_message() == b"\x00binary"
        assert await a.get_message() == b"\x00binary"
        with trio.move_on_after(0.3):                         # and nothing twice
            extra = await a.get_message()
            raise AssertionError(f"duplicate delivery: {extra!r}")


async def test_message_over_websocket_maxframe_closes_with_1009(chat):
    async with open_websocket_url(f"ws://127.0.0.1:{chat.port}/ws") as ws:
        await ws.get_message()
        await ws.send_message(b"x" * 20000)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1009


async def test_plain_get_to_the_websocket_route_is_refused(chat):
    status, _ = await trio.to_thread.run_sync(lambda: chat.get("/ws"))
    assert status == 400


def test_chat_page_is_served_by_the_filemap(chat):
    status, page = chat.get("/chat/")
    assert status == 200 and b"new WebSocket" in page


ECHO_CONF = """
python_import app.py
server s {{
    bind 127.0.0.1 {port}
    tls no
}}
workers 1
websocket_maxframe 16777216
domain * {{
    attach s
    route /echo {{
        handler echo
    }}
    route /names {{
        handler by_names
    }}
}}
"""

ECHO_APP = """
import kore

def echo(req):
    req.websocket_handshake(echo_connect, echo_message, echo_disconnect)

def echo_connect(conn):
    pass

async def echo_message(conn, op, data):
    conn.websocket_send(op, data)

def echo_disconnect(conn):
    pass

def by_names(req):
    req.websocket_handshake("named_connect", "named_message", "echo_disconnect")  # Kore 3.x: names

def named_connect(conn):
    conn.websocket_send(kore.WEBSOCKET_OP_TEXT, b"named")

def named_message(conn, op, data):
    if data == "boom":
        raise RuntimeError("app failure in onmessage")
    conn.websocket_send(op, data)
"""


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    from tests.integration.daemon import write_site

    directory = tmp_path_factory.mktemp("echo")
    port = write_site(directory, ECHO_CONF, ECHO_APP)
    daemon = Daemon(directory, port)
    daemon.wait_ready("/names")
    yield daemon
    daemon.stop()


async def test_names_async_callbacks_and_an_exception_closes_only_that_connection(echo):
    async with open_websocket_url(f"ws://127.0.0.1:{echo.port}/names") as ws, \
            open_websocket_url(f"ws://127.0.0.1:{echo.port}/echo") as other:
        assert await ws.get_message() == "named"
        await ws.send_message("boom")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1011
        await other.send_message("still here")
        assert await other.get_message() == "still here"
    assert "app failure in onmessage" in echo.log()


def autobahn(echo, tmp_path, *selection):
    import subprocess
    import sys

    kosoku = Path(sys.executable).with_name("kosoku")
    done = subprocess.run([str(kosoku), "-m", "fuzzingclient", "-p", "4", "-o", str(tmp_path), *selection,
                           f"ws://127.0.0.1:{echo.port}/echo"], capture_output=True, text=True, timeout=1500)
    return done.returncode, done.stdout + done.stderr


def test_autobahn_without_compression(echo, tmp_path):
    code, output = autobahn(echo, tmp_path, "-x", "12.*", "-x", "13.*")
    print(output[-600:])
    assert code == 0, output[-3000:]


def test_autobahn_compression_sample(echo, tmp_path):
    code, output = autobahn(echo, tmp_path, "-i", "12.1.*", "-i", "13.1.*")
    print(output[-600:])
    assert code == 0, output[-3000:]


@pytest.mark.slow
def test_autobahn_compression_full(echo, tmp_path):
    code, output = autobahn(echo, tmp_path, "-i", "12.*", "-i", "13.*")
    print(output[-600:])
    assert code == 0, output[-3000:]

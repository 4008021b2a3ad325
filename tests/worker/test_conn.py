"""The worker's connection task over an in-memory stream, with trio's
autojump clock: Kore's timeouts, keep-alive and graceful stop, without
sockets and without waiting for real seconds."""

import types

import h11
import pytest
import trio
import trio.testing

from korepyd import config
from korepyd.worker.conn import serve_connection
from korepyd.worker.runtime import Runtime

CONF = """
server s {
    bind 127.0.0.1 8888
    tls no
}
http_header_timeout 10
http_body_timeout 60
http_keepalive_time 20
domain * {
    attach s
    route / {
        handler hello
    }
    route /upload {
        handler hello
        methods post
    }
    route /slow {
        handler slow
    }
    route /ws {
        handler ws
    }
}
"""


def hello(req):
    req.response(200, b"hello")


async def slow(req):
    await trio.sleep(12)
    req.response(200, b"slow done")


def ws(req):
    req.websocket_handshake(None, None, None)


@pytest.fixture
def runtime():
    loaded = config.loads(CONF, "t.conf", env={}, check_files=False)
    app = types.ModuleType("app")
    app.hello, app.slow, app.ws = hello, slow, ws
    return Runtime.build(1, loaded.config, [app])


async def open_pair(nursery, rt):
    client, server = trio.testing.memory_stream_pair()
    done = trio.Event()

    async def serve():
        await serve_connection(rt, server, "s", False)
        done.set()

    nursery.start_soon(serve)
    return client, done


async def read_response(client, conn=None):
    conn = conn or h11.Connection(h11.CLIENT)
    events = []
    while not events or not isinstance(events[-1], (h11.EndOfMessage, h11.ConnectionClosed)):
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await client.receive_some(65536))
            continue
        events.append(event)
    return events


def request(path=b"/", method=b"GET", headers=((b"host", b"x"),), body=b""):
    head = b"%s %s HTTP/1.1\r\n" % (method, path) + b"".join(b"%s: %s\r\n" % h for h in headers)
    return head + b"\r\n" + body


async def test_silent_client_is_closed_after_the_header_timeout(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        start = trio.current_time()
        await done.wait()
        assert trio.current_time() - start == pytest.approx(10, abs=0.01)
        assert await client.receive_some(10) == b""  # no 408 for a client that sent nothing


async def test_partial_head_gets_408_at_the_header_timeout(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        await client.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        start = trio.current_time()
        events = await read_response(client)
        assert events[0].status_code == 408
        assert trio.current_time() - start == pytest.approx(10, abs=0.01)
        await done.wait()


async def test_slow_body_gets_408_at_the_body_timeout(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        await client.send_all(request(b"/upload", b"POST", ((b"host", b"x"), (b"content-length", b"10")), b"abc"))
        start = trio.current_time()
        events = await read_response(client)
        assert events[0].status_code == 408
        assert trio.current_time() - start == pytest.approx(60, abs=0.01)
        await done.wait()


async def test_keep_alive_then_idle_close_at_keepalive_time(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        conn = h11.Connection(h11.CLIENT)
        for _ in range(3):
            await client.send_all(conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
                                  + conn.send(h11.EndOfMessage()))
            events = await read_response(client, conn)
            assert events[0].status_code == 200
            assert (b"keep-alive", b"timeout=20") in events[0].headers
            conn.start_next_cycle()
        start = trio.current_time()
        await done.wait()
        assert trio.current_time() - start == pytest.approx(20, abs=0.01)


async def test_graceful_stop_closes_idle_keep_alive_but_answers_a_new_connection(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        idle, idle_done = await open_pair(nursery, runtime)
        conn = h11.Connection(h11.CLIENT)
        await idle.send_all(request())
        assert (await read_response(idle, conn))[0].status_code == 200
        fresh, fresh_done = await open_pair(nursery, runtime)
        await trio.sleep(1)
        runtime.begin_stop()
        await idle_done.wait()  # at once
        assert trio.current_time() < 2
        await fresh.send_all(request())
        events = await read_response(fresh)
        assert events[0].status_code == 200 and (b"connection", b"close") in events[0].headers
        await fresh_done.wait()


def get(conn, path="/"):
    """A GET through the client's h11 connection, so that it can be kept alive."""
    return conn.send(h11.Request(method="GET", target=path, headers=[("Host", "x")])) + conn.send(h11.EndOfMessage())


async def kept_alive(nursery, runtime):
    """A connection that had one request answered and is kept alive."""
    client, done = await open_pair(nursery, runtime)
    conn = h11.Connection(h11.CLIENT)
    await client.send_all(get(conn))
    assert (await read_response(client, conn))[0].status_code == 200
    conn.start_next_cycle()
    return client, conn, done


async def test_retirement_answers_an_idle_connection_once_more_with_close(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, conn, done = await kept_alive(nursery, runtime)
        silent, _, silent_done = await kept_alive(nursery, runtime)
        await trio.sleep(1)
        runtime.begin_stop(retire=True)
        await trio.sleep(15)
        assert not done.is_set() and not silent_done.is_set()  # a reload's old worker closes no idle connection
        await client.send_all(get(conn))
        events = await read_response(client, conn)
        assert events[0].status_code == 200 and (b"connection", b"close") in events[0].headers
        await done.wait()
        assert await client.receive_some(10) == b""
        await silent_done.wait()  # idle for the whole keep-alive time: closed as usual
        assert trio.current_time() == pytest.approx(20, abs=0.01)


async def test_a_request_late_in_a_retirement_gets_more_than_the_stop_grace(runtime, autojump_clock):
    with runtime.connections_scope:
        async with trio.open_nursery() as nursery:
            client, conn, done = await kept_alive(nursery, runtime)
            runtime.begin_stop(retire=True)
            await trio.sleep(15)
            await client.send_all(get(conn, "/slow"))  # 12 s: done 27 s after the retirement, within 20 + 10
            events = await read_response(client, conn)
            assert events[0].status_code == 200 and (b"connection", b"close") in events[0].headers
            await done.wait()
    assert not runtime.connections_scope.cancelled_caught
    assert trio.current_time() == pytest.approx(27, abs=0.01)


async def test_term_during_a_retirement_closes_idle_connections_at_once(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        _, _, done = await kept_alive(nursery, runtime)
        runtime.begin_stop(retire=True)
        await trio.sleep(5)
        assert not done.is_set()
        runtime.begin_stop()
        await done.wait()
        assert trio.current_time() == pytest.approx(5, abs=0.01)
        assert runtime.connections_scope.deadline == pytest.approx(15, abs=0.01)  # STOP_GRACE from the TERM


async def test_a_response_kept_alive_as_the_retirement_began_gets_its_next_request(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        conn = h11.Connection(h11.CLIENT)
        await client.send_all(get(conn, "/slow"))
        await trio.sleep(1)
        runtime.begin_stop(retire=True)  # while the response, kept alive, is being made
        events = await read_response(client, conn)
        assert events[0].status_code == 200 and (b"connection", b"close") not in events[0].headers
        conn.start_next_cycle()
        await trio.sleep(5)
        await client.send_all(get(conn))
        events = await read_response(client, conn)
        assert events[0].status_code == 200 and (b"connection", b"close") in events[0].headers
        await done.wait()


async def test_a_websocket_gets_the_stop_grace_on_a_retirement(runtime, autojump_clock):
    wsproto = pytest.importorskip("wsproto")
    with runtime.connections_scope:
        async with trio.open_nursery() as nursery:
            client, done = await open_pair(nursery, runtime)
            ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
            await client.send_all(ws.send(wsproto.events.Request(host="x", target="/ws")))
            ws.receive_data(await client.receive_some(65536))
            assert isinstance(next(ws.events()), wsproto.events.AcceptConnection)
            await trio.sleep(1)
            runtime.begin_stop(retire=True)
            await done.wait()
    assert trio.current_time() == pytest.approx(11, abs=0.01)
    assert not runtime.connections_scope.cancelled_caught  # its own deadline, before the worker's


async def test_pipelined_requests_in_one_write(runtime, autojump_clock):
    async with trio.open_nursery() as nursery:
        client, done = await open_pair(nursery, runtime)
        await client.send_all(request() * 3)
        received = b""
        while received.count(b"hello") < 3:
            received += await client.receive_some(65536)
        assert received.count(b"HTTP/1.1 200 OK\r\n") == 3
        await client.aclose()
        await done.wait()

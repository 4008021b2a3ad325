"""korepyd's one HTTP client against real h11 servers on loopback:
kept-alive connections, a connection the server dropped meanwhile, size
cap, timeouts, trust, plain HTTP and unix sockets."""

import ssl

import h11
import pytest
import trio

from korepyd.acme.client import ssl_context
from korepyd.client import Client, ClientError
from korepyd.tls.context import server_context
from tests.tlscerts import self_signed

CERT, KEY = self_signed("localhost")


class Server:
    """An h11 server on 127.0.0.1: `keep` responses per connection, then it
    hangs up without saying so; `body` is what it answers."""

    def __init__(self, *, keep: int = 100, body: bytes = b"{}", delay: float = 0.0, tls: bool = True):
        self.keep, self.body, self.delay, self.tls = keep, body, delay, tls
        self.connections = 0
        self.requests: list[tuple[str, str, dict]] = []
        self.context = server_context(CERT, KEY)

    async def handle(self, tcp):
        self.connections += 1
        stream = trio.SSLStream(tcp, self.context, server_side=True, https_compatible=True) if self.tls else tcp
        conn = h11.Connection(h11.SERVER)
        try:
            for _ in range(self.keep):
                request = None
                while True:
                    event = conn.next_event()
                    if event is h11.NEED_DATA:
                        conn.receive_data(await stream.receive_some(65536))
                    elif isinstance(event, h11.Request):
                        request = event
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    elif not isinstance(event, h11.Data):
                        return
                await trio.sleep(self.delay)
                self.requests.append((request.method.decode(), request.target.decode(),
                                      {k.decode(): v.decode() for k, v in request.headers}))
                await stream.send_all(conn.send(h11.Response(status_code=200, headers=[
                    ("Content-Length", str(len(self.body))), ("Replay-Nonce", "abc")])))
                await stream.send_all(conn.send(h11.Data(data=self.body)) + conn.send(h11.EndOfMessage()))
                conn.start_next_cycle()
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


async def serve(nursery, server: Server) -> str:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    nursery.start_soon(trio.serve_listeners, server.handle, listeners)
    return f"https://localhost:{listeners[0].socket.getsockname()[1]}"


def trusting(ca_pem: bytes = CERT, **kw) -> Client:
    return Client("t", ssl_context=ssl.create_default_context(cadata=ca_pem.decode()), **kw)


async def test_keep_alive_and_headers():
    server = Server()
    async with trio.open_nursery() as nursery:
        base = await serve(nursery, server)
        async with Client("korepyd-test/1", ssl_context=ssl_context(CERT)) as client:
            first = await client.request("POST", base + "/a?x=1", b'{"k": 1}', [("Content-Type", "application/json")])
            second = await client.request("HEAD", base + "/nonce")
        nursery.cancel_scope.cancel()
    assert first.status == 200 and first.body == b"{}" and first.header("Replay-Nonce") == "abc"
    assert second.body == b""
    assert server.connections == 1
    (method, target, headers), _ = server.requests
    assert (method, target) == ("POST", "/a?x=1")
    assert headers["user-agent"] == "korepyd-test/1" and headers["host"] == base.removeprefix("https://")
    assert headers["content-length"] == "8"


async def test_a_dropped_kept_alive_connection_is_replaced():
    server = Server(keep=1)
    async with trio.open_nursery() as nursery:
        base = await serve(nursery, server)
        async with trusting() as client:
            for _ in range(3):
                assert (await client.request("GET", base + "/")).status == 200
        nursery.cancel_scope.cancel()
    assert server.connections == 3


async def test_response_size_is_capped():
    server = Server(body=b"x" * 5000)
    async with trio.open_nursery() as nursery:
        base = await serve(nursery, server)
        async with trusting(max_body=1000, what_max_body="curl_recv_max") as client:
            with pytest.raises(ClientError, match=r"larger than 1000 bytes \(curl_recv_max\)"):
                await client.request("GET", base + "/big")
        nursery.cancel_scope.cancel()


async def test_slow_server_times_out():
    server = Server(delay=5)
    async with trio.open_nursery() as nursery:
        base = await serve(nursery, server)
        async with trusting(timeout=0.2) as client:
            with pytest.raises(ClientError, match=r"GET https://localhost:\d+/: no response in 0.2 s"):
                await client.request("GET", base + "/")
        nursery.cancel_scope.cancel()


async def test_untrusted_server_and_bad_urls():
    server = Server()
    other_ca, _ = self_signed("localhost")
    async with trio.open_nursery() as nursery:
        base = await serve(nursery, server)
        async with trusting(other_ca) as client:
            with pytest.raises(ClientError, match="TLS with localhost port .* failed: .*certificate verify failed"):
                await client.request("GET", base + "/")
            with pytest.raises(ClientError, match="ftp://localhost/: not an http:// or https:// URL"):
                await client.request("GET", "ftp://localhost/")
        nursery.cancel_scope.cancel()
    assert server.requests == []
    with pytest.raises(ValueError, match="CA certificates"):
        ssl_context(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


async def test_plain_http_and_unix_sockets(tmp_path):
    server = Server(tls=False, body=b"plain")
    path = str(tmp_path / "s.sock")
    async with trio.open_nursery() as nursery:
        base = (await serve(nursery, server)).replace("https://", "http://")
        unix = trio.socket.socket(trio.socket.AF_UNIX)
        await unix.bind(path)
        unix.listen()
        nursery.start_soon(trio.serve_listeners, server.handle, [trio.SocketListener(unix)])
        async with Client("t") as client:
            assert (await client.request("GET", base + "/")).body == b"plain"
            response = await client.request("GET", "http://example.test/u", unix=path)
            assert (response.status, response.body) == (200, b"plain")
            assert (await client.request("GET", "http://example.test/u", unix=path)).status == 200
            with pytest.raises(ClientError, match=r"GET http://x/: cannot connect to unix socket /nowhere"):
                await client.request("GET", "http://x/", unix="/nowhere")
        nursery.cancel_scope.cancel()
    assert server.connections == 2    # one per origin, kept alive
    assert [(m, t, h["host"]) for m, t, h in server.requests][1:] == [("GET", "/u", "example.test")] * 2

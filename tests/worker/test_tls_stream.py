"""A TLS listener's connections (worker/tls.py's TlsState.accept and
worker/stream.py's TlsStream) on real loopback TCP connections, with trio's
SSLStream as the client: a ClientHello that arrives in pieces is waited for
and still reaches OpenSSL whole (it was only peeked at), data larger than
the socket buffers crosses both ways, and the close sends close_notify."""

import socket
import ssl

import trio

from korepyd.worker.stream import TlsStream
from tests.tls.test_choose import state

MiB = bytes(range(256)) * 4096


class Dribble(trio.abc.Stream):
    """A client transport whose first write (the ClientHello) leaves in two
    TCP segments, 50 ms apart."""

    def __init__(self, stream: trio.SocketStream):
        self.stream, self.first = stream, True

    async def send_all(self, data) -> None:
        if self.first:
            self.first = False
            await self.stream.send_all(data[:7])   # the record header and two bytes of the hello
            await trio.sleep(0.05)
            data = data[7:]
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes=None) -> bytes:
        return await self.stream.receive_some(max_bytes)

    async def aclose(self) -> None:
        await self.stream.aclose()


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    for sock in (client, server):  # small buffers: a large write has to wait for room
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return server, client


async def receive_exactly(stream, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        await trio.sleep(0)  # let the writer fill the buffer again
        got += await stream.receive_some(65536)
    return bytes(got)


async def test_hello_in_pieces_then_data_both_ways_then_close_notify():
    tls_state = state()
    server_sock, client_sock = tcp_pair()
    context = ssl._create_unverified_context()
    context.set_alpn_protocols(["http/1.1"])
    client = trio.SSLStream(Dribble(trio.SocketStream(trio.socket.from_stdlib_socket(client_sock))),
                            context, server_hostname="www.b.test")
    accepted = []

    async def serve():
        accepted.append(await tls_state.accept(server_sock, "tls", timeout=5))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        await client.do_handshake()
    stream, sni = accepted[0]
    assert isinstance(stream, TlsStream) and sni == "www.b.test"
    assert stream.socket.context is tls_state.contexts["*.b.test"]
    assert client.selected_alpn_protocol() == "http/1.1"

    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.send_all, MiB)
        assert await receive_exactly(stream, len(MiB)) == MiB
    async with trio.open_nursery() as nursery:
        nursery.start_soon(stream.send_all, MiB)
        assert await receive_exactly(client, len(MiB)) == MiB

    await stream.aclose()
    assert await client.receive_some() == b""   # close_notify: trio raises on a bare EOF
    await client.aclose()


async def test_a_client_that_never_finishes_its_hello_is_closed_at_the_timeout():
    tls_state = state()
    server_sock, client_sock = tcp_pair()
    client_sock.sendall(b"\x16\x03\x01\x02\x00\x01")  # a record of 512 bytes begun, then nothing
    with trio.fail_after(3):
        assert await tls_state.accept(server_sock, "tls", timeout=0.3) is None
    assert server_sock.fileno() == -1
    try:
        assert client_sock.recv(10) == b""
    except ConnectionResetError:
        pass  # closed with the peeked bytes unread: a reset, as nginx's close of a stalled handshake
    client_sock.close()

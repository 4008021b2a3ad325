"""PlainStream (korepyd/worker/stream.py) on a real socket pair: what the
kernel does not take at once is sent when the socket can take more, in
order and whole."""

import socket

import trio

from korepyd.worker.stream import PlainStream


def small_pair() -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return ours, theirs


async def read_all(sock: socket.socket, size: int) -> bytes:
    peer = trio.socket.from_stdlib_socket(sock)
    got = bytearray()
    while len(got) < size:
        await trio.sleep(0.001)  # a slow reader: the sender has to wait for room
        got += await peer.recv(8192)
    return bytes(got)


async def test_send_all_sends_what_the_kernel_did_not_take_at_once():
    ours, theirs = small_pair()
    stream = PlainStream(ours)
    payload = bytes(range(256)) * 4096   # 1 MiB, far beyond the buffers
    async with trio.open_nursery() as nursery:
        nursery.start_soon(stream.send_all, payload)
        received = await read_all(theirs, len(payload))
    assert received == payload
    await stream.aclose()
    theirs.close()


async def test_send_more_then_send_all_keep_their_order():
    ours, theirs = small_pair()
    stream = PlainStream(ours)
    head, body = b"H" * 100_000, b"B" * 300_000

    async def send():
        await stream.send_more(head)
        await stream.send_all(memoryview(body))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send)
        received = await read_all(theirs, len(head) + len(body))
    assert received == head + body
    await stream.aclose()
    theirs.close()

"""The two reference loops of the issue's table, for the plain scenario:
what trio itself costs, written the way its tutorial writes servers
(trio.serve_tcp, SocketStream).

    python trio_refs.py h11 PORT    a minimal trio + h11 server: every
                                    request answered "Hello, World!"
    python trio_refs.py raw PORT    no parsing at all: every read answered
                                    with the same response bytes

Neither is a web server (no routing, no limits, no timeouts, the raw one
answers pipelined requests wrongly); they bound what trio allows.
"""

from __future__ import annotations

import functools
import sys

import h11
import trio

BODY = b"Hello, World!"
HEADERS = [("content-type", "text/plain"), ("content-length", str(len(BODY))), ("server", "trio-h11")]
RAW = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\nserver: trio-raw\r\n\r\n" + BODY)


async def h11_connection(stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Request):
                await stream.send_all(conn.send(h11.Response(status_code=200, headers=HEADERS)) + conn.send(
                    h11.Data(data=BODY)) + conn.send(h11.EndOfMessage()))
            elif isinstance(event, h11.EndOfMessage):
                if conn.our_state is not h11.DONE:
                    return
                conn.start_next_cycle()
            else:  # ConnectionClosed, or a state h11 will not go on from
                return
    except (h11.ProtocolError, trio.BrokenResourceError):
        return


async def raw_connection(stream: trio.SocketStream) -> None:
    try:
        while await stream.receive_some(65536):
            await stream.send_all(RAW)
    except trio.BrokenResourceError:
        return


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    handler = {"h11": h11_connection, "raw": raw_connection}[kind]
    trio.run(functools.partial(trio.serve_tcp, handler, port, host="127.0.0.1"))


if __name__ == "__main__":
    main()

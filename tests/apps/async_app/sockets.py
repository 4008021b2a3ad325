# The app connects to itself through kore.socket_wrap.
import os
import socket

import kore


@kore.route("/socket", methods=["get"])
async def connect(req):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    conn = kore.socket_wrap(sock)
    await conn.connect("127.0.0.1", int(os.environ.get("APP_PORT", "8888")))
    await conn.send(b"GET /socket-test HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = b""
    while (chunk := await conn.recv(8192)) is not None:
        data += chunk
    conn.close()
    req.response(200, data.split(b"\r\n\r\n", 1)[1])


@kore.route("/socket-test", methods=["get"])
async def target(req):
    await kore.suspend(50)
    req.response(200, b"response from /socket-test")

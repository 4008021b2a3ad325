# An echo server on a socket of its own: no kore.server at all. The socket
# is bound at import time; a task in each worker accepts on it.
import os
import socket

import kore


class EchoServer:
    def __init__(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(os.environ.get("APP_PORT", "6969"))))
        sock.listen()
        self.conn = kore.socket_wrap(sock)

    async def run(self):
        while True:
            client = await self.conn.accept()
            kore.task_create(self.handle_client(client))

    async def handle_client(self, client):
        await client.send(b"worker %d\n" % kore.worker())
        while True:
            try:
                data = await client.recv(1024, 1000)
                if data is None:
                    break
                await client.send(data)
            except TimeoutError:
                pass
        client.close()


server = EchoServer()
kore.task_create(server.run())

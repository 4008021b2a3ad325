"""A websocket chat: every message goes to every connected browser, on
every worker.

    korepyd examples/chat [PORT] [WORKERS]
    open http://127.0.0.1:8891/chat/

The page comes from a filemap; /ws is the websocket.
"""

import kore


class Chat:
    def configure(self, args):
        port = args[1] if len(args) > 1 else "8891"
        kore.config.workers = int(args[2]) if len(args) > 2 else 2
        kore.server("default", ip="127.0.0.1", port=port, tls=False)
        domain = kore.domain("*")
        domain.filemaps({"/chat/": "static"})
        domain.route("/ws", self.ws, methods=["get"])

    def ws(self, req):
        req.websocket_handshake(self.onconnect, self.onmessage, self.ondisconnect)

    def onconnect(self, conn):
        conn.websocket_send(kore.WEBSOCKET_OP_TEXT, f"welcome, you are on worker {kore.worker()}".encode())

    def onmessage(self, conn, op, data):
        # To everyone else (all workers), then back to the sender.
        kore.websocket_broadcast(conn, op, data, kore.WEBSOCKET_BROADCAST_GLOBAL)
        conn.websocket_send(op, data)

    def ondisconnect(self, conn):
        kore.log(kore.LOG_INFO, "a chat client left")


koreapp = Chat()

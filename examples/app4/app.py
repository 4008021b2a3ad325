"""A Kore 4.x style app: it configures itself in code.

    korepyd examples/app4/app.py [PORT]

The same file runs under Kore 4.x (`kore app.py`).
"""

import kore


class App:
    def configure(self, args):
        port = args[1] if len(args) > 1 else "8889"
        kore.config.workers = 1
        kore.config.http_server_version = "app4"
        kore.server("default", ip="127.0.0.1", port=port, tls=False)
        domain = kore.domain("*", attach="default")
        domain.route("/", self.index, methods=["get"])
        domain.route("^/item/([0-9]+)$", self.item, methods=["get"], get={"q": "^[a-z]+$"})
        domain.route("/secret", self.index, methods=["get"],
                     auth={"type": "header", "value": "x-key", "verify": self.verify, "redirect": "/"})
        domain.redirect("^/old$", 301, "/")

    def index(self, req):
        req.response(200, b"hello from koreapp")

    async def item(self, req, number):
        await kore.suspend(10)
        req.populate_get()
        req.response(200, f"item {number} q={req.argument('q')}".encode())

    async def verify(self, req, value):
        return value == "open sesame"

    def workerstart(self):
        kore.log(kore.LOG_INFO, "app4: workerstart")


koreapp = App()


@kore.route("/decorated", methods=["get"])
def decorated(req):
    req.response(200, b"decorated")

# kore.httpclient against the app itself.
import os

import kore


@kore.route("/httpclient", methods=["get"])
async def fetch(req):
    client = kore.httpclient(f"http://127.0.0.1:{os.environ.get('APP_PORT', '8888')}/socket-test")
    status, body = await client.get()
    status2, headers, _ = await client.get(return_headers=True, headers={"x-my-header": "async-http"})
    req.response(200, b"%d %d %s %s" % (status, status2, body, headers["server"].encode()))

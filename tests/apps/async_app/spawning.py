# A child process read to its end.
import json

import kore


@kore.route("/proc", methods=["get"])
async def run(req):
    proc = kore.proc("/bin/echo from a child")
    out = b""
    while True:
        chunk = await proc.recv(1024, 1000)
        if chunk is None:
            break
        out += chunk
    req.response(200, json.dumps({"status": await proc.reap(), "out": out.decode()}).encode())

# One lock shared by the requests of a worker.
import kore

lock = kore.lock()


@kore.route("/lock", methods=["get"])
async def hold(req):
    async with lock:
        await kore.suspend(100)
        req.response(200, b"held")

# A task started at import time answers requests through a queue.
import kore

jobs = kore.queue()


async def helper():
    while True:
        job = await jobs.pop()
        kore.log(kore.LOG_INFO, f"helper got {job['msg']}")
        job["reply"].push(f"{job['msg']} from worker {kore.worker()}")


@kore.route("/queue", methods=["get"])
async def ask(req):
    reply = kore.queue()
    jobs.push({"msg": "hello", "reply": reply})
    req.response(200, (await reply.pop()).encode())

"""A Kore 4.x async app: timers, queues, locks, processes, gather and the
HTTP client, all on coroutines.

    korepyd examples/async/app.py [PORT]
    curl http://127.0.0.1:8890/

It runs unchanged under Kore 4.x (`kore app.py`), except the process
paths, which Kore wants absolute (korepyd finds them on PATH).
"""

import json

import kore


class Async:
    def __init__(self):
        self.ticks = 0
        self.jobs = None
        self.lock = None
        self.port = "8890"

    def configure(self, args):
        if len(args) > 1:
            self.port = args[1]
        kore.config.workers = 1
        kore.server("default", ip="127.0.0.1", port=self.port, tls=False)
        domain = kore.domain("*", attach="default")
        for path, handler in (("/", self.index), ("/ticks", self.show_ticks), ("/uptime", self.uptime),
                              ("/fanout", self.fanout), ("/fetch", self.fetch)):
            domain.route(path, handler, methods=["get"])
        # A parameter reaches the handler only through a validator (Kore's rule).
        domain.route("/queue", self.queue_job, methods=["get"], get={"job": "^[a-z]{1,20}$"})

    def workerstart(self):
        # Timers, queues and locks belong to a worker: make them here.
        self.jobs = kore.queue()
        self.lock = kore.lock()
        kore.timer(self.tick, 100, 0)
        kore.task_create(self.consumer())

    def tick(self):
        self.ticks += 1

    async def consumer(self):
        while True:
            job, done = await self.jobs.pop()
            async with self.lock:
                done.push(job.upper())

    def index(self, req):
        req.response_header("content-type", "application/json")
        req.response(200, json.dumps(["/ticks", "/queue?job=x", "/uptime", "/fanout", "/fetch"]).encode())

    def show_ticks(self, req):
        req.response(200, f"{self.ticks} ticks of 100 ms\n".encode())

    async def queue_job(self, req):
        req.populate_get()
        done = kore.queue()
        self.jobs.push((req.argument("job") or "nothing", done))
        req.response(200, (await done.pop()).encode() + b"\n")

    async def uptime(self, req):
        proc = kore.proc("uptime", 2000)
        output = b""
        while (data := await proc.recv(1024)) is not None:
            output += data
        status = await proc.reap()
        req.response(200 if status == 0 else 500, output)

    async def fanout(self, req):
        async def work(ms):
            await kore.suspend(ms)
            return ms

        results = await kore.gather(work(30), work(10), work(20))
        req.response(200, json.dumps({"completion_order": results}).encode())

    async def fetch(self, req):
        client = kore.httpclient(f"http://127.0.0.1:{self.port}/ticks")
        status, body = await client.get()
        req.response(200, f"the /ticks route said ({status}): {body.decode()}".encode())


koreapp = Async()

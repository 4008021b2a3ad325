"""The kore coroutine runtime and process functions through the daemon:
tasks, timers, task_kill, sendobj/onmsg across workers, tracer,
prerequest, shutdown and fatalx, in a Kore 4.x app."""

import json
import time

import pytest

from tests.integration.daemon import Daemon, free_port

APP = '''
import inspect
import json
import os
import kore

RECEIVED = []
TRACED = []
TICKS = [0]
KILLED = []


class App:
    def configure(self, args):
        kore.config.workers = int(args[2])
        kore.server(ip="127.0.0.1", port=args[1], tls=False)
        d = kore.domain("*")
        for path, fn in (("/gather", self.gather), ("/ticks", self.ticks), ("/task", self.task),
                         ("/kill", self.kill), ("/killed", self.killed), ("/send", self.send),
                         ("/received", self.received), ("/fail", self.fail), ("/traced", self.traced),
                         ("/tagged", self.tagged), ("/stop", self.stop), ("/fatal", self.fatal),
                         ("/proc", self.proc), ("/proc-timeout", self.proc_timeout),
                         ("/proc-closed", self.proc_closed), ("/sockets", self.sockets),
                         ("/client", self.client), ("/conn", self.conn), ("/named", self.named),
                         ("/die", self.die), ("/signals", self.signals)):
            d.route(path, fn, methods=["get"])

    def workerstart(self):
        kore.timer(self.tick, 20, 0)
        kore.tracer(self.trace)

    def tick(self):
        TICKS[0] += 1

    def trace(self, kind, value, tb):
        TRACED.append(repr(value))

    def onmsg(self, obj):
        RECEIVED.append(obj)

    async def gather(self, req):
        async def after(ms, value):
            await kore.suspend(ms)
            if value == "error":
                raise KeyError("k3")
            return value
        results = await kore.gather(after(60, 1), after(20, 2), after(40, "error"))
        req.response(200, json.dumps([repr(r) for r in results]).encode())

    def ticks(self, req):
        req.response(200, str(TICKS[0]).encode())

    async def task(self, req):
        q = kore.queue()
        async def producer():
            await kore.suspend(10)
            q.push(kore.task_id())
        tid = kore.task_create(producer())
        got = await q.pop()
        req.response(200, json.dumps({"created": tid, "ran_as": got, "mine": kore.task_id()}).encode())

    async def kill(self, req):
        async def forever():
            try:
                await kore.suspend(60000)
            finally:
                KILLED.append(True)
        tid = kore.task_create(forever())
        await kore.suspend(10)
        req.response(200, str(kore.task_kill(tid)).encode())

    def killed(self, req):
        req.response(200, str(len(KILLED)).encode())

    def send(self, req):
        kore.sendobj({"from": kore.worker()})
        req.response(200, str(kore.worker()).encode())

    def received(self, req):
        req.response(200, json.dumps({"worker": kore.worker(), "got": RECEIVED}).encode())

    def fail(self, req):
        raise ValueError("traced failure")

    def traced(self, req):
        req.response(200, json.dumps(TRACED).encode())

    def tagged(self, req):
        req.response(200, req.tag.encode())

    def stop(self, req):
        kore.shutdown()
        req.response(200, b"stopping")

    def fatal(self, req):
        kore.fatalx("the app gave up")
        req.response(200, b"fatal")


    async def proc(self, req):
        p = kore.proc("/bin/sh -c 'cat; echo done; exit 3'", env=["A=1"])
        await p.send(b"hello ")
        p.close_stdin()
        out = b""
        while (data := await p.recv(1024)) is not None:
            out += data
        req.response(200, json.dumps({"out": out.decode(), "status": await p.reap()}).encode())

    async def proc_timeout(self, req):
        p = kore.proc("/bin/sleep 5", 100)
        try:
            await p.recv(10)
            outcome = "no timeout"
        except TimeoutError as exc:
            outcome = str(exc)
        p.kill()
        req.response(200, json.dumps({"outcome": outcome, "status": await p.reap()}).encode())

    async def proc_closed(self, req):
        p = kore.proc("/bin/sh -c 'exec 0<&-; echo closed; exec sleep 5'")
        seen = [(await p.recv(64)).decode()]  # its stdin is closed now: nobody reads it
        for op in (lambda: p.send(b"x"), p.kill, p.reap, lambda: p.recv(64), lambda: p.send(b"x")):
            try:
                result = op()
                seen.append(repr(await result if inspect.isawaitable(result) else result))
            except Exception as exc:
                seen.append(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
        req.response(200, json.dumps(seen).encode())

    async def sockets(self, req):
        import socket
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        server = kore.socket_wrap(listener)
        client = kore.socket_wrap(socket.socket())
        await client.connect("127.0.0.1", listener.getsockname()[1])
        peer = await server.accept()
        await client.send(b"ping")
        got = await peer.recv(10)
        try:
            await peer.recv(10, 50)
            timeout = "no timeout"
        except TimeoutError as exc:
            timeout = str(exc)
        client.close()
        eof = await peer.recv(10)
        for s in (peer, server):
            s.close()
        req.response(200, json.dumps({"got": got.decode(), "timeout": timeout, "eof": eof}).encode())

    async def client(self, req):
        port = req.host.rsplit(":", 1)[1]
        c = kore.httpclient(f"http://127.0.0.1:{port}/tagged")
        status, body = await c.get()
        status2, headers, body2 = await c.get(headers={"X-A": "b"}, return_headers=True)
        try:
            await c.post(headers={})
            missing = "no error"
        except RuntimeError as exc:
            missing = str(exc)
        try:
            await kore.httpclient("http://127.0.0.1:1/").get()
            refused = "no error"
        except RuntimeError as exc:
            refused = str(exc).split(":")[0]
        req.response(200, json.dumps({"first": [status, body.decode()], "second": [status2, body2.decode()],
                                      "server": headers["server"], "missing": missing,
                                      "refused": refused}).encode())

    def conn(self, req):
        c = req.connection
        req.response(200, json.dumps({"addr": c.addr, "fd": c.fd > 0, "x509": c.x509,
                                      "same": c is req.connection}).encode())


    async def named(self, req):
        kore.corotrace(True)
        async def job():
            kore.coroname("the-job")
            await kore.suspend(1)
        kore.task_create(job())
        await kore.suspend(50)
        kore.corotrace(False)
        req.response(200, b"named")

    def die(self, req):
        kore.fatal("on purpose")

    def signal(self, signo):
        SIGNALS.append(signo)

    def signals(self, req):
        req.response(200, json.dumps(SIGNALS).encode())


SIGNALS = []
koreapp = App()


@kore.prerequest
def tag(req):
    req.tag = "tagged by prerequest"
'''


def start(tmp_path, workers=1) -> Daemon:
    (tmp_path / "app.py").write_text(APP)
    port = free_port()
    daemon = Daemon(tmp_path, port, command=("app.py", str(port), str(workers)))
    daemon.wait_ready("/ticks")
    return daemon


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    daemon = start(tmp_path_factory.mktemp("runtime"))
    yield daemon
    daemon.stop()


def test_gather_in_completion_order(runtime):
    assert json.loads(runtime.get("/gather")[1]) == ["2", "KeyError('k3')", "1"]


def test_timer_from_workerstart_ticks(runtime):
    first = int(runtime.get("/ticks")[1])
    time.sleep(0.3)
    assert int(runtime.get("/ticks")[1]) >= first + 5


def test_task_create_queue_and_task_ids(runtime):
    result = json.loads(runtime.get("/task")[1])
    assert result["created"] == result["ran_as"] != result["mine"]


def test_task_kill_runs_finally(runtime):
    assert runtime.get("/kill") == (200, b"True")
    assert runtime.get("/killed") == (200, b"1")


def test_tracer_receives_handler_exceptions(runtime):
    assert runtime.get("/fail")[0] == 500
    assert json.loads(runtime.get("/traced")[1]) == ["ValueError('traced failure')"]


def test_prerequest_hook_runs_before_the_handler(runtime):
    assert runtime.get("/tagged") == (200, b"tagged by prerequest")


def test_sendobj_reaches_every_worker_once(tmp_path):
    daemon = start(tmp_path, workers=2)
    try:
        sender = int(daemon.get("/send")[1])
        seen = {}
        deadline = time.monotonic() + 10
        while len(seen) < 2 or not all(seen.values()):
            assert time.monotonic() < deadline, seen
            answer = json.loads(daemon.get("/received")[1])
            seen[answer["worker"]] = answer["got"]
        time.sleep(0.3)  # a duplicate would have arrived by now
        for _ in range(20):
            answer = json.loads(daemon.get("/received")[1])
            seen[answer["worker"]] = answer["got"]
        assert seen == {1: [{"from": sender}], 2: [{"from": sender}]}
    finally:
        daemon.stop()


def test_shutdown_from_a_worker_stops_cleanly(tmp_path):
    daemon = start(tmp_path)
    assert daemon.get("/stop") == (200, b"stopping")
    assert daemon.proc.wait(20) == 0


def test_fatalx_stops_the_server_with_status_1(tmp_path):
    daemon = start(tmp_path)
    daemon.get("/fatal")
    assert daemon.proc.wait(20) == 1
    assert "the app gave up" in daemon.log()


def test_proc_pipes_environment_and_status(runtime):
    assert json.loads(runtime.get("/proc")[1]) == {"out": "hello done\n", "status": 3}


def test_proc_timeout_and_kill(runtime):
    assert json.loads(runtime.get("/proc-timeout")[1]) == {"outcome": "timeout before process exited",
                                                           "status": 9}


def test_proc_closed_pipes_raise_runtime_errors_as_in_kore(runtime):
    assert json.loads(runtime.get("/proc-closed")[1]) == [
        "closed\n", "builtins.RuntimeError: stdin closed: the process no longer reads it", "True", "9",
        "builtins.RuntimeError: stdout closed", "builtins.RuntimeError: stdin closed"]


def test_socket_wrap(runtime):
    assert json.loads(runtime.get("/sockets")[1]) == {"got": "ping", "timeout": "timeout before operation completed",
                                                      "eof": None}


def test_httpclient_reuses_connections_and_reports_failures(runtime):
    result = json.loads(runtime.get("/client")[1])
    assert result["first"] == [200, "tagged by prerequest"] and result["second"] == result["first"]
    assert result["server"].startswith("korepyd")
    assert result["missing"] == "body keyword expected"
    assert result["refused"] == "request to 'http"


def test_request_connection(runtime):
    assert json.loads(runtime.get("/conn")[1]) == {"addr": "127.0.0.1", "fd": True, "x509": None, "same": True}


def test_curl_says_what_to_use_instead():
    from korepyd import kore

    with pytest.raises(NotImplementedError, match="kore.httpclient"):
        kore.curl("http://example.com/")


def test_coroname_and_corotrace(runtime):
    assert runtime.get("/named") == (200, b"named")
    deadline = time.monotonic() + 5
    while "coro 'the-job' deleted" not in runtime.log():
        assert time.monotonic() < deadline, runtime.log()[-2000:]
        time.sleep(0.05)


def test_signal_hook_and_fatal_restart(runtime):
    import os
    import signal

    worker = runtime.workers()[0]
    os.kill(worker, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while json.loads(runtime.get("/signals")[1]) != [int(signal.SIGUSR1)]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        runtime.get("/die")
    except OSError:
        pass  # the worker ended with the connection
    deadline = time.monotonic() + 10
    while runtime.workers() == [worker] or not runtime.workers():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "fatal: on purpose" in runtime.log() and "exited with status 1" in runtime.log()
    assert runtime.get("/ticks")[0] == 200

"""Micro-benchmark: the worker's whole request path in one process, no
sockets: serve_connection() over a stream that always has the next request
ready and swallows every response. What is left is korepyd's own work per
request (parsing, routing, the kore request object, the handler, the
response) plus trio's for a task that never has to wait.

    .venv/bin/python bench/path.py [--scenario plain|route] [--requests 100000] [--rounds 5]
    .venv/bin/python bench/path.py --profile      # cProfile, by own time

plain: `GET /` answered "Hello, World!"; route: `GET /user/123?name=abc`
to a regex route with a validated query parameter; the handlers are those
of bench/korepyd_app/app.py. The figure is the best round, in
microseconds per request; pin it to a core (taskset -c 0) and compare
runs of the same machine only.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trio  # noqa: E402

from korepyd import config  # noqa: E402
from korepyd.app import install_kore  # noqa: E402
from korepyd.worker.conn import serve_connection  # noqa: E402
from korepyd.worker.runtime import Runtime  # noqa: E402
from korepyd.worker.stream import PlainStream  # noqa: E402

CONF = """
server s {
    bind 127.0.0.1 8888
    tls no
}
http_keepalive_time 60
validator v_name regex ^[a-z]{1,32}$
domain * {
    attach s
    route / {
        handler plain
    }
    route ^/user/([0-9]+)$ {
        handler user
        methods get
        validate get name v_name
    }
}
"""
REQUESTS = {
    "plain": b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n",
    "route": b"GET /user/123?name=abc HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n",
}


def bench_app() -> types.ModuleType:
    """bench/korepyd_app/app.py, the handlers `make bench` measures."""
    install_kore()
    spec = importlib.util.spec_from_file_location("bench_app", Path(__file__).parent / "korepyd_app" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Feed(PlainStream):
    """A stream with `count` copies of one request, then EOF."""

    def __init__(self, request: bytes, count: int):
        self._yielded = True
        self.request, self.left, self.responses = request, count, 0

    def receive_nowait(self, max_bytes: int = 65536) -> bytes:
        if not self.left:
            return b""
        self.left -= 1
        return self.request

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return self.receive_nowait()

    async def send_all(self, data) -> None:
        self.responses += 1

    async def aclose(self) -> None:
        pass


def one_round(request: bytes, count: int) -> float:
    loaded = config.loads(CONF, "path.conf", env={}, check_files=False)
    rt = Runtime.build(1, loaded.config, [bench_app()])
    feed = Feed(request, count)
    start = time.perf_counter()
    trio.run(serve_connection, rt, feed, "s", False)
    elapsed = time.perf_counter() - start
    if feed.responses != count:
        raise SystemExit(f"{feed.responses} responses to {count} requests")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(REQUESTS), default="plain")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    request = REQUESTS[args.scenario]
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(one_round, request, args.requests)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return
    best = min(one_round(request, args.requests) for _ in range(args.rounds))
    print(f"{args.scenario}: {best / args.requests * 1e6:.2f} us per request "
          f"({args.requests / best:,.0f} requests/s on one core, no sockets)")


if __name__ == "__main__":
    main()

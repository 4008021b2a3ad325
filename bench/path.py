"""Micro-benchmark: the worker's whole request path in one process, no
sockets: serve_connection() over streams that always have the next request
ready and swallow every response, one task per stream. What is left is
korepyd's own work per request (parsing, routing, the kore request object,
the handler, the response, PlainStream) plus trio's scheduler passes
among the connection tasks, but no system calls.

    .venv/bin/python bench/path.py [--scenario plain|route] [--requests 100000] [--rounds 5]
                                   [--connections 64]
    .venv/bin/python bench/path.py --profile      # cProfile, by own time
    .venv/bin/python bench/path.py --instructions # valgrind's count, per request

plain: `GET /` answered "Hello, World!"; route: `GET /user/123?name=abc`
to a regex route with a validated query parameter; the handlers are those
of bench/korepyd_app/app.py. The figure is the best round, in
microseconds per request; pin it to a core (taskset -c 0) and compare
runs of the same machine only.

--instructions counts instead of timing, so that two versions can be
compared on a machine whose speed drifts: it runs the path twice under
valgrind's callgrind, for 2,048 and for 10,240 requests, and prints the
difference in instructions executed divided by the 8,192 requests between
them (start-up and the first requests' warm-up cancel out). Every run has
the same hash seed (a random one moves the count by up to 2%), and then it
repeats within 0.1%; it takes about 40 seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import pstats
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trio  # noqa: E402
from instructions import callgrind_total  # noqa: E402  (bench/, this script's directory)

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
    """A stream with `count` copies of one request, then EOF, that takes
    every response whole at once: PlainStream's own receive_some() and
    send_all() run on it, scheduler passes included."""

    def __init__(self, request: bytes, count: int):
        self._yielded = True
        self.request, self.left, self.responses = request, count, 0

    def receive_nowait(self, max_bytes: int = 65536) -> bytes:
        if not self.left:
            return b""
        self.left -= 1
        return self.request

    def send_nowait(self, data, flags: int = 0) -> int:
        self.responses += 1
        return len(data)

    async def aclose(self) -> None:
        pass

    def close_last(self) -> None:
        pass


def one_round(request: bytes, count: int, connections: int) -> float:
    loaded = config.loads(CONF, "path.conf", env={}, check_files=False)
    rt = Runtime.build(1, loaded.config, [bench_app()])
    feeds = [Feed(request, count // connections) for _ in range(connections)]

    async def serve_all():
        async with trio.open_nursery() as nursery:
            for feed in feeds:
                nursery.start_soon(serve_connection, rt, feed, "s", False)

    start = time.perf_counter()
    trio.run(serve_all)
    elapsed = time.perf_counter() - start
    answered = sum(feed.responses for feed in feeds)
    if answered != connections * (count // connections):
        raise SystemExit(f"{answered} responses to {count} requests")
    return elapsed


def count_instructions(scenario: str, connections: int, small: int = 2048, large: int = 10240) -> float:
    """Instructions per request: callgrind's totals for `large` and for
    `small` requests, their difference divided by the requests between."""
    totals = []
    for requests in (small, large):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "callgrind.out"
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            sys.executable, __file__, "--scenario", scenario, "--rounds", "1",
                            "--requests", str(requests), "--connections", str(connections)],
                           env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            total = callgrind_total(out.read_text())
            if total is None:
                raise SystemExit("callgrind wrote no total")
            totals.append(total)
    return (totals[1] - totals[0]) / (large - small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(REQUESTS), default="plain")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64,
                        help="connection tasks taking turns, as wrk's keep-alive connections do")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--instructions", action="store_true",
                        help="instructions per request, counted by valgrind (needs valgrind)")
    args = parser.parse_args()
    request = REQUESTS[args.scenario]
    if args.instructions:
        per_request = count_instructions(args.scenario, args.connections)
        print(f"{args.scenario}: {per_request:,.0f} instructions per request (valgrind --tool=callgrind)")
        return
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(one_round, request, args.requests, args.connections)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return
    best = min(one_round(request, args.requests, args.connections) for _ in range(args.rounds))
    print(f"{args.scenario}: {best / args.requests * 1e6:.2f} us per request "
          f"({args.requests / best:,.0f} requests/s on one core, no sockets)")


if __name__ == "__main__":
    main()

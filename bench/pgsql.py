"""Benchmark: PostgreSQL queries per second, korepyd against psycopg's own
asyncio API, in one run on one throwaway cluster.

    .venv/bin/python bench/pgsql.py [--queries 10000] [--rounds 3] [--json out.json]

Rows (each the median of the rounds):
  asyncio    psycopg.AsyncConnection on asyncio, 1 connection, sequential
  trio       korepyd's trio-native pool (worker/pgsql.py), 1 connection, sequential
  asyncio x8 / trio x8   8 concurrent tasks on 8 connections
  handler    `await kore.dbquery(...)` in a handler of a 1-worker korepyd, driven by
             wrk -c 8 for 5 s (server on CPU 0, wrk on CPU 1), in requests/s

The query is `SELECT $1::int + 1` with a parameter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from korepyd.worker.pgsql import Pool, query  # noqa: E402
from tests.integration.daemon import Daemon, free_port  # noqa: E402
from tests.pgcluster import Cluster  # noqa: E402

SQL_PSYCOPG = "SELECT %s::int + 1"
SQL_KORE = "SELECT $1::int + 1 AS n"


async def asyncio_rate(conninfo: str, queries: int, tasks: int) -> float:
    conns = [await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(tasks)]

    async def run(conn, n):
        async with conn.cursor() as cur:
            for _ in range(n):
                await cur.execute(SQL_PSYCOPG, (1,))
                await cur.fetchall()

    start = time.perf_counter()
    await asyncio.gather(*(run(c, queries // tasks) for c in conns))
    elapsed = time.perf_counter() - start
    for c in conns:
        await c.close()
    return queries / elapsed


async def trio_rate(conninfo: str, queries: int, tasks: int) -> float:
    pool = Pool(conninfo, tasks, 1000)

    async def run(n):
        for _ in range(n):
            await query(pool, SQL_KORE, ["1"])

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(tasks):
            nursery.start_soon(run, queries // tasks)
    elapsed = time.perf_counter() - start
    await pool.close()
    return queries / elapsed


APP = '''
import kore

class Bench:
    def configure(self, args):
        kore.config.workers = 1
        kore.config.pgsql_conn_max = 8
        kore.config.worker_set_affinity = 0
        kore.server(ip="127.0.0.1", port=args[1], tls=False)
        kore.dbsetup("db", args[2])
        kore.domain("*").route("/q", self.q, methods=["get"])

    async def q(self, req):
        rows = await kore.dbquery("db", "SELECT $1::int + 1 AS n", params=["1"])
        req.response(200, rows[0]["n"].encode())

koreapp = Bench()
'''


def handler_rate(conninfo: str, seconds: int) -> float | None:
    if not _which("wrk"):
        return None
    directory = Path(tempfile.mkdtemp(prefix="korepyd-bench-"))
    (directory / "app.py").write_text(APP)
    port = free_port()
    daemon = Daemon(directory, port, command=("app.py", str(port), conninfo))
    try:
        daemon.wait_ready("/q")
        for pid in [daemon.proc.pid, *daemon.workers()]:
            subprocess.run(["taskset", "-pc", "0", str(pid)], capture_output=True)
        url = f"http://127.0.0.1:{port}/q"
        subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c8", "-d2s", url], capture_output=True)  # warm-up
        out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c8", f"-d{seconds}s", url],
                             capture_output=True, text=True).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        return float(match.group(1)) if match else None
    finally:
        daemon.stop()


def _which(name: str) -> bool:
    return any(os.access(os.path.join(p, name), os.X_OK) for p in os.environ.get("PATH", "").split(":"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    cluster = Cluster().start()
    results: dict[str, list[float]] = {k: [] for k in ("asyncio", "trio", "asyncio x8", "trio x8", "handler")}
    try:
        asyncio.run(asyncio_rate(cluster.conninfo, 200, 1))  # warm-up
        for _ in range(args.rounds):  # interleaved, so drift hits every row alike
            results["asyncio"].append(asyncio.run(asyncio_rate(cluster.conninfo, args.queries, 1)))
            results["trio"].append(trio.run(trio_rate, cluster.conninfo, args.queries, 1))
            results["asyncio x8"].append(asyncio.run(asyncio_rate(cluster.conninfo, args.queries, 8)))
            results["trio x8"].append(trio.run(trio_rate, cluster.conninfo, args.queries, 8))
            rate = handler_rate(cluster.conninfo, args.seconds)
            if rate:
                results["handler"].append(rate)
    finally:
        cluster.remove()
    medians = {k: statistics.median(v) for k, v in results.items() if v}
    base = medians["asyncio"]
    print(f"{'mode':<12} {'queries/s':>10} {'vs asyncio':>11}")
    for name, value in medians.items():
        print(f"{name:<12} {value:>10,.0f} {value / base:>10.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"medians": medians, "rounds": results}, indent=2))


if __name__ == "__main__":
    main()

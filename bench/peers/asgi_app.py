"""The peers' side of the benchmark: one plain ASGI app (no framework) that
uvicorn, hypercorn and granian all serve, doing what
bench/korepyd_app/app.py does for korepyd.

  GET /                      200 "Hello, World!" text/plain
  GET /json                  {"message": "Hello, World!"}, json.dumps per request
  GET /user/<id>?name=<n>    a regex on the path and on the query value, 400 on mismatch
  GET /static/64k.bin        the file under BENCH_STATIC_DIR, read per request (a naive app)
  /ws                        websocket echo
  GET /db                    SELECT 1 on BENCH_DB (a libpq connection string), 8 connections

On asyncio (uvicorn, granian) /db uses psycopg_pool.AsyncConnectionPool.
psycopg has no trio support, so on trio (hypercorn --worker-class trio) it
runs blocking psycopg connections in threads: what a trio app without a
trio driver does.
"""

import asyncio
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

USER_PATH = re.compile(r"^/user/([0-9]+)$")
NAME = re.compile(r"^[a-z]{1,32}$")
STATIC_DIR = Path(os.environ.get("BENCH_STATIC_DIR", "."))
DATABASE = os.environ.get("BENCH_DB")
POOL_SIZE = 8
SQL = "SELECT 1 AS n"

TEXT = [(b"content-type", b"text/plain")]
JSON = [(b"content-type", b"application/json")]
BINARY = [(b"content-type", b"application/octet-stream")]

_db = None  # AsyncioDatabase or TrioDatabase, made at startup


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        await http(scope, send)
    elif kind == "websocket":
        await websocket(receive, send)
    elif kind == "lifespan":
        await lifespan(receive, send)


async def respond(send, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def http(scope, send) -> None:
    path = scope["path"]
    if path == "/":
        await respond(send, 200, TEXT, b"Hello, World!")
    elif path == "/json":
        await respond(send, 200, JSON, json.dumps({"message": "Hello, World!"}).encode())
    elif match := USER_PATH.match(path):
        names = parse_qs(scope["query_string"].decode("latin-1")).get("name", [])
        if len(names) != 1 or not NAME.match(names[0]):
            await respond(send, 400, TEXT, b"bad name")
            return
        await respond(send, 200, TEXT, f"user {match.group(1)} name {names[0]}".encode())
    elif path == "/static/64k.bin":
        await respond(send, 200, BINARY, (STATIC_DIR / "64k.bin").read_bytes())
    elif path == "/db" and _db is not None:
        await respond(send, 200, TEXT, str(await _db.query()).encode())
    else:
        await respond(send, 404, TEXT, b"not found")


async def websocket(receive, send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        if message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
        else:
            await send({"type": "websocket.send", "text": message["text"]})


async def lifespan(receive, send) -> None:
    global _db
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if DATABASE:
                _db = AsyncioDatabase() if _on_asyncio() else TrioDatabase()
                await _db.open()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _db is not None:
                await _db.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class AsyncioDatabase:
    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        self.pool = AsyncConnectionPool(DATABASE, min_size=POOL_SIZE, max_size=POOL_SIZE, open=False,
                                        kwargs={"autocommit": True})
        await self.pool.open(wait=True)

    async def query(self):
        async with self.pool.connection() as conn:
            cursor = await conn.execute(SQL)
            return (await cursor.fetchone())[0]

    async def close(self) -> None:
        await self.pool.close()


class TrioDatabase:
    async def open(self) -> None:
        import psycopg
        import trio

        self.trio = trio
        self.idle = [psycopg.Connection.connect(DATABASE, autocommit=True) for _ in range(POOL_SIZE)]
        self.free = trio.Semaphore(POOL_SIZE)
        self.limiter = trio.CapacityLimiter(POOL_SIZE)

    async def query(self):
        async with self.free:
            conn = self.idle.pop()
            try:
                return await self.trio.to_thread.run_sync(self._run, conn, limiter=self.limiter)
            finally:
                self.idle.append(conn)

    @staticmethod
    def _run(conn):
        return conn.execute(SQL).fetchone()[0]

    async def close(self) -> None:
        for conn in self.idle:
            conn.close()

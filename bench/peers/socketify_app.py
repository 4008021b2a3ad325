"""The socketify peer of the benchmark: the scenarios of bench/peers/asgi_app.py
written on socketify's own App API (uWebSockets through cffi, no ASGI).

    python socketify_app.py PORT [CERTFILE KEYFILE]

  GET /                      200 "Hello, World!" text/plain
  GET /json                  {"message": "Hello, World!"}, json.dumps per request
  GET /user/<id>?name=<n>    the id must be digits (else 404), the name match the
                             regex (else 400), as in the ASGI app
  GET /static/64k.bin        the file under BENCH_STATIC_DIR, read per request (a naive app)
  /ws                        websocket echo
  GET /db                    SELECT 1 on BENCH_DB (a libpq connection string), on an
                             8-connection psycopg_pool.AsyncConnectionPool: socketify runs
                             asyncio's loop beside its own

With CERTFILE and KEYFILE it serves HTTPS (AppOptions). It listens on
127.0.0.1:PORT, one process; SIGTERM ends it.
"""

import json
import os
import re
import sys
from pathlib import Path

from socketify import App, AppListenOptions, AppOptions

ID = re.compile(r"^[0-9]+$")
NAME = re.compile(r"^[a-z]{1,32}$")
STATIC_FILE = Path(os.environ.get("BENCH_STATIC_DIR", ".")) / "64k.bin"
DATABASE = os.environ.get("BENCH_DB")
POOL_SIZE = 8
SQL = "SELECT 1 AS n"

TEXT = b"text/plain"
JSON = b"application/json"
BINARY = b"application/octet-stream"

_pool = None  # psycopg_pool.AsyncConnectionPool, opened at start when BENCH_DB is set


def plain(res, req):
    res.send(b"Hello, World!", TEXT, 200)


def json_hello(res, req):
    res.send(json.dumps({"message": "Hello, World!"}).encode(), JSON, 200)


def user(res, req):
    user_id = req.get_parameter(0)
    if not user_id or not ID.match(user_id):
        not_found(res, req)
        return
    names = (req.get_queries() or {}).get("name", [])
    if len(names) != 1 or not NAME.match(names[0]):
        res.send(b"bad name", TEXT, 400)
        return
    res.send(f"user {user_id} name {names[0]}".encode(), TEXT, 200)


def static(res, req):
    res.send(STATIC_FILE.read_bytes(), BINARY, 200)


async def db(res, req):
    async with _pool.connection() as conn:
        cursor = await conn.execute(SQL)
        value = (await cursor.fetchone())[0]
    res.cork_send(str(value).encode(), TEXT, 200)  # does nothing if the client has gone


def not_found(res, req):
    res.send(b"not found", TEXT, 404)


def echo(ws, message, opcode):
    ws.send(message, opcode)


async def open_pool():
    global _pool
    from psycopg_pool import AsyncConnectionPool

    _pool = AsyncConnectionPool(DATABASE, min_size=POOL_SIZE, max_size=POOL_SIZE, open=False,
                                kwargs={"autocommit": True})
    await _pool.open(wait=True)


def make_app(tls: tuple[str, str] | None) -> App:
    app = App(AppOptions(cert_file_name=tls[0], key_file_name=tls[1]) if tls else None)
    app.get("/", plain)
    app.get("/json", json_hello)
    app.get("/user/:id", user)
    app.get("/static/64k.bin", static)
    if DATABASE:
        app.on_start(open_pool)
        app.get("/db", db)
    app.ws("/ws", {"message": echo})
    app.any("/*", not_found)
    return app


def main() -> None:
    port = int(sys.argv[1])
    tls = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else None
    app = make_app(tls)
    app.listen(AppListenOptions(port=port, host="127.0.0.1"),
               lambda config: print(f"socketify listening on 127.0.0.1:{config.port}", flush=True))
    app.run()


if __name__ == "__main__":
    main()

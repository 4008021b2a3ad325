"""The korepyd side of the benchmark: a config-style Kore app that
kore.conf names. The ASGI app in bench/peers/asgi_app.py does the same
for uvicorn, hypercorn and granian.

KOREPYD_BENCH_DB (a libpq connection string) enables /db.
"""

import gc
import json
import os
import sys

import kore

DATABASE = os.environ.get("KOREPYD_BENCH_DB")
if DATABASE:
    kore.dbsetup("bench", DATABASE)


def plain(req):
    req.response_header("content-type", "text/plain")
    req.response(200, b"Hello, World!")


def heap(req):
    """bench/memcheck.py's probe: blocks allocated after a full collection."""
    gc.collect()
    req.response(200, str(sys.getallocatedblocks()).encode())


def json_hello(req):
    req.response_header("content-type", "application/json")
    req.response(200, json.dumps({"message": "Hello, World!"}).encode())


def user(req, user_id):
    req.populate_get()
    name = req.argument("name")  # None when v_name refused it
    req.response_header("content-type", "text/plain")
    if name is None:
        req.response(400, b"bad name")
        return
    req.response(200, f"user {user_id} name {name}".encode())


def ws(req):
    req.websocket_handshake(ws_connect, ws_message, ws_disconnect)


def ws_connect(conn):
    pass


def ws_message(conn, op, data):
    conn.websocket_send(op, data)


def ws_disconnect(conn):
    pass


async def db(req):
    rows = await kore.dbquery("bench", "SELECT 1 AS n")
    req.response_header("content-type", "text/plain")
    req.response(200, rows[0]["n"].encode())

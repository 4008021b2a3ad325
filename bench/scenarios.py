"""The scenarios: what is requested, what a correct answer is, and how the
load is applied (wrk, or bench/wsload.py for the websocket echo). `https`
and `newconn` ask for the plain text of `plain` too: over TLS (keep-alive),
and on a new TCP connection per request (`Connection: close`)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

STATIC_NAME = "64k.bin"
STATIC_BYTES = random.Random(64).randbytes(64 * 1024)  # the same file on every run


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str                              # what wrk requests; the readiness probe
    check: Callable[[int, bytes], bool]    # (status, body) of one GET of path
    unit: str = "req/s"
    refused: str | None = None             # a request that must get 400
    websocket: bool = False                # load with wsload.py instead of wrk
    database: bool = False                 # needs the PostgreSQL cluster
    tls: bool = False                      # the servers serve HTTPS (tlsfiles.py's certificate)
    new_connections: bool = False          # every request on a new connection: wrk sends Connection: close


def _body(expected: bytes) -> Callable[[int, bytes], bool]:
    return lambda status, body: status == 200 and body == expected


def _json(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body) == {"message": "Hello, World!"}


SCENARIOS = {s.name: s for s in (
    Scenario("plain", "/", _body(b"Hello, World!")),
    Scenario("https", "/", _body(b"Hello, World!"), tls=True),
    Scenario("newconn", "/", _body(b"Hello, World!"), new_connections=True),
    Scenario("json", "/json", _json),
    Scenario("route", "/user/123?name=abc", _body(b"user 123 name abc"), refused="/user/123?name=Abc1"),
    Scenario("static", f"/static/{STATIC_NAME}", _body(STATIC_BYTES)),
    Scenario("websocket", "/", _body(b"Hello, World!"), unit="msg/s", websocket=True),
    Scenario("pgsql", "/db", _body(b"1"), database=True),
)}

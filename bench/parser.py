"""Micro-benchmark: requests per second through the sans-IO HTTP core alone,
korepyd's engine (korepyd.http1.HttpConnection) against the oracle it is
tested against (tests/http1/h11_oracle.py: h11 itself), in one process.

    .venv/bin/python bench/parser.py [--seconds 1.0] [--rounds 5] [--batch 16] [--json out.json]

One request is what the worker does with it: receive_data, the head and
end-of-request events, respond() with Kore's headers (dispatch's
head_headers), send_body, end, start_next_cycle. The request is a
browser-like GET with 9 headers (about 450 bytes); the response carries
a 13-byte body. Rows, each the best of the rounds:

  single      one request per read on a keep-alive connection
  pipelined   --batch requests in one read, answered one by one
  new conn    one request on a new connection object each time
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from korepyd.http1.connection import HttpConnection  # noqa: E402
from korepyd.http1.events import NEED_DATA, EndOfRequest, RequestHead  # noqa: E402
from korepyd.http1.response import HeadPolicy, head_headers, reason  # noqa: E402
from korepyd.http1.rules import Limits  # noqa: E402
from tests.http1.h11_oracle import H11Connection  # noqa: E402

REQUEST = (
    b"GET /static/index.html?lang=en HTTP/1.1\r\n"
    b"Host: www.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=4f9c2a7b1e; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Cache-Control: max-age=0\r\n"
    b"\r\n"
)
BODY = b"Hello, World!"
POLICY = HeadPolicy(b"korepyd", keepalive=20)
DATE = b"Thu, 01 Jan 2026 00:00:00 GMT"
LIMITS = Limits()


def serve(conn) -> int:
    """Answer every request conn can hand out now; how many it answered."""
    served = 0
    while True:
        head = conn.next_event()
        if head is NEED_DATA:
            return served
        assert isinstance(head, RequestHead), head
        assert isinstance(conn.next_event(), EndOfRequest)
        headers = head_headers(POLICY, [("content-type", "text/plain")], keep_alive=True, tls=False,
                               length=len(BODY), date=DATE)
        wire = conn.respond(200, reason(200), headers) + conn.send_body(BODY) + conn.end()
        assert wire.endswith(BODY)
        assert conn.start_next_cycle()
        served += 1


def single(cls, seconds: float) -> float:
    conn, count, start = cls(LIMITS), 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            conn.receive_data(REQUEST)
            count += serve(conn)
    return count / elapsed


def pipelined(cls, seconds: float, batch: int) -> float:
    conn, count, start, data = cls(LIMITS), 0, time.perf_counter(), REQUEST * batch
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            conn.receive_data(data)
            count += serve(conn)
    return count / elapsed


def new_connection(cls, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            conn = cls(LIMITS)
            conn.receive_data(REQUEST)
            count += serve(conn)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per row; the best counts")
    parser.add_argument("--batch", type=int, default=16, help="requests per read when pipelined")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    classes = {"h11": H11Connection, "korepyd": HttpConnection}
    rows = {
        "single": lambda cls: single(cls, args.seconds),
        f"pipelined x{args.batch}": lambda cls: pipelined(cls, args.seconds, args.batch),
        "new conn": lambda cls: new_connection(cls, args.seconds),
    }
    results: dict[str, dict[str, float]] = {}
    print(f"{'':16}{'h11 req/s':>12}{'korepyd req/s':>15}{'ratio':>8}")
    for row, run in rows.items():
        rates: dict[str, list[float]] = {name: [] for name in classes}
        for _ in range(args.rounds):  # the classes take turns, so that a slower spell of the machine hits both
            for name in rates:
                rates[name].append(run(classes[name]))
        results[row] = {name: max(values) for name, values in rates.items()}
        h11_rate, rate = results[row]["h11"], results[row]["korepyd"]
        print(f"{row:16}{h11_rate:12,.0f}{rate:15,.0f}{rate / h11_rate:7.1f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

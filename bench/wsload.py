"""The websocket load generator of the benchmark: CONNECTIONS websockets to
ws://127.0.0.1:PORT/ws, each sending a 32-byte binary message and waiting
for its echo, again and again, for SECONDS; prints one JSON object: the
messages echoed, messages/s, and the round trip's p50 and p99 in ms.

    python bench/wsload.py PORT SECONDS [CONNECTIONS]

It speaks the protocol by hand on asyncio protocols (uvloop when it is
installed): a masked frame built once per connection, each echo checked
byte for byte. The client costs far less per message than any server it
measures, so the server, not the client, sets the rate.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time

PAYLOAD = bytes(range(65, 97))  # 32 bytes
ECHO = b"\x82\x20" + PAYLOAD   # FIN + binary, 32 bytes, unmasked


def frame(payload: bytes, opcode: int = 2) -> bytes:
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class Echo(asyncio.Protocol):
    def __init__(self, port: int, stats: dict):
        self.port = port
        self.stats = stats
        self.buffer = b""
        self.upgraded = False
        self.message = frame(PAYLOAD)
        self.sent_at = 0.0
        self.running = True
        self.ready = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                         ).encode())

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.fail(f"handshake refused: {head.splitlines()[0]!r}")
                return
            self.upgraded, self.buffer = True, rest
            self.ready.set_result(None)
            return
        while len(self.buffer) >= len(ECHO):
            if not self.buffer.startswith(ECHO):
                self.fail(f"unexpected frame {self.buffer[:8]!r}")
                return
            self.buffer = self.buffer[len(ECHO):]
            if self.running:
                self.stats["latencies"].append(time.perf_counter() - self.sent_at)
                self.send()

    def send(self):
        self.sent_at = time.perf_counter()
        self.transport.write(self.message)

    def fail(self, reason: str):
        self.stats["errors"].append(reason)
        self.running = False
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(reason))
        self.transport.close()

    def connection_lost(self, exc):
        if self.running and self.upgraded:
            self.stats["errors"].append(f"connection lost: {exc}")
        self.running = False
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"connection lost before the handshake: {exc}"))


async def run(port: int, seconds: float, connections: int) -> dict:
    loop = asyncio.get_running_loop()
    stats = {"latencies": [], "errors": []}
    clients = []
    for _ in range(connections):
        _, client = await loop.create_connection(lambda: Echo(port, stats), "127.0.0.1", port)
        clients.append(client)
    await asyncio.wait_for(asyncio.gather(*(c.ready for c in clients)), 10)
    start = time.perf_counter()
    for client in clients:
        client.send()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - start
    done = len(stats["latencies"])
    for client in clients:
        client.running = False
        if not client.transport.is_closing():
            client.transport.write(frame(b"\x03\xe8", opcode=8))  # close, 1000
    await asyncio.sleep(0.2)
    for client in clients:
        client.transport.close()
    latencies = sorted(stats["latencies"][:done])
    return {"messages": done, "seconds": elapsed, "rate": done / elapsed, "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99), "errors": stats["errors"][:5]}


def percentile(ordered: list[float], q: float) -> float | None:
    """The q-quantile of sorted seconds, in ms."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(port, seconds, connections))
    else:
        result = uvloop.run(run(port, seconds, connections))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

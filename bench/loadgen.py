"""The load generators, both pinned to CPU 1 (the servers run on CPU 0):
wrk for HTTP, bench/wsload.py for websockets. Each returns a dict with
`rate` (requests or messages per second), `p50_ms`, `p99_ms`, `count`,
`errors` (a list of strings, empty when all went well) and `command`; wrk's
also `socket_errors`, the counts of its "Socket errors" line that are not
0 (connect, read, write, timeout): reported beside the rate, not as a
failure, since a new connection per request (newconn) may see a few."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

LOAD_CPU = "1"
CONNECTIONS = 64
WS_CONNECTIONS = 16
WSLOAD = Path(__file__).resolve().parent / "wsload.py"

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk(url: str, seconds: float, connections: int = CONNECTIONS, headers: tuple[str, ...] = ()) -> dict:
    """`headers`: "Name: value" lines wrk adds to every request (-H)."""
    extra = [arg for header in headers for arg in ("-H", header)]
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *extra, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    result = parse_wrk(done.stdout)
    result["command"] = command
    if done.returncode != 0:
        result["errors"].append(f"wrk exited with {done.returncode}: {done.stderr.strip()[:200]}")
    return result


def parse_wrk(out: str) -> dict:
    """The figures of wrk --latency's report."""
    def number(pattern: str) -> float | None:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else None

    def latency(percent: str) -> float | None:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
        return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else None

    errors = []
    line = re.search(r"Socket errors: (.*)", out)
    socket_errors = {kind: int(n) for kind, n in re.findall(r"(\w+) (\d+)", line.group(1)) if int(n)} if line else {}
    bad = number(r"Non-2xx or 3xx responses: (\d+)")
    if bad:
        errors.append(f"{bad:.0f} non-2xx responses")
    rate = number(r"Requests/sec:\s+([\d.]+)")
    if rate is None:
        errors.append("no Requests/sec in wrk's output")
    return {"rate": rate, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "count": number(r"(\d+) requests in"), "errors": errors, "socket_errors": socket_errors}


def websocket(python: Path, port: int, seconds: float, connections: int = WS_CONNECTIONS) -> dict:
    command = ["taskset", "-c", LOAD_CPU, str(python), str(WSLOAD), str(port), f"{seconds:g}", str(connections)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"rate": None, "p50_ms": None, "p99_ms": None, "count": None, "command": command,
                "errors": [f"wsload failed: {tail[0][:200]}"]}
    return {"rate": report["rate"], "p50_ms": report["p50_ms"], "p99_ms": report["p99_ms"],
            "count": report["messages"], "errors": report["errors"], "command": command}

"""Instructions per request of whole servers, counted by valgrind: a
measure of the work each does that the machine's drifting clock does not
move (make bench's req/s on this kind of machine vary by 20-40% between
runs; these repeat within about 0.5%).

    make bench ARGS=--instructions       (plain, json and route; korepyd and uvicorn)
    make bench ARGS="--instructions --scenario plain --server korepyd,uvicorn,hypercorn"
    make bench ARGS="--instructions --scenario pgsql"

Each server is started under `valgrind --tool=callgrind` (korepyd's worker
processes too: valgrind follows the supervisor's fork+exec), served
exactly SMALL, then, started afresh, LARGE requests by CONNECTIONS
keep-alive connections taking turns, and stopped (SIGTERM: callgrind
writes its counts as the process exits). The figure is the difference
between the two runs' counts of the process that answers (korepyd's
worker; the peer's busiest process) divided by the requests between them:
start-up, warm-up and shut-down cancel out. It counts the instructions
run in user space only (the kernel's share of a request, its system
calls, is not in it) and weighs a cache miss like any other instruction,
so it compares the work of the servers' code, not their speed. About a
minute per server and scenario. The HTTP scenarios only (the websocket
one is left out): https over TLS (the handshakes of its 16 connections
cancel out), newconn with a new connection per request (its handshake,
and in https its TLS handshake, are then in every request's count); in
pgsql, the database's own processes are not counted, only the server's
side of each query.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
from pathlib import Path

import h11
from scenarios import Scenario
from servers import Running, Site, serving

SMALL, LARGE = 1024, 5120  # multiples of CONNECTIONS
CONNECTIONS = 16
READY_TIMEOUT = 300.0   # a server under valgrind is some 50 times slower
STOP_TIMEOUT = 120.0
# One hash seed for every run: with a random one, the strings' hashes, and so how often dict lookups
# collide, differ from run to run, and the counts with them (by up to 2%).
VALGRIND = ["env", "PYTHONHASHSEED=0", "valgrind", "--tool=callgrind", "--trace-children=yes"]


def check() -> str | None:
    """Why this cannot run here, or None."""
    return None if shutil.which("valgrind") else "valgrind is not installed (apt-get install valgrind)"


def measure(scenario: Scenario, servers: list[str], site: Site, scratch: Path) -> dict[str, float]:
    """Instructions per request of each server, in `scenario`."""
    if scenario.websocket:
        print(f"\n{scenario.name}: skipped (the instruction count drives HTTP GETs)")
        return {}
    servers = serving(scenario.name, servers)
    if not servers:
        print(f"\n{scenario.name}: skipped (the reference loops serve the plain scenario only)")
        return {}
    counts = {name: per_request(name, scenario, site, scratch) for name in servers}
    first = servers[0]
    print(f"\n{scenario.name} ({scenario.path}): instructions per request in user space, "
          f"the {LARGE - SMALL:,} requests between a run of {SMALL:,} and one of {LARGE:,}, {CONNECTIONS} connections")
    for name, count in counts.items():
        print(f"  {name:<12} {count:>10,.0f}   {count / counts[first]:.2f}x {first}")
    return counts


def per_request(name: str, scenario: Scenario, site: Site, scratch: Path) -> float:
    small, large = (served(name, scenario, requests, site, scratch) for requests in (SMALL, LARGE))
    return (large - small) / (LARGE - SMALL)


def served(name: str, scenario: Scenario, requests: int, site: Site, scratch: Path) -> int:
    """The instructions of `name`'s answering process over `requests` requests."""
    path = scenario.path
    out = scratch / f"callgrind-{scenario.name}-{name}-{requests}"
    out.mkdir()
    wrap = [*VALGRIND, f"--callgrind-out-file={out}/callgrind.%p"]
    with Running(name, site, scratch / f"{name}.log", wrap=wrap, stop_timeout=STOP_TIMEOUT,
                 tls=scenario.tls) as server:
        server.wait_ready(path, timeout=READY_TIMEOUT)
        drive(server.port, path, requests, scenario.check, scenario.tls, scenario.new_connections)
    return answering_process(out)


def drive(port: int, path: str, requests: int, check=None, tls: bool = False, fresh: bool = False) -> None:
    """`requests` GETs of `path`, spread over CONNECTIONS clients, each on
    one keep-alive connection (or, `fresh`, on a new connection per
    request), over TLS if `tls`; every answer must be a 200 and pass
    `check(status, body)` (the scenario's), if given."""
    errors: list[str] = []
    context = ssl._create_unverified_context() if tls else None  # the run's own self-signed certificate
    threads = [threading.Thread(target=_client, args=(port, path, requests // CONNECTIONS, check, errors, context,
                                                      fresh))
               for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"bench: {errors[0]}")


def _client(port: int, path: str, count: int, check, errors: list[str], context, fresh: bool) -> None:
    headers = [("Host", "bench")] + ([("Connection", "close")] if fresh else [])
    request = h11.Request(method="GET", target=path, headers=headers)
    try:
        for _ in range(count if fresh else 1):
            with _connect(port, context) as sock:
                client = h11.Connection(h11.CLIENT)
                for _ in range(1 if fresh else count):
                    sock.sendall(client.send(request) + client.send(h11.EndOfMessage()))
                    status, body = _response(client, sock)
                    if status != 200 or (check is not None and not check(status, body)):
                        errors.append(f"{path} answered {status} {body[:60]!r}")
                        return
                    if not fresh:
                        client.start_next_cycle()
    except (OSError, h11.ProtocolError) as exc:
        errors.append(f"{path}: {exc}")


def _connect(port: int, context) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    return context.wrap_socket(sock) if context is not None else sock


def _response(client: h11.Connection, sock: socket.socket) -> tuple[int | None, bytes]:
    """The status and body of the next response (OSError if the connection ends first)."""
    status, body = None, bytearray()
    while not isinstance(event := client.next_event(), h11.EndOfMessage):
        if event is h11.NEED_DATA:
            client.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.ConnectionClosed):
            raise OSError("the server closed the connection")
    return status, bytes(body)


def answering_process(out: Path) -> int:
    """The total of the callgrind file of the process that served: a
    korepyd worker's (`-m korepyd.worker`; all of them, had one been
    restarted), else the busiest process (a peer's worker beside its
    parent, or beside a helper it ran at start)."""
    totals = {}
    for dump in out.glob("callgrind.*"):
        text = dump.read_text(errors="replace")
        command = next((line for line in text.splitlines() if line.startswith("cmd:")), "")
        total = callgrind_total(text)
        if total is not None:
            totals[dump.name] = (command, total)
    workers = [total for command, total in totals.values() if "korepyd.worker" in command]
    if workers:
        return sum(workers)
    if not totals:
        raise SystemExit(f"bench: no process's counts in {out}")
    return max(total for _, total in totals.values())


def callgrind_total(text: str) -> int | None:
    """The instructions a callgrind output file counts in all, if complete."""
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(("summary:", "totals:"))),
                None)

"""The benchmark: korepyd against uvicorn, hypercorn (trio), granian,
socketify and Kore itself, on the same small app, one worker each, server on
CPU 0 and load on CPU 1.

    make bench [ARGS="--scenario plain,json --server korepyd,uvicorn --rounds 5 --duration 10"]
    make bench ARGS=--quick      one round of 3 s: a smoke test of the harness
    make bench ARGS=--memory     korepyd's worker RSS over a million requests, serving
                                 the hello world alone, then the bench app
    make bench ARGS="--server korepyd,korepyd-pure,uvicorn"
                                 korepyd-pure: the request path not compiled
    make bench ARGS=--instructions
                                 instructions per request, counted by valgrind
                                 (bench/instructions.py): a figure the machine's
                                 drift does not move
    KORE=/path/to/kore make bench
                                 Kore as a peer too (a Kore 4.x built with
                                 PYTHON=1; without KORE it is skipped)

For each scenario the servers take turns, round after round (round 1:
every server once, round 2: every server again, ...), each started afresh,
warmed up for 2 s, then measured with `wrk -t1 -c64 --latency` (https: an
https:// URL, on a throwaway self-signed certificate; newconn: `-H
"Connection: close"`, a new connection per request; websocket:
bench/wsload.py, 16 connections echoing 32-byte messages) and stopped. The
tables give the median of the rounds, and each peer's rate over korepyd's
in the same round (the median and the range of those ratios: drift between
rounds cancels out); the raw figures of every run go to
bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import instructions
import korebin
import loadgen
import memcheck
import peerenv
from scenarios import SCENARIOS, STATIC_BYTES, STATIC_NAME, Scenario
from servers import BENCH, DEFAULT, KOREPYD, NAMES, ROOT, SERVER_CPU, Running, Site, descendants, serving, unsupported

sys.path.insert(0, str(ROOT))
from tests.pgcluster import Cluster, _bin  # noqa: E402

RESULTS = BENCH / "results"
WARMUP = 2


def main() -> int:
    args = parse_args()
    for tool in ("taskset",) if args.instructions else ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is not installed")
    if args.instructions and (why := instructions.check()):
        sys.exit(f"bench: {why}")
    if os.cpu_count() < 2:
        sys.exit("bench: needs 2 CPUs (server on CPU 0, load on CPU 1)")
    if "kore" in args.server and not args.memory and (why := korebin.unusable()):
        print(why, flush=True)
        args.server.remove("kore")
    peer_bin = peerenv.ensure()
    scratch = Path(tempfile.mkdtemp(prefix="korepyd-bench-"))
    site = make_site(scratch, peer_bin)
    record = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "host": host(),
              "versions": versions(peer_bin), "settings": settings(args)}
    try:
        if args.memory:  # the hello world alone, then the bench app (its code names dbquery and websockets)
            hello = Site(scratch / "hello", peer_bin)
            shutil.copytree(BENCH / "korepyd_hello", hello.korepyd_dir, ignore=shutil.ignore_patterns("__pycache__"))
            record["memory"] = {}
            for name, where in (("hello", hello), ("bench app", site)):
                result = memcheck.run(where, scratch / f"memory-{name}.log", total=args.requests)
                print(memcheck.report(result, name))
                record["memory"][name] = result
        elif args.instructions:
            record["instructions"] = {}
            for name in args.scenario:
                with database(SCENARIOS[name], site) as skipped:
                    record["instructions"][name] = skipped or instructions.measure(SCENARIOS[name], args.server,
                                                                                    site, scratch)
        else:
            record["scenarios"] = {name: run_scenario(SCENARIOS[name], args, site, scratch)
                                   for name in args.scenario}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"raw results: {out.relative_to(ROOT)}")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=",".join(SCENARIOS), help="comma-separated: " + ",".join(SCENARIOS))
    parser.add_argument("--server", default=",".join(DEFAULT), help="comma-separated: " + ",".join(NAMES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s (a smoke test)")
    parser.add_argument("--memory", action="store_true", help="only the memory check of korepyd's worker")
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests of the memory check")
    parser.add_argument("--instructions", action="store_true",
                        help="instructions per request under valgrind instead of req/s (default: plain, json, route)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 3
    if args.instructions:
        args.scenario = args.scenario if args.scenario != parser.get_default("scenario") else "plain,json,route"
        args.server = args.server if args.server != parser.get_default("server") else "korepyd,uvicorn"
    args.scenario = _names(parser, args.scenario, SCENARIOS)
    args.server = _names(parser, args.server, NAMES)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def _names(parser, value: str, known) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        parser.error(f"unknown name(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(known)}")
    return names


def make_site(scratch: Path, peer_bin: Path) -> Site:
    directory = scratch / "korepyd"
    shutil.copytree(BENCH / "korepyd_app", directory, ignore=shutil.ignore_patterns("__pycache__"))
    site = Site(directory, peer_bin)
    site.static_dir.mkdir()
    (site.static_dir / STATIC_NAME).write_bytes(STATIC_BYTES)
    return site


def run_scenario(scenario: Scenario, args, site: Site, scratch: Path) -> dict:
    servers = serving(scenario.name, args.server)
    for name in args.server:
        if why := unsupported(scenario.name, name):
            print(f"  {scenario.name:<9} {name}: skipped ({why})")
    if not servers:
        print(f"\n{scenario.name}: skipped (no server named serves it)")
        return {"skipped": "no server for this scenario"}
    runs = []
    with database(scenario, site) as skipped:
        if skipped:
            return skipped
        for round_ in range(args.rounds):
            turn = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
            for name in turn:
                run = run_once(scenario, name, args.duration, site, scratch / f"{scenario.name}-{name}.log")
                run["round"] = round_ + 1
                runs.append(run)
                print(progress(scenario, run, args.rounds), flush=True)
    medians = summarize(runs, servers)
    print(table(scenario, medians, args))
    return {"runs": runs, "median": medians}


@contextlib.contextmanager
def database(scenario: Scenario, site: Site):
    """A throwaway PostgreSQL cluster in `site.db` while the scenario runs,
    if it needs one; yields None, or the record of a skip when no
    PostgreSQL can be started."""
    if not scenario.database:
        yield None
        return
    try:
        cluster = Cluster().start()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        reason = f"no PostgreSQL: {exc}"
        print(f"\n{scenario.name}: skipped ({reason})")
        yield {"skipped": reason}
        return
    site.db = cluster.conninfo
    try:
        pin_cluster(cluster)
        yield None
    finally:
        site.db = None
        cluster.remove()


def pin_cluster(cluster: Cluster) -> None:
    """Move PostgreSQL (the postmaster, its processes and the backends it
    will fork) to the load's CPU, so that CPU 0 is the server's alone."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    for pid in (postmaster, *descendants(postmaster)):
        subprocess.run(["taskset", "-a", "-p", "-c", loadgen.LOAD_CPU, str(pid)], check=True, capture_output=True)


def run_once(scenario: Scenario, name: str, seconds: int, site: Site, log_path: Path) -> dict:
    """Start, check, warm up, measure, stop: one server, one round."""
    run = {"server": name, "loadavg_1min": os.getloadavg()[0]}
    try:
        with Running(name, site, log_path, tls=scenario.tls) as server:
            run["server_command"] = server.command
            server.wait_ready(scenario.path)
            status, body = server.get(scenario.path)
            if not scenario.check(status, body):
                raise RuntimeError(f"wrong answer to {scenario.path}: {status} {body[:60]!r}")
            if scenario.refused and (status := server.get(scenario.refused)[0]) != 400:
                raise RuntimeError(f"{scenario.refused} answered {status}, not 400")
            if scenario.new_connections and not server.closes_after(scenario.path):
                raise RuntimeError(f"{scenario.path} with Connection: close: no answer, or the connection stayed open")
            load(scenario, server, site, WARMUP)
            result = load(scenario, server, site, seconds)
            result["load_command"] = result.pop("command")
            result["server_processes"] = 1 + len(server.descendants())
    except (RuntimeError, OSError) as exc:
        return {**run, "rate": None, "p50_ms": None, "p99_ms": None, "errors": [str(exc)]}
    return {**run, **result}


def load(scenario: Scenario, server: Running, site: Site, seconds: int) -> dict:
    if scenario.websocket:
        return loadgen.websocket(site.peer_bin / "python", server.port, seconds)
    headers = ("Connection: close",) if scenario.new_connections else ()
    return loadgen.wrk(server.url(scenario.path), seconds, headers=headers)


def summarize(runs: list[dict], servers: list[str]) -> dict:
    """Per server: the medians of its good rounds, and `ratios`, its rate over
    korepyd's round by round (each pair ran minutes apart at most, so the
    machine's drift between rounds cancels out)."""
    medians = {}
    good_runs = [r for r in runs if r["rate"] and not r["errors"]]
    korepyd = {r["round"]: r["rate"] for r in good_runs if r["server"] == "korepyd"}
    for name in servers:
        good = [r for r in good_runs if r["server"] == name]
        failed = [r for r in runs if r["server"] == name and r not in good]
        entry = {"rounds": len(good), "failed": len(failed)}
        if good:
            for key in ("rate", "p50_ms", "p99_ms"):
                values = [r[key] for r in good if r[key] is not None]
                entry[key] = statistics.median(values) if values else None
            entry["ratios"] = [r["rate"] / korepyd[r["round"]] for r in good if r["round"] in korepyd]
            if socket_errors := sum((Counter(r.get("socket_errors", {})) for r in good), Counter()):
                entry["socket_errors"] = dict(socket_errors)
        if failed:
            entry["error"] = failed[0]["errors"][0]
        medians[name] = entry
    return medians


def _socket_errors(counts: dict[str, int] | None) -> str:
    """wrk's socket errors, if any, as "  socket errors: read 3, timeout 1"."""
    return f"  socket errors: {', '.join(f'{k} {n:,}' for k, n in counts.items())}" if counts else ""


def progress(scenario: Scenario, run: dict, rounds: int) -> str:
    head = f"  {scenario.name:<9} round {run['round']}/{rounds}  {run['server']:<14}"
    if run["errors"]:
        return f"{head} FAILED: {'; '.join(run['errors'])[:160]}{_socket_errors(run.get('socket_errors'))}"
    return (f"{head} {run['rate']:>10,.0f} {scenario.unit}  p50 {_ms(run['p50_ms'])}  p99 {_ms(run['p99_ms'])}"
            f"{_socket_errors(run.get('socket_errors'))}")


def table(scenario: Scenario, medians: dict, args) -> str:
    """`vs korepyd` is the median of the round-by-round ratios, `rounds` their range."""
    lines = [f"\n{scenario.name} ({scenario.path}; median of {args.rounds} x {args.duration} s)",
             f"{'server':<14} {scenario.unit:>10} {'p50':>9} {'p99':>9} {'vs korepyd':>11} {'rounds':>12}"]
    for name, entry in medians.items():
        if not entry.get("rate"):
            lines.append(f"{name:<14} {'failed:':>10} {entry.get('error', '')[:90]}")
            continue
        ratios = entry["ratios"]
        ratio = f"{statistics.median(ratios):.2f}x" if ratios else "-"
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        note = f"  ({entry['failed']} failed round(s))" if entry["failed"] else ""
        note += _socket_errors(entry.get("socket_errors"))
        lines.append(f"{name:<14} {entry['rate']:>10,.0f} {_ms(entry['p50_ms'])} {_ms(entry['p99_ms'])} "
                     f"{ratio:>11} {spread:>12}{note}")
    if scenario.tls and "kore" in medians:
        lines.append("(kore on an RSA-2048 certificate, the only key type it loads; the others on ECDSA P-256)")
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return f"{value:6.2f} ms" if value is not None else f"{'-':>9}"


def settings(args) -> dict:
    return {"scenarios": args.scenario, "servers": args.server, "rounds": args.rounds, "duration_s": args.duration,
            "warmup_s": WARMUP, "wrk": f"-t1 -c{loadgen.CONNECTIONS} --latency",
            "websocket": f"{loadgen.WS_CONNECTIONS} connections, 32-byte binary messages, one in flight each",
            "https": "self-signed ECDSA P-256 certificate made per run (Kore: RSA-2048, the only key type it loads)",
            "newconn": 'wrk -H "Connection: close": a new TCP connection per request',
            "pinning": {"server": f"taskset -c {SERVER_CPU}", "load": f"taskset -c {loadgen.LOAD_CPU}"},
            "order": "interleaved rounds; the first server of each round rotates", "memory": args.memory,
            "instructions": args.instructions and {"valgrind": " ".join(instructions.VALGRIND),
                                                   "requests": [instructions.SMALL, instructions.LARGE],
                                                   "connections": instructions.CONNECTIONS},
            "postgresql": f"pinned with taskset -c {loadgen.LOAD_CPU}, beside the load"}


def host() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()}


def versions(peer_bin: Path) -> dict:
    def first_line(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except OSError as exc:
            return str(exc)
        return (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr).strip() else "?"

    found = {"korepyd": first_line([str(KOREPYD), "-v"]), "wrk": first_line(["wrk", "-v"])}
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "korepyd"], capture_output=True,
                           text=True).stdout.strip()
    found["korepyd_commit"] = commit + (" (korepyd/ modified)" if dirty else "")
    try:
        found["postgresql"] = first_line([_bin("postgres"), "--version"])
    except RuntimeError:
        found["postgresql"] = None
    found.update(peerenv.versions())
    found["kore"] = korebin.build_info() if korebin.unusable() is None else None
    return found


if __name__ == "__main__":
    sys.exit(main())

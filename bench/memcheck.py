"""The memory check (run.py --memory): korepyd serves the plain scenario
for a million requests (wrk, in runs of a few seconds) while the worker's
resident size (VmRSS of the child whose command line holds korepyd.worker)
is read at the start and after every run, with the live Python heap (the
blocks allocated after a full collection, which both bench apps answer at
/_heap). The report gives them at the start, after the first 100,000
requests, half way and at the end, and the growth from the 100,000 mark and
over the second half. A warming allocator grows the RSS a little at first
while the heap stays level; a leak raises both and keeps raising them."""

from __future__ import annotations

import math
from pathlib import Path

import loadgen
from servers import Running, Site


def worker_pid(server: Running) -> int:
    for pid in server.descendants():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"korepyd.worker" in cmdline:
            return pid
    raise RuntimeError("no korepyd.worker process under the korepyd parent")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def run(site: Site, log_path: Path, total: int = 1_000_000, first: int = 100_000) -> dict:
    with Running("korepyd", site, log_path) as server:
        server.wait_ready("/")
        pid = worker_pid(server)
        samples = [sample(server, pid, 0)]
        done, seconds, commands = 0, 2, []
        while done < total:
            result = loadgen.wrk(server.url("/"), seconds)
            commands.append(result["command"])
            problems = result["errors"] + ([f"socket errors {result['socket_errors']}"] if result["socket_errors"] else [])
            if problems or not result["count"]:
                raise RuntimeError(f"wrk: {'; '.join(problems) or 'no requests'}")
            done += int(result["count"])
            samples.append(sample(server, pid, done))
            target = next((mark for mark in (first, total // 2, total) if mark > done), total)
            seconds = min(3, max(1, math.ceil((target - done) / result["rate"])))
        if worker_pid(server) != pid:
            raise RuntimeError("the korepyd worker was replaced during the check")
    marks = milestones(samples, first)
    return {"worker_pid": pid, "samples": samples, "growth_kib": marks[-1]["rss_kib"] - marks[1]["rss_kib"],
            "second_half_growth_kib": marks[-1]["rss_kib"] - marks[2]["rss_kib"],
            "server_command": server.command, "load_commands": commands}


def sample(server: Running, pid: int, requests: int) -> dict:
    status, body = server.get("/_heap")
    if status != 200:
        raise RuntimeError(f"/_heap answered {status} {body[:60]!r}")
    return {"requests": requests, "rss_kib": rss_kib(pid), "heap_blocks": int(body)}


def milestones(samples: list[dict], first: int) -> list[dict]:
    """The samples at the start, at the first past `first` requests, at the
    first past half the total, and at the end."""
    end = samples[-1]
    after = next(s for s in samples if s["requests"] >= first)
    half = next(s for s in samples if s["requests"] >= end["requests"] // 2)
    return [samples[0], after, half, end]


def report(result: dict, app: str, first: int = 100_000) -> str:
    samples = result["samples"]
    marks = milestones(samples, first)
    lines = [f"memory: korepyd worker, plain scenario, {app}    RSS   live Python heap",
             f"  at start                  {marks[0]['rss_kib'] / 1024:8.1f} MiB {marks[0]['heap_blocks']:>9,} blocks"]
    lines += [f"  after {s['requests']:>9,} requests {s['rss_kib'] / 1024:8.1f} MiB {s['heap_blocks']:>9,} blocks"
              for s in marks[1:]]
    for label, since, growth in (("the 100k sample", marks[1], result["growth_kib"]),
                                 ("the half-way sample", marks[2], result["second_half_growth_kib"])):
        per_request = growth * 1024 / max(1, marks[3]["requests"] - since["requests"])
        lines.append(f"  RSS growth from {label} to the end: {growth:+,} KiB ({per_request:+.2f} bytes/request)")
    later = [s["heap_blocks"] for s in samples[samples.index(marks[1]):]]
    lines.append(f"  live heap from the 100k sample to the end: {marks[3]['heap_blocks'] - marks[1]['heap_blocks']:+,} "
                 f"blocks (every sample from it on: {min(later):,} to {max(later):,})")
    return "\n".join(lines)

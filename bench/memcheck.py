"""The memory check (run.py --memory): korepyd serves the plain scenario
for a million requests (wrk, in runs of a few seconds) while the worker's
resident size (VmRSS of the child whose command line holds korepyd.worker)
is read at the start and after every run. The report gives it at the
start, after the first 100,000 requests, half way and at the end, and the
growth from the 100,000 mark and over the second half (a warming
allocator grows a little at first; a leak keeps growing)."""

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
        samples = [{"requests": 0, "rss_kib": rss_kib(pid)}]
        done, seconds, commands = 0, 2, []
        while done < total:
            result = loadgen.wrk(server.url("/"), seconds)
            commands.append(result["command"])
            if result["errors"] or not result["count"]:
                raise RuntimeError(f"wrk: {'; '.join(result['errors']) or 'no requests'}")
            done += int(result["count"])
            samples.append({"requests": done, "rss_kib": rss_kib(pid)})
            target = next((mark for mark in (first, total // 2, total) if mark > done), total)
            seconds = min(10, max(1, math.ceil((target - done) / result["rate"])))
        if worker_pid(server) != pid:
            raise RuntimeError("the korepyd worker was replaced during the check")
    marks = milestones(samples, first)
    return {"worker_pid": pid, "samples": samples, "growth_kib": marks[-1]["rss_kib"] - marks[1]["rss_kib"],
            "second_half_growth_kib": marks[-1]["rss_kib"] - marks[2]["rss_kib"],
            "server_command": server.command, "load_commands": commands}


def milestones(samples: list[dict], first: int) -> list[dict]:
    """The samples at the start, at the first past `first` requests, at the
    first past half the total, and at the end."""
    end = samples[-1]
    after = next(s for s in samples if s["requests"] >= first)
    half = next(s for s in samples if s["requests"] >= end["requests"] // 2)
    return [samples[0], after, half, end]


def report(result: dict, app: str, first: int = 100_000) -> str:
    marks = milestones(result["samples"], first)
    lines = [f"memory: korepyd worker RSS, plain scenario, {app}",
             f"  at start                  {marks[0]['rss_kib'] / 1024:8.1f} MiB"]
    lines += [f"  after {s['requests']:>9,} requests {s['rss_kib'] / 1024:8.1f} MiB" for s in marks[1:]]
    for label, since, growth in (("the 100k sample", marks[1], result["growth_kib"]),
                                 ("the half-way sample", marks[2], result["second_half_growth_kib"])):
        per_request = growth * 1024 / max(1, marks[3]["requests"] - since["requests"])
        lines.append(f"  growth from {label} to the end: {growth:+,} KiB ({per_request:+.2f} bytes/request)")
    return "\n".join(lines)

"""The memory check (run.py --memory): korepyd serves the plain scenario
for a million requests (wrk, in runs of a few seconds) while the worker's
resident size (VmRSS of the child whose command line holds korepyd.worker)
is read at the start, after the first 100,000 requests and at the end."""

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
            if len(samples) == 1 and done >= first:
                samples.append({"requests": done, "rss_kib": rss_kib(pid)})
            target = first if len(samples) == 1 else total
            seconds = min(10, max(1, math.ceil((target - done) / result["rate"])))
        samples.append({"requests": done, "rss_kib": rss_kib(pid)})
        if worker_pid(server) != pid:
            raise RuntimeError("the korepyd worker was replaced during the check")
    return {"worker_pid": pid, "samples": samples, "growth_kib": samples[-1]["rss_kib"] - samples[1]["rss_kib"],
            "server_command": server.command, "load_commands": commands}


def report(result: dict, app: str) -> str:
    start, after, end = result["samples"]
    growth = result["growth_kib"]
    return "\n".join([
        f"memory: korepyd worker RSS, plain scenario, {app}",
        f"  at start                  {start['rss_kib'] / 1024:8.1f} MiB",
        f"  after {after['requests']:>9,} requests {after['rss_kib'] / 1024:8.1f} MiB",
        f"  after {end['requests']:>9,} requests {end['rss_kib'] / 1024:8.1f} MiB",
        f"  growth from the 100k sample to the end: {growth:+,} KiB "
        f"({growth * 1024 / max(1, end['requests'] - after['requests']):+.2f} bytes/request)",
    ])

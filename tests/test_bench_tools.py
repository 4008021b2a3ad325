"""The micro-benchmarks still run against the code they measure (a smoke
test: every response counted; no figure is judged here)."""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("scenario", ["plain", "route"])
def test_path_benchmark_runs(scenario):
    done = subprocess.run([sys.executable, str(BENCH / "path.py"), "--scenario", scenario, "--requests", "2000",
                           "--rounds", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{scenario}: ") and "us per request" in done.stdout


def test_parser_benchmark_runs():
    done = subprocess.run([sys.executable, str(BENCH / "parser.py"), "--seconds", "0.05", "--rounds", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "korepyd req/s" in done.stdout


def test_memory_report_reads_its_milestones():
    sys.path.insert(0, str(BENCH))
    try:
        import memcheck
    finally:
        sys.path.remove(str(BENCH))
    samples = [{"requests": n, "rss_kib": kib, "heap_blocks": blocks} for n, kib, blocks in
               ((0, 25_000, 90_000), (60_000, 25_400, 99_000), (120_000, 25_600, 104_000),
                (480_000, 25_700, 108_500), (530_000, 25_800, 103_000), (1_010_000, 25_800, 105_000))]
    marks = memcheck.milestones(samples, 100_000)
    assert [m["requests"] for m in marks] == [0, 120_000, 530_000, 1_010_000]
    result = {"samples": samples, "growth_kib": 200, "second_half_growth_kib": 0}
    text = memcheck.report(result, "hello")
    assert "after   120,000 requests     25.0 MiB   104,000 blocks" in text
    assert "RSS growth from the 100k sample to the end: +200 KiB (+0.23 bytes/request)" in text
    assert "RSS growth from the half-way sample to the end: +0 KiB (+0.00 bytes/request)" in text
    assert "live heap from the 100k sample to the end: +1,000 blocks (every sample from it on: 103,000 to 108,500)" in text


def test_ratios_pair_each_round_with_korepyds():
    """A machine that halves its speed in round 2 leaves the ratios alone;
    a round korepyd failed has no ratio."""
    sys.path.insert(0, str(BENCH))
    try:
        import run
    finally:
        sys.path.remove(str(BENCH))

    def result(server, round_, rate):
        return {"server": server, "round": round_, "rate": rate, "p50_ms": 1.0, "p99_ms": 2.0,
                "errors": [] if rate else ["wrong answer"]}

    runs = [result("korepyd", 1, 40_000), result("uvicorn", 1, 44_000),
            result("korepyd", 2, 20_000), result("uvicorn", 2, 18_000),
            result("korepyd", 3, 40_000), result("uvicorn", 3, 48_000),
            result("korepyd", 4, None), result("uvicorn", 4, 10_000)]
    summary = run.summarize(runs, ["korepyd", "uvicorn"])
    assert summary["uvicorn"]["ratios"] == [1.1, 0.9, 1.2]
    assert summary["korepyd"] == {"rounds": 3, "failed": 1, "rate": 40_000, "p50_ms": 1.0, "p99_ms": 2.0,
                                  "ratios": [1.0, 1.0, 1.0], "error": "wrong answer"}
    lines = run.table(run.SCENARIOS["plain"], summary, argparse.Namespace(rounds=4, duration=10)).splitlines()
    assert lines[-1].split() == ["uvicorn", "31,000", "1.00", "ms", "2.00", "ms", "1.10x", "0.90-1.20"]
    assert lines[-2].split()[-4:] == ["1.00-1.00", "(1", "failed", "round(s))"]


@pytest.mark.parametrize("kind", ["h11", "raw"])
def test_trio_reference_loops_answer(kind):
    """bench/peers/trio_refs.py: two keep-alive requests on one connection, then a clean stop."""
    import http.client
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(BENCH / "peers" / "trio_refs.py"), kind, str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.connect()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the reference loop did not start"
                time.sleep(0.05)
        for _ in range(2):
            conn.request("GET", "/")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"Hello, World!")
            assert response.getheader("server") == f"trio-{kind}"
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_korepyd_pure_runs_the_request_path_uncompiled(tmp_path):
    """The bench's korepyd-pure server is korepyd with the compiled path off; korepyd has it on."""
    sys.path.insert(0, str(BENCH))
    try:
        import servers
    finally:
        sys.path.remove(str(BENCH))
    site = servers.Site(tmp_path, tmp_path)
    (tmp_path / "kore.conf").write_text("server default {\n\tbind 127.0.0.1 8888\n}\n")
    assert servers.command("korepyd-pure", 1, site)[2]["KOREPYD_NO_EXTENSIONS"] == "1"
    assert servers.command("korepyd", 1, site)[2]["KOREPYD_NO_EXTENSIONS"] == ""
    assert "korepyd-pure" in servers.NAMES and "korepyd-pure" not in servers.DEFAULT


def _bench_module(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(BENCH))


def test_instruction_count_takes_the_answering_process(tmp_path):
    """korepyd's workers (fork+exec `-m korepyd.worker`) are counted, not
    its supervisor; of a peer's processes, the busiest; none is an error."""
    instructions = _bench_module("instructions")

    def dump(pid, command, total):
        (tmp_path / f"callgrind.{pid}").write_text(f"# callgrind format\ncmd: {command}\nevents: Ir\n"
                                                   f"fn=main\n0 {total}\ntotals: {total}\n")

    dump(10, "/venv/bin/python /venv/bin/korepyd -c kore.conf", 9_000_000)
    dump(11, "/venv/bin/python -m korepyd.worker 1", 5_000_000)
    assert instructions.answering_process(tmp_path) == 5_000_000
    dump(12, "/venv/bin/python -m korepyd.worker 2", 1_000)
    assert instructions.answering_process(tmp_path) == 5_001_000
    peer = tmp_path / "peer"
    peer.mkdir()
    (tmp_path / "callgrind.10").rename(peer / "callgrind.10")
    assert instructions.answering_process(peer) == 9_000_000
    (tmp_path / "callgrind.11").rename(peer / "callgrind.11")
    (peer / "callgrind.11").write_text((peer / "callgrind.11").read_text().replace("-m korepyd.worker 1", "app"))
    assert instructions.answering_process(peer) == 9_000_000
    (peer / "callgrind.10").write_text((peer / "callgrind.10").read_text().replace("9000000", "9"))
    assert instructions.answering_process(peer) == 5_000_000
    with pytest.raises(SystemExit, match="no process's counts"):
        instructions.answering_process(tmp_path / "nothing")


def test_instruction_count_drives_exactly_the_requests_it_says():
    """drive() makes `requests` keep-alive GETs, no more, and fails on a
    non-200 or an answer the scenario's check refuses."""
    import http.server
    import threading
    instructions = _bench_module("instructions")
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            seen.append(self.path)
            status = 200 if self.path == "/ok" else 404
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"hi")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        instructions.drive(server.server_address[1], "/ok", 4 * instructions.CONNECTIONS,
                           lambda status, body: body == b"hi")
        assert seen == ["/ok"] * 4 * instructions.CONNECTIONS
        with pytest.raises(SystemExit, match="answered 200 b'hi'"):
            instructions.drive(server.server_address[1], "/ok", instructions.CONNECTIONS,
                               lambda status, body: body == b"hello")
        with pytest.raises(SystemExit, match="answered 404"):
            instructions.drive(server.server_address[1], "/missing", instructions.CONNECTIONS)
    finally:
        server.shutdown()
        server.server_close()


def test_reference_loops_serve_the_plain_scenario_only():
    servers = _bench_module("servers")
    names = ["korepyd", "trio-h11", "uvicorn", "trio-raw"]
    assert servers.serving("plain", names) == names
    assert servers.serving("json", names) == ["korepyd", "uvicorn"]

"""The micro-benchmarks still run against the code they measure (a smoke
test: every response counted; no figure is judged here)."""

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
    assert "llhttp" in done.stdout

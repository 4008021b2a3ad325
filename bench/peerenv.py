"""The virtualenv of the benchmark's peers, .venv-bench at the top of the
tree: created and filled from bench/requirements.txt the first time, and
again only when that file changes (a stamp named after its hash)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
BIN = VENV / "bin"
REQUIREMENTS = ROOT / "bench" / "requirements.txt"


def ensure() -> Path:
    """Make sure .venv-bench holds the pinned peers; return its bin/."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return BIN
    print(f"==> installing the peers in {VENV.name} (bench/requirements.txt)", flush=True)
    if not (BIN / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return BIN


def versions() -> dict[str, str]:
    """The installed versions of the peers and what they run on."""
    names = [line.split("==")[0].split("[")[0] for line in REQUIREMENTS.read_text().splitlines()
             if line and not line.startswith("#")]
    script = ("import importlib.metadata as m, json, sys; "
              "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    out = subprocess.run([str(BIN / "python"), "-c", script, *names], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)

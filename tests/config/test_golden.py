"""Golden files: each tests/config/golden/NAME.conf beside NAME.json, the
model it must produce (settings that differ from the defaults, then every
block) and the diagnostics, one rendered headline each.

The files run with the golden directory as the working directory, as a
kore.conf runs from its own directory, and with a fixed environment. After a
deliberate change, `make golden` rewrites the .json files: read the diff.
"""

import json
import os
from pathlib import Path

import pytest

from korepyd import config
from korepyd.config.dump import to_data
from korepyd.errors import ConfigError

GOLDEN = Path(__file__).parent / "golden"
ENV = {"KORE_WORKERS": "3", "KORE_BIND": "127.0.0.1 9001", "KORE_SERVER_NAME": "korepyd test"}
CASES = sorted(GOLDEN.glob("*.conf"))


def outcome(path: Path) -> dict:
    try:
        loaded = config.load(path.name, env=ENV)
    except ConfigError as exc:
        return {"model": None, "diagnostics": [d.headline() for d in exc.diagnostics]}
    return {"model": to_data(loaded.config), "diagnostics": [d.headline() for d in loaded.warnings]}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path, monkeypatch):
    monkeypatch.chdir(GOLDEN)
    got = outcome(path)
    expected_file = path.with_suffix(".json")
    if os.environ.get("KOREPYD_BLESS"):
        expected_file.write_text(json.dumps(got, indent=2) + "\n")
    assert expected_file.exists(), f"no {expected_file.name}: run `make golden` and review it"
    assert got == json.loads(expected_file.read_text())


def test_there_are_golden_files():
    assert len(CASES) >= 10


def test_every_directive_has_a_golden_case():
    from korepyd.config.directives import TABLE
    from korepyd.config.grammar import parse_lines

    used = set()
    for path in GOLDEN.rglob("*.conf"):
        text = path.read_text().replace("\r\n", "\n")
        used.update(line.keyword for line in parse_lines(text, path.name) if line.words)
    assert sorted(set(TABLE) - used) == []

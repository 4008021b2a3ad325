"""man/kore.conf.5 is generated from the directive table and must match it;
the page passes mandoc's lint (.ci/run installs mandoc)."""

import shutil
import subprocess
from pathlib import Path

from korepyd.config import directives, manpage

MAN = Path(__file__).resolve().parent.parent / "man"
PAGE = MAN / "kore.conf.5"


def test_committed_page_matches_the_directive_table():
    assert PAGE.read_text() == manpage.render(), "man/kore.conf.5 is stale: run `make man`"


def test_every_directive_is_documented():
    text = PAGE.read_text()
    missing = [name for name in directives.TABLE if f".It Ic {name}" not in text]
    assert missing == []


def test_mandoc_lint_is_clean():
    mandoc = shutil.which("mandoc")
    assert mandoc, "mandoc is not installed (.ci/run installs it)"
    for page in (PAGE, MAN / "korepyd.8"):
        done = subprocess.run([mandoc, "-T", "lint", "-W", "warning", str(page)], capture_output=True, text=True)
        assert done.stdout + done.stderr == "", page.name

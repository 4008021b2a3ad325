"""The protocol packages are sans-IO: they never import trio (DESIGN.md)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "korepyd"
SANS_IO = ["config", "http", "websocket", "ipc", "tls"]
FORBIDDEN = {"trio", "psycopg"}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("package", SANS_IO)
def test_sans_io_packages_do_not_import_trio(package):
    files = sorted((PACKAGE / package).rglob("*.py"))
    for path in files:
        bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_only_grammar_imports_lark():
    users = [p.name for p in PACKAGE.rglob("*.py") if any(m.split(".")[0] == "lark" for m in imported_modules(p))]
    assert users == ["grammar.py"]

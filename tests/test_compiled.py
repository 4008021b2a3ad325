"""The compiled request path (korepyd/compiled.py, setup.py): `make test`
builds it and runs the suite once with it and once pure Python
(KOREPYD_NO_EXTENSIONS=1); an edited source never runs as its stale
extension."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import korepyd
from korepyd import compiled

ROOT = Path(__file__).resolve().parent.parent

WHICH = ("import json, sys, korepyd.compiled as c;"
         "files = {name: __import__(name, fromlist=['_']).__file__ for name in c.HOT_PATH};"
         "print(json.dumps({'files': files, 'summary': c.summary()}))")


def run_which(top: Path, **env) -> dict:
    """In a fresh interpreter with `top` first on the path: each hot module's file."""
    import json

    done = subprocess.run([sys.executable, "-c", WHICH], cwd=top, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(top), **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_pass_of_make_test_runs_the_request_path_it_says():
    """The first pass: `make build` ran and every hot module is its extension.
    The second (KOREPYD_NO_EXTENSIONS=1): every hot module is its source."""
    for name in compiled.HOT_PATH:
        module = __import__(name, fromlist=["_"])
        assert module.__name__ == name
        if compiled.disabled():
            assert Path(module.__file__) == compiled.source_of(name), name
        else:
            assert Path(module.__file__).parent == compiled.DIRECTORY, (
                f"{name} is not compiled: `make build` (needs gcc and python3-dev)")
    if compiled.disabled():
        assert compiled.summary() == f"request path pure Python: disabled ({compiled.DISABLE})"
    else:
        assert compiled.summary() == "request path compiled"


HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not by C


def declared_classes() -> list[type]:
    """The classes the hot path's .pxd files turn into extension types."""
    found = []
    for name in compiled.HOT_PATH:
        declarations = compiled.source_of(name).with_suffix(".pxd")
        if declarations.exists():
            module = __import__(name, fromlist=["_"])
            found += [getattr(module, cls) for cls in re.findall(r"^cdef class (\w+)", declarations.read_text(), re.M)]
    return found


def test_the_declared_classes_are_extension_types_when_compiled():
    classes = declared_classes()
    assert len(classes) >= 6
    for cls in classes:
        assert bool(cls.__flags__ & HEAP_TYPE) == compiled.disabled(), cls


@pytest.fixture
def tree(tmp_path):
    """A copy of korepyd/ with its extensions, to edit."""
    if not (compiled.DIRECTORY / compiled.MANIFEST).is_file():
        pytest.fail("no compiled build to copy: `make build` (needs gcc and python3-dev)")
    shutil.copytree(Path(korepyd.__file__).parent, tmp_path / "korepyd", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_an_edited_source_runs_as_python_not_as_its_stale_extension(tree):
    router = tree / "korepyd/core/router.py"
    router.write_text(router.read_text() + "\nEDITED = True\n")
    found = run_which(tree, KOREPYD_NO_EXTENSIONS="")
    assert found["files"]["korepyd.core.router"] == str(router)
    others = {name: file for name, file in found["files"].items() if name != "korepyd.core.router"}
    assert all(Path(file).parent == tree / "korepyd/_compiled" for file in others.values()), others
    assert found["summary"] == ("request path compiled in part: "
                                "korepyd.core.router stale (source changed since the build)")


def test_an_edited_declaration_file_counts_as_an_edited_source(tree):
    declarations = tree / "korepyd/http1/connection.pxd"
    declarations.write_text(declarations.read_text() + "# edited\n")
    found = run_which(tree, KOREPYD_NO_EXTENSIONS="")
    assert found["files"]["korepyd.http1.connection"] == str(tree / "korepyd/http1/connection.py")
    assert found["summary"] == ("request path compiled in part: "
                                "korepyd.http1.connection stale (source changed since the build)")


def test_no_manifest_no_extensions(tree):
    (tree / "korepyd/_compiled" / compiled.MANIFEST).unlink()
    found = run_which(tree, KOREPYD_NO_EXTENSIONS="")
    assert all(Path(file).suffix == ".py" for file in found["files"].values()), found
    assert found["summary"] == "request path pure Python: not built"


def test_the_switch_wins_over_a_good_build(tree):
    found = run_which(tree, KOREPYD_NO_EXTENSIONS="1")
    assert all(Path(file).suffix == ".py" for file in found["files"].values()), found


def test_the_finder_answers_only_for_the_hot_path():
    finder = compiled.CompiledFinder()
    assert finder.find_spec("korepyd.http1.grammar") is None
    assert finder.find_spec("json") is None


def test_checksum_tells_an_edit(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    before = compiled.checksum(source)
    source.write_text("x = 2\n")
    assert compiled.checksum(source) != before
    source.write_text("x = 1\n")
    assert compiled.checksum(source) == before
    declarations = tmp_path / "m.pxd"
    declarations.write_text("cdef class C:\n    pass\n")
    assert compiled.checksum(source, declarations) not in (before, compiled.checksum(declarations))


def test_setup_builds_pure_python_without_a_compiler(tmp_path):
    """No C compiler: the build says why and succeeds; nothing is left to load."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        "__pycache__", ".venv*", "build", "_compiled", ".git", ".hypothesis", "bench", "tests"))
    done = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=copy,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "CC": "/bin/false"})
    assert done.returncode == 0, done.stderr
    assert "korepyd: the compiled request path is not built (" in done.stderr
    assert "korepyd runs as pure Python" in done.stderr
    assert not (copy / "korepyd/_compiled" / compiled.MANIFEST).exists()

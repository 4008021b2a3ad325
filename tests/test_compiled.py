"""The compiled request path (korepyd/compiled.py, setup.py): `make test`
builds it and runs the suite once with it and once pure Python
(KOREPYD_NO_EXTENSIONS=1); an edited source never runs as its stale
extension."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import korepyd
from korepyd import compiled, declarations

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
    """The classes the hot path's declarations turn into extension types."""
    found = []
    for name in compiled.HOT_PATH:
        text = declarations.pxd(compiled.source_of(name).read_text())
        module = __import__(name, fromlist=["_"])
        found += [getattr(module, cls) for cls in re.findall(r"^cdef class (\w+)", text, re.M)]
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


# Runs in both builds; prints every C field of objects made through their public
# constructors and an engine's request cycle, with truthy values that are not bools.
TYPED_FIELDS = """
from korepyd.core.reply import Reply
from korepyd.http1.connection import HttpConnection
from korepyd.http1.response import HeadPolicy, ResponseHead
from korepyd.http1.rules import Limits
head = ResponseHead(HeadPolicy(b"korepyd", 5), [], "yes", [0], 12, b"date")
reply = Reply(None, None, None, "yes", 1)
conn = HttpConnection(Limits())
conn.receive_data(b"POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 2\\r\\nExpect: 100-continue\\r\\n\\r\\nab")
events = [type(conn.next_event()).__name__ for _ in range(3)]
print(repr((head._keep_alive, head._tls, head.close, reply.tls, reply.head_only, events,
            conn._closed, conn._keep_alive, conn._waiting_100, conn._body_size)))
"""


def test_the_c_fields_hold_what_the_pure_path_holds(tree):
    """A bint field stores True for "yes" where a slot stores "yes": the
    sources give such fields only bools, and both builds agree."""
    outputs = []
    for disabled in ("", "1"):
        done = subprocess.run([sys.executable, "-c", TYPED_FIELDS], cwd=tree, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(tree), "KOREPYD_NO_EXTENSIONS": disabled})
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert "'RequestHead', 'BodyData', 'EndOfRequest'" in outputs[0] and "True, True, False" in outputs[0]


GENERATOR_INPUT = '''
class Conn(list):
    _open: bool
    _size: int
    name: str
    __slots__ = ("name", "_open", "_size", "__dict__")

    def _step(self, data: bytes, final: bool = False):  # cpdef
        value: bytes
        return data

    def step(self, data):
        return self._step(data)


def helper(a, b=1):  # cpdef
    return a


def plain(a):
    return a
'''


def test_declarations_come_from_the_source():
    assert declarations.pxd(GENERATOR_INPUT) == (
        "cimport cython\n\n"
        "cdef class Conn(list):\n"
        "    cdef dict __dict__\n"
        "    cdef public object name\n"
        "    cdef public bint _open\n"
        "    cdef public Py_ssize_t _size\n"
        "    @cython.locals(value=bytes)\n"
        "    cpdef _step(self, bytes data, bint final=*)\n"
        "\n"
        "cpdef helper(a, b=*)\n")
    with pytest.raises(ValueError, match="positional parameters only"):
        declarations.pxd("def f(*args):  # cpdef\n    pass\n")


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


def test_a_build_without_a_compiler_is_pure_python(tmp_path):
    """No C compiler: pip's build says why and succeeds; the wheel holds no extension."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        "__pycache__", ".venv*", "build", "_compiled", ".git", ".hypothesis", "bench", "tests"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                           "--disable-pip-version-check", "-w", str(tmp_path / "dist"), "."], cwd=copy,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "CC": "/bin/false"})
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "korepyd: the compiled request path is not built (" in said and "korepyd runs as pure Python" in said
    (wheel,) = (tmp_path / "dist").glob("korepyd-*.whl")
    with zipfile.ZipFile(wheel) as files:
        names = files.namelist()
    assert any(name.endswith("korepyd/http1/connection.py") for name in names), names
    assert not [name for name in names if name.endswith(".so") or "_compiled" in name], names

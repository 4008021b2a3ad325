"""What a worker imports: psycopg, wsproto and lark only when needed, and
the app scan that decides it before a chroot."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("psycopg", "wsproto", "lark", "asyncio")


def run(code: str, cwd: Path = ROOT) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_worker_imports_none_of_the_heavy_optional_parts():
    out = run(f"""
        import sys
        import korepyd.worker, korepyd.kore, korepyd.worker.dispatch
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    assert out == "[]"


def write_app(tmp_path: Path, source: str) -> None:
    (tmp_path / "myapp.py").write_text(textwrap.dedent(source))


def preload_report(tmp_path: Path, chroot: bool) -> str:
    return run(f"""
        import sys
        import korepyd.app; korepyd.app.install_kore()  # as in a worker
        import myapp
        from korepyd.worker import preload
        preload.run({chroot})
        print(sorted(m for m in ("psycopg", "wsproto") if m in sys.modules))
    """, cwd=tmp_path)


def test_chrooted_worker_loads_what_the_app_names(tmp_path):
    write_app(tmp_path, """
        import kore

        class Page:
            async def get(self, req):
                return await kore.dbquery("db", "SELECT 1")
    """)
    assert preload_report(tmp_path, chroot=True) == "['psycopg']"
    assert preload_report(tmp_path, chroot=False) == "[]"


def test_names_found_in_nested_code_and_aliases(tmp_path):
    write_app(tmp_path, """
        from kore import dbsetup as setup_database

        def outer(req):
            def inner():
                req.websocket_handshake("a", "b", "c")
            return inner
    """)
    assert preload_report(tmp_path, chroot=True) == "['psycopg', 'wsproto']"


def test_an_app_without_them_loads_neither(tmp_path):
    write_app(tmp_path, """
        def hello(req):
            req.response(200, b"hello")
    """)
    assert preload_report(tmp_path, chroot=True) == "[]"


def test_an_import_that_fails_later_says_why():
    out = run("""
        import sys
        sys.modules["korepyd.worker.pgsql"] = None   # as after a chroot: the import fails
        from korepyd.worker.preload import optional
        try:
            optional("korepyd.worker.pgsql")
        except RuntimeError as exc:
            print(exc)
    """)
    assert "cannot be imported after the chroot" in out and "dbquery" in out

"""What a worker imports: psycopg, wsproto and lark only when needed, the
app scan that decides it before a chroot, and the modules trio imports
that run only when used (worker/deferred.py)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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
        import korepyd.worker, korepyd.kore, korepyd.core.dispatch
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
        preload.run({chroot}, runas=False)
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


DEFERRED_STATE = """
    import sys
    from korepyd.worker import deferred
    def state():
        return sorted(n for n in ("ssl", "hmac", "hashlib", "idna", "_ssl", "_hashlib")
                      if n in sys.modules and n not in deferred.pending())
"""


def test_a_plain_worker_runs_none_of_the_deferred_modules():
    out = run(DEFERRED_STATE + """
    import korepyd.worker, korepyd.kore, korepyd.core.dispatch, korepyd.worker.serve
    import ssl, hashlib                      # a second import finds the deferred module
    print(state(), deferred.pending())
    """)
    assert out == "[] ['hashlib', 'hmac', 'idna', 'ssl']"


def test_a_deferred_module_runs_on_first_use():
    out = run(DEFERRED_STATE + """
    import korepyd.worker, trio
    print(trio.socket.getaddrinfo is not None, state())
    print(len(__import__("hashlib").sha256(b"x").hexdigest()), state())
    from ssl import SSLContext                # a from-import reads the name
    print(SSLContext.__name__, state(), deferred.pending())
    """)
    lines = out.splitlines()
    assert lines[0] == "True []"
    assert lines[1] == "64 ['_hashlib', 'hashlib']"
    assert lines[2] == "SSLContext ['_hashlib', '_ssl', 'hashlib', 'ssl'] ['hmac', 'idna']"


def test_trio_uses_the_deferred_ssl():
    out = run(DEFERRED_STATE + """
    import korepyd.worker, trio, trio.socket

    async def main():
        infos = await trio.socket.getaddrinfo("localhost", 80, type=trio.socket.SOCK_STREAM)
        ctx = __import__("ssl").create_default_context()
        return bool(infos), type(ctx).__name__

    print(trio.run(main), state())
    """)
    assert out == "(True, 'SSLContext') ['_ssl', 'ssl']"   # idna: only for a host name that is not ASCII


@pytest.mark.parametrize("source, still_deferred", [
    ("def hello(req):\n    req.response(200, b'hello')\n", "['hashlib', 'hmac', 'idna', 'ssl']"),
    ("import hashlib\n", "['hmac', 'idna', 'ssl']"),                      # held by the app
    ("def f():\n    import ssl\n    return ssl\n", "['hashlib', 'hmac', 'idna']"),  # named in its code
    ("import kore\nasync def f():\n    await kore.httpclient('https://x')\n", "['hashlib', 'hmac']"),
    ("def f(req):\n    return req.body_digest\n", "['hmac', 'idna', 'ssl']"),
    ("def f(req):\n    req.websocket_handshake('a', 'b', 'c')\n", "['hmac', 'idna', 'ssl']"),  # wsproto's hashlib
    ("import secrets\n", "['idna', 'ssl']"),                            # secrets holds hmac, hmac hashlib
])
def test_a_worker_that_drops_privileges_runs_what_it_may_need(tmp_path, source, still_deferred):
    write_app(tmp_path, source)
    for chroot, runas in ((True, False), (False, True)):
        out = run(f"""
            import korepyd.worker
            import korepyd.app; korepyd.app.install_kore()  # as in a worker: after korepyd.worker
            import myapp
            from korepyd.worker import deferred, preload
            preload.run({chroot}, runas={runas})
            print(deferred.pending())
        """, cwd=tmp_path)
        assert out == still_deferred, (chroot, runas)


def test_a_worker_that_keeps_its_privileges_runs_none(tmp_path):
    write_app(tmp_path, "import hashlib\nimport secrets\n")
    out = run("""
        import korepyd.worker, korepyd.app; korepyd.app.install_kore()
        from korepyd.worker import deferred, preload
        deferred.defer(("json",))               # the standard library's preload would run it
        import myapp                            # secrets reads hmac.compare_digest: hmac runs
        preload.run(False, runas=False)
        print(deferred.pending())
    """, cwd=tmp_path)
    assert out == "['hashlib', 'idna', 'json', 'ssl']"


def test_a_module_that_fails_to_load_stays_deferred_and_says_why(tmp_path):
    (tmp_path / "broken.py").write_text("raise ImportError('the file is out of reach')\n")
    out = run("""
        from korepyd.worker import deferred
        deferred.defer(("broken",))
        import broken
        for _ in range(2):
            try:
                broken.anything
            except ImportError as exc:
                print(exc, "broken" in deferred.pending())
            deferred.why_unreachable = " (the worker dropped privileges: korepyd/worker/preload.py)"
    """, cwd=tmp_path)
    first, second = out.splitlines()
    assert first == "module 'broken' cannot run: the file is out of reach True"
    assert second.startswith("module 'broken' cannot run: the file is out of reach (the worker dropped privileges")
    assert "korepyd/worker/preload.py" in second and second.endswith(" True")


def test_a_dropped_tls_worker_runs_ssl(tmp_path):
    write_app(tmp_path, "def hello(req):\n    pass\n")
    out = run("""
        import korepyd.worker, korepyd.app; korepyd.app.install_kore()
        import myapp
        from korepyd.worker import deferred, preload
        preload.run(True, runas=True, tls=True)
        print(deferred.pending())
    """, cwd=tmp_path)
    assert out == "['hashlib', 'hmac', 'idna']"


def test_two_threads_run_a_deferred_module_once(tmp_path):
    (tmp_path / "slow.py").write_text("import builtins, time\n"
                                      "builtins.slow_runs = getattr(builtins, 'slow_runs', 0) + 1\n"
                                      "time.sleep(0.2)\nVALUE = 42\n")
    out = run("""
        import threading
        from korepyd.worker import deferred
        deferred.defer(("slow",))
        import slow
        seen = []
        threads = [threading.Thread(target=lambda: seen.append(slow.VALUE)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(seen, slow_runs)
    """, cwd=tmp_path)
    assert out == "[42, 42, 42, 42] 1"

"""The korepyd command line: -t exit statuses, diagnostics on stderr,
handler names checked against the app, and no tracebacks."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from korepyd.cli import parse_options

ROOT = Path(__file__).resolve().parent.parent


def korepyd(*args, cwd):
    return subprocess.run([sys.executable, "-m", "korepyd", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """\
    python_import app.py
    server s {
    \tbind 127.0.0.1 8888
    \ttls no
    }
    validator v_id function check_id
    domain * {
    \tattach s
    \troute / {
    \t\thandler index
    \t}
    \troute ^/obj/([0-9]+)$ {
    \t\thandler pages.show
    \t\tvalidate get id v_id
    \t}
    }
    """

APP = """\
    import kore

    class Pages:
        def show(self, req, oid):
            req.response(200, b"ok")

    pages = Pages()

    def index(req):
        req.response(200, b"hi")

    def check_id(req, value):
        return value.isdigit()
    """


def test_valid_configuration_exits_0(tmp_path):
    write(tmp_path, "app.py", APP)
    write(tmp_path, "kore.conf", GOOD)
    done = korepyd("-t", "-c", "kore.conf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stderr


def test_errors_exit_1_with_file_line_column_and_caret(tmp_path):
    write(tmp_path, "app.py", APP)
    write(tmp_path, "kore.conf", GOOD.replace("v_id function check_id", "v_id regex ^[0-9]+$")
          .replace("validate get id v_id", "validate get id v_idd").replace("workers", "x") + "workers 0\n")
    done = korepyd("-t", "-c", "kore.conf", cwd=tmp_path)
    assert done.returncode == 1
    assert "kore.conf:14:19: error: unknown validator 'v_idd' (did you mean 'v_id'?)" in done.stderr
    assert " 14 | \t\tvalidate get id v_idd\n" in done.stderr
    assert "    | \t\t" + " " * 16 + "^~~~~\n" in done.stderr
    assert "kore.conf:17:9: error: bad value for worker '0'" in done.stderr
    assert "2 errors in the configuration" in done.stderr
    assert "Traceback" not in done.stderr


def test_handler_no_module_provides_is_reported_as_kore_does(tmp_path):
    write(tmp_path, "app.py", APP.replace("def index", "def other"))
    write(tmp_path, "kore.conf", GOOD)
    done = korepyd("-t", "-c", "kore.conf", cwd=tmp_path)
    assert done.returncode == 1
    assert "kore.conf:10:11: error: callback 'index' for '/' not found" in done.stderr


def test_native_module_is_reported_unsupported(tmp_path):
    write(tmp_path, "kore.conf", "load ./app.so\n" + GOOD.replace("python_import app.py\n", ""))
    done = korepyd("-t", "-c", "kore.conf", cwd=tmp_path)
    assert done.returncode == 1
    assert "kore.conf:1:6: warning: load ./app.so: native Kore modules are not supported" in done.stderr
    assert "callback 'index' for '/' not found" in done.stderr


def test_app_import_error_is_one_line_not_a_traceback(tmp_path):
    write(tmp_path, "app.py", "import kore\nraise ValueError('boom')\n")
    write(tmp_path, "kore.conf", GOOD)
    done = korepyd("-t", "-c", "kore.conf", cwd=tmp_path)
    assert done.returncode == 1
    assert "app.py: failed to import module: ValueError: boom" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file(tmp_path):
    done = korepyd("-t", "-c", "nope.conf", cwd=tmp_path)
    assert done.returncode == 1
    assert "configuration given cannot be opened: nope.conf" in done.stderr


def test_strict_turns_warnings_into_errors(tmp_path):
    write(tmp_path, "app.py", APP)
    write(tmp_path, "kore.conf", GOOD + "workerz 2\n")
    assert korepyd("-t", "-c", "kore.conf", cwd=tmp_path).returncode == 0
    strict = korepyd("-t", "--strict", "-c", "kore.conf", cwd=tmp_path)
    assert strict.returncode == 1
    assert "error: ignoring unknown keyword \"workerz\" (did you mean 'workers'?)" in strict.stderr


def test_dump_prints_the_model(tmp_path):
    write(tmp_path, "app.py", APP)
    write(tmp_path, "kore.conf", GOOD)
    done = korepyd("-t", "--dump", "-c", "kore.conf", cwd=tmp_path)
    assert '"handler": "pages.show"' in done.stdout


def test_no_arguments_is_a_usage_error(tmp_path):
    done = korepyd(cwd=tmp_path)
    assert done.returncode == 2
    assert "give a configuration" in done.stderr


@pytest.mark.parametrize("conf", ["conf/kore.conf", "conf/minimal.conf"])
def test_bundled_configurations_are_valid(conf):
    done = korepyd("-t", "--strict", "-c", conf, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_kore_style_clustered_flags():
    opts = parse_options(["-frnc", "kore.conf", "app", "a1", "a2"])
    assert (opts.conf, opts.skip_runas, opts.skip_chroot) == ("kore.conf", True, True)
    assert opts.app == "app" and opts.args == ("a1", "a2")


def test_check_a_kore4_app():
    done = korepyd("-t", "--dump", "examples/app4/app.py", "9999", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert '"port": "9999"' in done.stdout and '"handler": "koreapp.item"' in done.stdout

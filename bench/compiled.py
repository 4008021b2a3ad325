"""An experiment, not a product: korepyd with its request path compiled by
Cython, as it is (no type declarations, annotations ignored), for the
`korepyd-cython` server of bench/run.py.

build() copies korepyd/ to a scratch directory, compiles HOT_PATH there
with the cythonize of .venv-bench (Cython is pinned in
bench/requirements.txt; it needs a C compiler and Python's headers), and
returns the directory to put first on PYTHONPATH. The tree's own korepyd/
is never touched, so no stale extension module can shadow the sources.

It measures what compiling the hot modules would give before anyone
decides to ship compiled modules (issue 9).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOT_PATH = ("korepyd/http/connection.py", "korepyd/http/fastconnection.py", "korepyd/http/response.py",
            "korepyd/http/router.py", "korepyd/kore/_request.py", "korepyd/worker/conn.py",
            "korepyd/worker/dispatch.py", "korepyd/worker/stream.py")


def build(scratch: Path, peer_bin: Path) -> Path:
    """Compile HOT_PATH in a copy of korepyd/ under `scratch`; the copy's top."""
    top = scratch / "compiled"
    shutil.copytree(ROOT / "korepyd", top / "korepyd",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    print(f"==> compiling {len(HOT_PATH)} modules of korepyd with Cython (bench/compiled.py)", flush=True)
    done = subprocess.run([str(peer_bin / "cythonize"), "-3", "-X", "annotation_typing=False", "-i", "-j", "2",
                           *HOT_PATH], cwd=top, capture_output=True, text=True)
    built = sorted(top.glob("korepyd/**/*.so"))
    if done.returncode != 0 or len(built) != len(HOT_PATH):
        raise RuntimeError(f"cythonize failed ({len(built)} of {len(HOT_PATH)} built): "
                           f"{(done.stderr or done.stdout).strip()[-400:]}")
    return top

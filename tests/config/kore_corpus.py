"""Run korepyd's configuration parser over every kore.conf shipped by Kore.

Not a pytest module (the name does not start with test_): it needs a copy
of Kore's git repository, which the test suite does not have.

    python tests/config/kore_corpus.py /path/to/kore/.git [-v] [--tags T1,T2,...]

For each tag (and master, the repository's HEAD) every runtime
configuration -- each *.conf and *.conf.example that is not a kodev
build.conf -- is exported into a temporary directory and read with
config.loads(..., env={}, check_files=False). One line is printed per file:

    <tag>  <path>  OK (<n> warnings)
    <tag>  <path>  FAIL (<n> errors)
        <error headline>
        ...

then a summary per tag. Nothing is written outside the temporary directory
and nothing from Kore is kept. The exit status is 0 when every file loaded,
1 otherwise (several of Kore's own files are known to be stale; see the
report this script was written for), 2 on a usage or git error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_TAGS = (
    "2.0.0-release",
    "3.0.0-release",
    "3.3.1-release",
    "4.0.0",
    "4.1.0",
    "4.2.0",
    "4.2.3",
    "4.3.0-rc5",
    "master",
)


def _git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout


def _revision(tag: str) -> str:
    return "HEAD" if tag == "master" else tag


def runtime_confs(git_dir: str, tag: str) -> list[str]:
    names = _git(git_dir, "ls-tree", "-r", "--name-only", "-z", _revision(tag)).decode().split("\0")
    found = []
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base == "build.conf":
            continue
        if base.endswith(".conf") or base.endswith(".conf.example"):
            found.append(name)
    return sorted(found)


def export(git_dir: str, tag: str, paths: list[str], root: Path) -> None:
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git(git_dir, "show", f"{_revision(tag)}:{path}"))


def check(root: Path, path: str, verbose: bool) -> tuple[bool, int, list[str]]:
    """Load one exported file; return (ok, warning count, lines to print under it)."""
    from korepyd import config
    from korepyd.errors import ConfigError

    data = (root / path).read_bytes()
    here = os.getcwd()
    os.chdir(root)  # Kore opens `include` paths from the working directory
    try:
        loaded = config.loads(data, path, env={}, check_files=False)
    except ConfigError as exc:
        errors = [d for d in exc.diagnostics if d.is_error]
        warnings = [d for d in exc.diagnostics if not d.is_error]
        shown = [d.headline() for d in errors]
        if verbose:
            shown += [d.headline() for d in warnings]
        return False, len(warnings), shown
    finally:
        os.chdir(here)
    return True, len(loaded.warnings), [d.headline() for d in loaded.warnings] if verbose else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("git_dir", help="Kore's git directory (a bare repository or a .git directory)")
    parser.add_argument("--tags", default=",".join(DEFAULT_TAGS),
                        help="comma-separated tags; 'master' means HEAD (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the warnings")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the korepyd checkout

    summary = []
    failed_total = 0
    with tempfile.TemporaryDirectory(prefix="kore-corpus-") as tmp:
        for tag in args.tags.split(","):
            try:
                paths = runtime_confs(args.git_dir, tag)
                root = Path(tmp) / tag
                export(args.git_dir, tag, paths, root)
            except subprocess.CalledProcessError as exc:
                print(f"git failed for {tag}: {exc.stderr.decode(errors='replace').strip()}", file=sys.stderr)
                return 2
            ok_count = 0
            for path in paths:
                ok, warnings, lines = check(root, path, args.verbose)
                if ok:
                    ok_count += 1
                    print(f"{tag}\t{path}\tOK ({warnings} warning{'s' if warnings != 1 else ''})")
                else:
                    print(f"{tag}\t{path}\tFAIL ({len(lines) if not args.verbose else '-'} errors)")
                for line in lines:
                    print(f"    {line}")
            failed_total += len(paths) - ok_count
            summary.append((tag, len(paths), ok_count))

    print()
    print(f"{'tag':<16}{'files':>6}{'ok':>6}{'fail':>6}")
    for tag, total, ok_count in summary:
        print(f"{tag:<16}{total:>6}{ok_count:>6}{total - ok_count:>6}")
    files = sum(t for _, t, _ in summary)
    print(f"{'total':<16}{files:>6}{files - failed_total:>6}{failed_total:>6}")
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())

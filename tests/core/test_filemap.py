"""filemap.resolve in a real directory tree, against the plain realpath()
rule it must agree with: inside the root after every symlink and `..`."""

import os
import stat

import pytest

from korepyd.core import filemap
from korepyd.core.filemap import FileHit, FileRedirect, resolve

TYPES = dict(filemap.BUILTIN_TYPES)


@pytest.fixture
def root(tmp_path):
    public = tmp_path / "public"
    (public / "sub" / "deeper").mkdir(parents=True)
    (public / "index.html").write_text("<p>index</p>")
    (public / "a.txt").write_text("a")
    (public / "page.html").write_text("page")
    (public / "empty.txt").write_text("")
    (public / "sub" / "index.html").write_text("sub")
    (public / "sub" / "deeper" / "b.css").write_text("b")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "public-private").mkdir()
    (tmp_path / "public-private" / "x.txt").write_text("x")
    os.symlink(tmp_path / "secret.txt", public / "out.txt")            # leaves the root
    os.symlink(public / "a.txt", public / "sub" / "in.txt")             # stays inside
    os.symlink(tmp_path, public / "sub" / "up")                         # a directory outside
    os.symlink(public / "sub" / "deeper", public / "deep")              # a directory inside
    os.mkfifo(public / "fifo")
    return os.path.realpath(public)


def reference(root, uri, path, *, index, ext, types):
    """The rule as first written: realpath() of the whole path, then stat."""
    from urllib.parse import unquote
    try:
        rest = unquote(path[len(uri):], errors="strict")
    except UnicodeDecodeError:
        return None
    if "\0" in rest:
        return None
    real = os.path.realpath(os.path.join(root, rest))
    if real != root and not real.startswith(root + os.sep):
        return None
    try:
        info = os.stat(real)
    except OSError:
        return reference(root, uri, path + ext, index=index, ext=None, types=types) if ext else None
    if stat.S_ISDIR(info.st_mode):
        if not path.endswith("/"):
            return FileRedirect(path + "/")
        return reference(root, uri, path + index, index=index, ext=None, types=types)
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0 or rest.endswith("/"):
        return None
    suffix = real.rsplit(".", 1)[-1].lower() if "." in os.path.basename(real) else ""
    return FileHit(real, info.st_size, info.st_mtime, info.st_mtime_ns, types.get(suffix),
                   (info.st_dev, info.st_ino))


PATHS = [
    "/f/", "/f", "/f/a.txt", "/f/a.txt/", "/f/page", "/f/empty.txt", "/f/fifo", "/f/missing", "/f/sub", "/f/sub/",
    "/f/sub/deeper/b.css", "/f/sub//deeper/b.css", "/f/./a.txt", "/f/sub/../a.txt", "/f/../secret.txt",
    "/f/%2e%2e/secret.txt", "/f/..%2fsecret.txt", "/f/sub/../../secret.txt", "/f/out.txt", "/f/sub/in.txt",
    "/f/sub/up/secret.txt", "/f/sub/up/public/a.txt", "/f/deep/b.css", "/f/deep", "/f/deep/",
    "/f/../public-private/x.txt", "/f/a.txt%00.html", "/f/%ff", "/f/a.txt/x", "/f/sub/deeper",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ext", [None, ".html"])
def test_the_same_answer_as_realpath_of_the_whole_path(root, path, ext):
    found = resolve(root, "/f/", path, index="index.html", ext=ext, types=TYPES)
    assert found == reference(root, "/f/", path, index="index.html", ext=ext, types=TYPES)


def test_what_is_served_and_what_is_not(root):
    def hit(path, ext=None):
        found = resolve(root, "/f/", path, index="index.html", ext=ext, types=TYPES)
        return os.path.relpath(found.path, root) if isinstance(found, FileHit) else found

    assert hit("/f/a.txt") == "a.txt" and hit("/f/deep/b.css") == "sub/deeper/b.css"
    assert hit("/f/sub/in.txt") == "a.txt" and hit("/f/sub/") == "sub/index.html"
    assert hit("/f/page", ext=".html") == "page.html"
    assert hit("/f/sub") == FileRedirect("/f/sub/")
    for outside in ("/f/out.txt", "/f/../secret.txt", "/f/sub/up/secret.txt", "/f/../public-private/x.txt",
                    "/f/empty.txt", "/f/fifo", "/f/a.txt/", "/f/missing"):
        assert hit(outside) is None, outside

"""worker/filerefs.py: open files lent again while their name still names
them, never closed under a response that reads them."""

import os

import pytest

from korepyd.worker.filerefs import FileRefs


def _identity(path):
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _is_open(fd):
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"first")
    return str(path)


def test_the_same_file_is_lent_again(page):
    refs = FileRefs()
    first = refs.acquire(page, _identity(page), 0.0)
    refs.release(first)
    again = refs.acquire(page, _identity(page), 1.0)
    assert again is first and _is_open(first.fd)
    assert os.pread(again.fd, 100, 0) == b"first"
    refs.release(again)
    refs.close()
    assert not _is_open(first.fd)


def test_a_file_written_in_place_keeps_its_descriptor(page):
    refs = FileRefs()
    ref = refs.acquire(page, _identity(page), 0.0)
    refs.release(ref)
    with open(page, "r+b") as file:
        file.write(b"FIRST, longer")
    again = refs.acquire(page, _identity(page), 1.0)
    assert again is ref and os.pread(again.fd, 100, 0) == b"FIRST, longer"
    refs.release(again)
    refs.close()


def test_a_replaced_file_is_opened_afresh_and_the_old_one_closed_after_its_last_reader(page, tmp_path):
    refs = FileRefs()
    old = refs.acquire(page, _identity(page), 0.0)      # a response still sending it
    (tmp_path / "new").write_bytes(b"second")
    os.rename(tmp_path / "new", page)
    new = refs.acquire(page, _identity(page), 1.0)
    assert new is not old and os.pread(new.fd, 100, 0) == b"second"
    assert _is_open(old.fd) and os.pread(old.fd, 100, 0) == b"first"
    refs.release(old)
    assert not _is_open(old.fd)
    assert len(refs) == 1
    refs.release(new)
    assert _is_open(new.fd)                             # still held for the next request
    refs.close()
    assert not _is_open(new.fd)


def test_files_left_unread_are_closed(page, tmp_path):
    other = tmp_path / "other.css"
    other.write_bytes(b"b{}")
    refs = FileRefs(idle=30.0)
    idle = refs.acquire(page, _identity(page), 0.0)
    refs.release(idle)
    busy = refs.acquire(str(other), _identity(other), 0.0)   # a long download, still running
    refs.expire(29.0)
    assert len(refs) == 2
    refs.expire(30.0)
    assert len(refs) == 0
    assert not _is_open(idle.fd) and _is_open(busy.fd)
    refs.release(busy)
    assert not _is_open(busy.fd)


def test_at_most_limit_files_are_held(tmp_path):
    refs = FileRefs(limit=3)
    held = []
    for n in range(4):
        path = tmp_path / f"f{n}"
        path.write_bytes(b"x")
        ref = refs.acquire(str(path), _identity(path), float(n))
        refs.release(ref)
        held.append(ref)
    assert len(refs) == 3
    assert not _is_open(held[0].fd) and all(_is_open(ref.fd) for ref in held[1:])
    refs.close()


def test_a_file_that_cannot_be_opened_raises_and_changes_nothing(page, tmp_path):
    refs = FileRefs()
    ref = refs.acquire(page, _identity(page), 0.0)
    refs.release(ref)
    with pytest.raises(FileNotFoundError):
        refs.acquire(str(tmp_path / "missing"), (0, 0), 1.0)
    os.symlink(page, tmp_path / "link")
    with pytest.raises(OSError):  # O_NOFOLLOW: a name that became a symlink is not followed
        refs.acquire(str(tmp_path / "link"), (0, 0), 1.0)
    assert len(refs) == 1 and refs.acquire(page, _identity(page), 2.0) is ref
    refs.close()

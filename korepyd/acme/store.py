"""Kore's on-disk layout of ACME material, under a root directory (the
key manager's root, where it may be chrooted):

    account-key.pem
    certificates/<domain>/key.pem
    certificates/<domain>/fullchain.pem

(`acme yes` makes certfile/certkey point at the last two, as in Kore.)
Keys are created once, EC P-256, and never overwritten; the chain is
replaced atomically (a temporary file in the same directory, then
rename), so a reader sees the old chain or the new one. Files are 0600,
directories this module creates 0700. Domain names that could leave
certificates/ are refused.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from korepyd.acme import keys
from korepyd.errors import KorepydError

ACCOUNT_KEY = "account-key.pem"
CERTIFICATES = "certificates"
DOMAIN_KEY = "key.pem"
FULLCHAIN = "fullchain.pem"
FILE_MODE = 0o600
DIR_MODE = 0o700

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


class StoreError(KorepydError):
    """A stored file is unusable or cannot be written; the message names it."""


def check_domain(domain: str) -> str:
    """A host name usable as a directory name: dot-separated labels of
    letters, digits, '-' and '_' (so no '..', '/', '*' or empty name)."""
    if not isinstance(domain, str) or len(domain) > 253 or not all(_LABEL.fullmatch(p) for p in domain.split(".")):
        raise ValueError(f"{domain!r} cannot be stored: not a plain host name")
    return domain


def domain_dir(root: str | os.PathLike, domain: str) -> Path:
    return Path(root) / CERTIFICATES / check_domain(domain)


def load_or_create_account_key(root: str | os.PathLike) -> bytes:
    """The account key (PEM), made on first use."""
    return _load_or_create_key(Path(root), Path(root) / ACCOUNT_KEY)


def load_or_create_domain_key(root: str | os.PathLike, domain: str) -> bytes:
    """The domain's private key (PEM), made on first use."""
    return _load_or_create_key(Path(root), domain_dir(root, domain) / DOMAIN_KEY)


def read_fullchain(root: str | os.PathLike, domain: str) -> bytes | None:
    """The stored chain of a domain, or None when there is none yet."""
    try:
        return (domain_dir(root, domain) / FULLCHAIN).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{domain_dir(root, domain) / FULLCHAIN}: {exc.strerror}") from None


def write_fullchain(root: str | os.PathLike, domain: str, pem: bytes) -> None:
    path = domain_dir(root, domain) / FULLCHAIN
    _make_dirs(Path(root), path.parent)
    try:
        write_atomic(path, pem)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write: {exc.strerror}") from None


def certificate_times(pem: bytes) -> tuple[datetime, datetime]:
    """(not_before, not_after) of the first certificate of a PEM chain, UTC."""
    try:
        leaf = x509.load_pem_x509_certificates(pem)[0]
    except ValueError:
        raise StoreError("not a PEM certificate chain") from None
    return leaf.not_valid_before_utc, leaf.not_valid_after_utc


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by a 0600 file holding `data`, all at once."""
    temporary = _write_temporary(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_dir(path.parent)


def _load_or_create_key(root: Path, path: Path) -> bytes:
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        pem = _create_key(root, path)
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror}") from None
    try:
        serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise StoreError(f"{path}: not an unencrypted PEM private key") from None
    return pem


def _create_key(root: Path, path: Path) -> bytes:
    """A new key at `path`, unless one appeared meanwhile (then that one):
    linked into place, which never replaces an existing file."""
    _make_dirs(root, path.parent)
    pem = keys.generate_key_pem()
    try:
        temporary = _write_temporary(path, pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_bytes()
        finally:
            os.unlink(temporary)
        _sync_dir(path.parent)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the key: {exc.strerror}") from None
    return pem


def _write_temporary(path: Path, data: bytes) -> str:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, FILE_MODE)
        with open(fd, "wb", closefd=False) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    finally:
        os.close(fd)
    return temporary


def _make_dirs(root: Path, directory: Path) -> None:
    """Create `directory` and the missing ones above it (up to and
    including `root`), each 0700."""
    missing = []
    for d in (directory, *directory.parents):
        if d.is_dir():
            break
        missing.append(d)
        if d == root:
            break
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StoreError(f"{d}: cannot create the directory: {exc.strerror}") from None
        os.chmod(d, DIR_MODE)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

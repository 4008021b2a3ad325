"""Privilege separation of the child processes (Kore: kore_platform_
sandbox(), worker privsep in src/worker.c and the defaults of 2.11 in
src/config.c).

plan() is pure: from the configuration, a role and the command-line
overrides it decides what a child will do. apply() does it, in Kore's
order: CPU affinity, chroot (or chdir), the open-file limit, the groups and
the user, then no_new_privs so that nothing the app runs can gain back
what was dropped.

Defaults (Kore 4.2): the worker's root is the working directory and its
user the one running korepyd; keymgr and acme inherit the worker's values.
`-n`/`-r` (and `deployment dev`) skip chroot/runas for every role. A
korepyd not started as root can do neither, and says so once.

Layer: shared by the roles that drop privileges (worker, keymgr).
"""

from __future__ import annotations

import ctypes
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass

from korepyd.config import model
from korepyd.errors import KorepydError

PR_SET_NO_NEW_PRIVS = 38


class PrivsepError(KorepydError):
    """A child could not drop its privileges; it must not run."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class Overrides:
    skip_chroot: bool = False
    skip_runas: bool = False


@dataclass(frozen=True)
class Plan:
    role: str
    root: str
    chroot: bool
    account: Account | None      # None: keep the current user
    nofiles: int | None = None
    cpu: int | None = None


def overrides_for(config: model.Config, skip_chroot: bool, skip_runas: bool) -> Overrides:
    dev = config.deployment in ("dev", "development")
    return Overrides(skip_chroot or dev, skip_runas or dev)


def plan(config: model.Config, role: str, overrides: Overrides, *, cwd: str, euid: int,
         lookup: Callable[[str], Account], worker_id: int = 0, ncpu: int = 1) -> Plan:
    """What a child of `role` ("worker", "keymgr", "acme") will do."""
    worker = config.privsep_worker
    own = {"worker": worker, "keymgr": config.privsep_keymgr, "acme": config.privsep_acme}[role]
    root = own.root or worker.root or cwd
    runas = own.runas or worker.runas
    privileged = euid == 0
    chroot = privileged and not overrides.skip_chroot and not own.skip_chroot
    account = lookup(runas) if runas and privileged and not overrides.skip_runas else None
    is_worker = role == "worker"
    cpu = (worker_id - 1) % ncpu if is_worker and config.worker_set_affinity and worker_id else None
    return Plan(role, root, chroot, account, config.worker_rlimit_nofiles if is_worker else None, cpu)


def lookup_user(name: str) -> Account:
    """Find a user as getpwnam(3) does (before any chroot)."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise PrivsepError(f"runas user '{name}' does not exist") from None
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def describe(p: Plan) -> str:
    """Kore's start line: `chroot=/x user=kore` or `root=/x`."""
    where = f"chroot={p.root}" if p.chroot else f"root={p.root}"
    return f"{where} user={p.account.name if p.account else _current_user()}"


def _current_user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def apply(p: Plan) -> None:
    """Drop privileges as planned; raise PrivsepError if any step fails."""
    try:
        if p.cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {p.cpu})
        if p.chroot:
            os.chroot(p.root)
            os.chdir("/")
        else:
            os.chdir(p.root)
        if p.nofiles is not None:
            _set_nofiles(p.nofiles)
        if p.account is not None:
            os.setgroups([p.account.gid])
            os.setresgid(p.account.gid, p.account.gid, p.account.gid)
            os.setresuid(p.account.uid, p.account.uid, p.account.uid)
        _no_new_privs()
    except OSError as exc:
        raise PrivsepError(f"{p.role}: cannot drop privileges ({describe(p)}): {exc.strerror or exc}") from None


def _set_nofiles(limit: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if os.geteuid() != 0 and hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, max(limit, hard) if os.geteuid() == 0 else hard))


def _no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))

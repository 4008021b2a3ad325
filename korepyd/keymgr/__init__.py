"""The keymgr role: the one process that reads private keys (Kore:
src/keymgr.c).

The parent starts it (`python -m korepyd.keymgr --ipc FD`) before the
workers whenever a server uses TLS. It drops its privileges (privsep
keymgr: its own root and user, inheriting the worker's), reads every TLS
domain's certificate and key relative to that root, and from then on
gives workers what they need: the material of every domain when a worker
asks at its start (CERTIFICATE_REQ), and again to all of them when the
files change (SIGUSR1 to the parent, as in Kore) or ACME renews a
certificate. No application code runs here.

Unlike Kore, the key material itself goes to the workers, which build
their SSL contexts from it (Python's ssl cannot delegate the private key
operations to another process); the workers still never open key files.

Layer: role (keymgr).
"""

from __future__ import annotations

import os

import trio

from korepyd import log, privsep
from korepyd.errors import ExitCode, KorepydError
from korepyd.ipc.boot import receive
from korepyd.keymgr.service import KeyManager


def main(argv: list[str] | None = None) -> int:
    started = receive("korepyd.keymgr", argv)
    if started is None:
        return ExitCode.BOOT_ERROR
    boot, ipc, pending = started
    config = boot.config
    log.setup("keymgr", quiet=boot.quiet, logfile=config.logfile)
    os.chdir(boot.cwd)
    overrides = privsep.overrides_for(config, boot.skip_chroot, boot.skip_runas)
    try:
        manager = KeyManager.before_privsep(config)
        plan = privsep.plan(config, "keymgr", overrides, cwd=boot.cwd, euid=os.geteuid(), lookup=privsep.lookup_user)
        started = f"started (#{os.getpid()} {privsep.describe(plan)})"
        privsep.apply(plan)
        manager.load()
    except KorepydError as exc:
        log.error(str(exc))
        return ExitCode.BOOT_ERROR
    log.info(started)
    trio.run(manager.run, ipc, pending)
    return ExitCode.OK

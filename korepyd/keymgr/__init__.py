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
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import socket

import trio

from korepyd import log, privsep
from korepyd.channel import read_message_blocking
from korepyd.errors import ExitCode, KorepydError
from korepyd.ipc import MsgId
from korepyd.keymgr.service import KeyManager
from korepyd.worker.boot import Boot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="korepyd.keymgr")
    parser.add_argument("--ipc", type=int, required=True)
    ipc = socket.socket(fileno=parser.parse_args(argv).ipc)
    msg, pending = read_message_blocking(ipc)
    if msg is None or msg.id != MsgId.BOOT:
        return ExitCode.BOOT_ERROR
    boot: Boot = pickle.loads(msg.payload)
    config = boot.config
    log.setup("keymgr", quiet=boot.quiet, logfile=config.logfile)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, lambda *_: os._exit(0))
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

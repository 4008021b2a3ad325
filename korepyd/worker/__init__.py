"""The worker role: a process that serves HTTP for the parent.

main() runs in a fresh interpreter started by the parent (`python -m
korepyd.worker --ipc FD`): it reads its BOOT message, loads the app as the parent
did (app.replay_app) while it still can, drops privileges, then runs trio
until told to stop.

Layer: role (worker).
"""

from __future__ import annotations

import gc
import os
import socket

from korepyd.worker import deferred

deferred.defer()  # before trio imports ssl, hmac and idna (worker/deferred.py); E402 is off for this file

import trio

from korepyd import app, appsockets, kore, log, privsep
from korepyd.errors import AppLoadError, ExitCode
from korepyd.ipc.boot import Boot, receive
from korepyd.kore import _state
from korepyd.worker import preload, scheduling, serve
from korepyd.worker.runtime import Runtime
from korepyd.worker.tasks import Tasks
from korepyd.worker.tls import TlsState, make_scratch, remove_scratch


def main(argv: list[str] | None = None) -> int:
    started = receive("korepyd.worker", argv)
    if started is None:
        return ExitCode.BOOT_ERROR
    boot, ipc, pending = started
    config = boot.config
    log.setup(f"wrk {boot.worker_id}", quiet=boot.quiet, logfile=config.logfile)
    os.chdir(boot.cwd)
    _state.tasks = tasks = Tasks()  # tasks the app creates while it loads start with trio
    appsockets.inherit(boot.app_sockets)
    try:
        modules, named, problems = app.replay_app(boot.app, list(boot.app_args), config)
    except AppLoadError as exc:
        log.error(str(exc))
        return ExitCode.APP_LOAD_ERROR
    for problem in problems:
        log.error(problem.headline())
    if problems:
        return ExitCode.APP_LOAD_ERROR
    rt = Runtime.build(boot.worker_id, config, modules, named, tasks)
    _state.runtime, _state.phase = rt, _state.WORKER
    rt.prerequest.extend(_state.pending_prerequest)
    overrides = privsep.overrides_for(config, boot.skip_chroot, boot.skip_runas)
    scratch = None
    try:
        plan = privsep.plan(config, "worker", overrides, cwd=boot.cwd, euid=os.geteuid(),
                            lookup=privsep.lookup_user, worker_id=boot.worker_id, ncpu=os.cpu_count() or 1)
        started = f"started (#{os.getpid()} {privsep.describe(plan)})"  # names users: before chroot
        rt.tls = TlsState.load(config, rt.routers) if any(lfd.tls for lfd in boot.listeners) else None
        if rt.tls is not None:
            owner = (plan.account.uid, plan.account.gid) if plan.account else None
            scratch, rt.tls.scratch = make_scratch(plan.root, plan.chroot, owner)
        preload.run(chroot=plan.chroot, runas=plan.account is not None, tls=rt.tls is not None)
        privsep.apply(plan)
    except privsep.PrivsepError as exc:
        log.error(str(exc))
        remove_scratch(scratch)
        return ExitCode.BOOT_ERROR
    except OSError as exc:
        log.error(f"TLS: cannot read {exc.filename}: {exc.strerror}")
        remove_scratch(scratch)
        return ExitCode.BOOT_ERROR
    try:
        return _serve(rt, boot, config, modules, ipc, pending, started)
    finally:
        remove_scratch(rt.tls and rt.tls.scratch)


def _serve(rt: Runtime, boot: Boot, config, modules, ipc: socket.socket, pending: bytes, started: str) -> int:
    rt.prepare_paths()
    log.info(started)
    try:
        _call(app.koreapp_hook(modules, "koreapp.workerstart", "kore_worker_configure"))
        app.call_onload(config, modules, kore.MODULE_LOAD)
    except Exception:
        log.exception("the app failed to start in this worker (workerstart or onload)")
        return ExitCode.APP_LOAD_ERROR
    gc.freeze()  # what start-up made lives on: the collector never scans it again (shorter pauses)
    if not scheduling.first_come_first_served():
        log.info("this trio's scheduler cannot be made first come, first served: ready tasks run in its random order")
    trio.run(serve.run, rt, boot, ipc, pending)
    try:
        app.call_onload(config, modules, kore.MODULE_UNLOAD)  # Kore: around reloads
        _call(app.koreapp_hook(modules, "koreapp.workerstop", "kore_worker_teardown"))
    except Exception:
        log.exception("the app failed to stop cleanly (onload or workerstop)")
    return ExitCode.OK


def _call(hook) -> None:
    if hook is not None:
        hook()

"""The parent process: listeners, children, signals, relaying.

run() is called by the CLI with a checked configuration. It binds every
listener (as root, if started so) while errors can still reach the
terminal, daemonizes if asked (-d), writes the pidfile, then runs the trio
supervisor (arbiter.py) until the server stops, and returns the exit code.

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import trio

from korepyd import log
from korepyd.config import model
from korepyd.errors import KorepydError
from korepyd.supervisor import pidfile
from korepyd.supervisor.arbiter import Options, Supervisor  # noqa: F401 (Options is for the CLI)
from korepyd.supervisor.listeners import open_listeners


def run(config: model.Config, opts: Options, reload_config: Callable[[], model.Config]) -> int:
    log.setup("parent", quiet=opts.quiet, logfile=config.logfile)
    if os.geteuid() != 0 and not (opts.skip_chroot and opts.skip_runas):
        log.info("not running as root: no chroot and no user switch for the children")
    supervisor = Supervisor(config, opts, reload_config)
    supervisor.listeners = open_listeners(config, supervisor.workers)
    try:
        supervisor.accesslogs.open(config)
    except OSError as exc:
        raise KorepydError(f"{exc.strerror}: check the accesslog line's directory and permissions") from None
    for listener in supervisor.listeners:
        log.info(f"server {listener.server} listens on {listener.address}{' (tls)' if listener.tls else ''}")
    if opts.daemonize:
        _daemonize()
        log.setup("parent", quiet=opts.quiet, logfile=config.logfile, syslog=True)
    pidfile.write(config.pidfile)
    try:
        return trio.run(supervisor.run)
    finally:
        pidfile.remove(config.pidfile)
        for listener in supervisor.listeners:
            listener.close()
        supervisor.accesslogs.close()
        log.info("goodbye")


def _daemonize() -> None:
    """Detach from the terminal (Kore: daemon(1, 0)): fork twice, new
    session, stdin/stdout/stderr to /dev/null; the working directory stays."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)

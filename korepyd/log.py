"""Logging for every korepyd process: one line per event, the process
name first, as Kore names them (`[parent]`, `[wrk 1]`, `[keymgr]`).

Lines go to stderr, which the children share with the parent (and
systemd's journal, which adds the time); with `logfile` they go to that
file, with the time in front; a daemonized korepyd (-d) without a logfile
logs to syslog.

Layer: shared (every layer).
"""

from __future__ import annotations

import logging
import os
import sys

_logger = logging.getLogger("korepyd")


def setup(name: str, *, quiet: bool = False, logfile: str | None = None, syslog: bool = False) -> None:
    handler: logging.Handler
    if logfile:
        handler = logging.FileHandler(logfile)
        fmt = f"%(asctime)s [{name}] %(message)s"
    elif syslog and os.path.exists("/dev/log"):
        from logging.handlers import SysLogHandler  # only a daemon (-d) logs to syslog

        handler = SysLogHandler("/dev/log", facility=SysLogHandler.LOG_DAEMON)
        fmt = f"korepyd[%(process)d]: [{name}] %(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        fmt = f"[{name}] %(message)s"
    handler.setFormatter(logging.Formatter(fmt, "%Y-%m-%d %H:%M:%S"))
    _logger.handlers[:] = [handler]
    _logger.setLevel(logging.WARNING if quiet else logging.INFO)
    _logger.propagate = False


def info(message: str) -> None:
    _logger.info(message)


def warning(message: str) -> None:
    _logger.warning(message)


def error(message: str) -> None:
    _logger.error(message)


def exception(message: str) -> None:
    """An error with the traceback of the exception being handled."""
    _logger.error(message, exc_info=True)

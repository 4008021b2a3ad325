"""Kore's access-log line (Kore: kore_accesslog() in src/accesslog.c):

    addr - cn [dd/Mon/YYYY:HH:MM:SS +0000] "METHOD path HTTP/1.x" status length "referer" "user-agent"

Every field a client controls is escaped, so one request is always one
line: control bytes, `"`, `\\` and non-ASCII become \\xHH (Kore writes them
raw). Workers send their lines to the parent in ipc.accesslog's frames.

Layer: request core.
"""

from __future__ import annotations

import time

_SAFE = {c: chr(c) for c in range(0x20, 0x7F) if c not in (0x22, 0x5C)}


def escape(text: str) -> str:
    data = text.encode("utf-8", "surrogateescape")
    return "".join(_SAFE.get(b) or f"\\x{b:02x}" for b in data)


def line(*, addr: str, method: str, target: str, version: str, status: int, length: int, referer: str | None,
         agent: str | None, cn: str = "-", now: float | None = None) -> str:
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
    return (f'{escape(addr)} - {escape(cn)} [{stamp}] "{escape(method.upper())} {escape(target)} HTTP/{version}" '
            f'{status} {length} "{escape(referer or "-")}" "{escape(agent or "-")}"\n')

"""The ACCESSLOG message's payload: `path\\0lines`, a worker's access-log
lines and the domain's accesslog setting they go to. Layer: ipc (shared by
the worker, which writes it, and the supervisor, which reads it and writes
only to files it opened itself)."""

from __future__ import annotations


def frame(path: str, lines: list[str]) -> bytes:
    return path.encode() + b"\0" + "".join(lines).encode("ascii")


def unframe(payload: bytes) -> tuple[str, bytes]:
    path, _, lines = payload.partition(b"\0")
    return path.decode("utf-8", "replace"), lines

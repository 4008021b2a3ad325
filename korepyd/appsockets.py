"""Listening sockets an app binds while it loads, shared with every worker
as Kore's forked workers share them (Kore's python-echo example binds one
at import time and accepts on it in a task).

korepyd's workers are new interpreters that load the app again, so their
own bind() of the same address would fail (the parent holds it). While
app code loads (the parent's configure, a reload's, a worker's replay),
capture() puts a bind() on Python's socket class that first looks for a
socket already bound to that family, type and address: in the parent, one
an earlier load bound; in a worker, one the parent passed down (by
pass_fds, named in Boot.app_sockets). It then makes the app's socket that
socket (dup2 onto its descriptor) instead of binding a second one. Every
other bind() is the real one, and one that ends up listening is kept by
the parent for the workers. Outside capture() bind() is Python's own.

Layer: app loading (the parent's check and each worker's import).
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager

from korepyd.ipc.boot import AppSocket

_held: dict[tuple, socket.socket] = {}   # the parent's: (family, type, address) -> the app's listening socket
_inherited: dict[tuple, int] = {}        # a worker's: the same key -> the descriptor the parent passed


def _key(sock: socket.socket, address) -> tuple:
    if isinstance(address, list):
        address = tuple(address)
    return (int(sock.family), int(sock.type), address)


@contextmanager
def capture():
    """Run app code with bind() sharing what is already bound (see above)."""
    real_bind = socket.socket.bind
    bound: list[tuple[tuple, socket.socket]] = []

    def bind(sock: socket.socket, address) -> None:
        key = _key(sock, address)
        shared = _held.get(key)
        fd = shared.fileno() if shared is not None else _inherited.get(key)
        if fd is not None:
            os.dup2(fd, sock.fileno(), inheritable=False)
            return
        real_bind(sock, address)
        bound.append((key, sock))

    socket.socket.bind = bind
    try:
        yield
    finally:
        socket.socket.bind = real_bind
        for key, sock in bound:
            if sock.fileno() != -1 and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                _held[key] = sock


def shared() -> tuple[AppSocket, ...]:
    """The parent's: the app's listening sockets, for a new worker's Boot."""
    return tuple(AppSocket(family, kind, address, sock.fileno())
                 for (family, kind, address), sock in _held.items() if sock.fileno() != -1)


def inherit(sockets: tuple[AppSocket, ...]) -> None:
    """A worker's: the sockets its parent passed, for capture()."""
    for item in sockets:
        _inherited[(item.family, item.type, item.address)] = item.fd

"""What the parent tells a new child before it runs: the BOOT message.

The parent pickles a Boot and sends it as the first message on the
child's IPC socket; the child (a worker or keymgr) takes it with
receive() and unpickles it (the parent is trusted; the parent never
unpickles what a child sends). Layer: ipc; it reads the one message
before trio runs, with a blocking recv.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
from dataclasses import dataclass

from korepyd.config.model import Config
from korepyd.ipc.codec import Decoder
from korepyd.ipc.messages import Message, MsgId


@dataclass(frozen=True)
class ListenerFd:
    """A listening socket the worker inherited, and the server it belongs to."""

    server: str
    tls: bool
    fd: int
    family: int


@dataclass(frozen=True)
class AppSocket:
    """A listening socket the app bound while the parent loaded it: the
    worker's own load of the app gets it back from bind() (korepyd/appsockets.py)."""

    family: int
    type: int
    address: object   # as the app gave it to bind()
    fd: int


@dataclass(frozen=True)
class Boot:
    worker_id: int
    generation: int
    config: Config
    listeners: tuple[ListenerFd, ...]
    cwd: str
    skip_chroot: bool = False
    skip_runas: bool = False
    quiet: bool = False
    app: str | None = None      # a Kore 4.x app to import (its configuration is `config`)
    app_args: tuple[str, ...] = ()
    app_sockets: tuple[AppSocket, ...] = ()


def receive(prog: str, argv: list[str] | None) -> tuple[Boot, socket.socket, bytes] | None:
    """A child's start (`python -m PROG --ipc FD`): its Boot, its IPC socket
    and the bytes that came after BOOT; None if the parent sent no BOOT.
    Also sets the signals every child shares: the parent decides on INT (a
    Ctrl-C reaches the whole process group) and HUP; QUIT stops at once."""
    ipc = socket.socket(fileno=_ipc_fd(prog, sys.argv[1:] if argv is None else argv))
    msg, pending = read_message_blocking(ipc)
    if msg is None or msg.id != MsgId.BOOT:
        return None
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, lambda *_: os._exit(0))
    return pickle.loads(msg.payload), ipc, pending


def _ipc_fd(prog: str, argv: list[str]) -> int:
    """`--ipc FD`, the only argument a child takes (no argparse: it would
    stay in every child's memory)."""
    if len(argv) == 2 and argv[0] == "--ipc" and argv[1].isdigit():
        return int(argv[1])
    raise SystemExit(f"usage: python -m {prog} --ipc FD (a child of korepyd, not started by hand)")


def read_message_blocking(sock: socket.socket) -> tuple[Message | None, bytes]:
    """Read one message before trio runs (a child's BOOT message); return it
    and whatever bytes came after it, for the Channel made later."""
    decoder = Decoder()
    while (msg := decoder.next_message()) is None:
        data = sock.recv(65536)
        if not data:
            return None, b""
        decoder.receive_data(data)
    return msg, decoder.take_pending()

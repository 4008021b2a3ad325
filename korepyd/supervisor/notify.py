"""systemd readiness (sd_notify(3)) without a dependency: a datagram to
$NOTIFY_SOCKET. Nothing happens when the variable is unset.

Layer: role (supervisor: the parent process).
"""

from __future__ import annotations

import os
import socket


def send(*fields: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
        except OSError:
            pass  # the service manager went away; nothing to tell it

"""Where the parent sends a message a child sent (Kore: msg.c,
msg_recv_data()), as a pure function of the message and the children.

Differences from Kore, on purpose: a message to WORKER_ALL goes to every
worker but its sender, once, and never to keymgr or acme (Kore also sends
it back to the sender, which duplicates websocket broadcasts); a message to
a child that is not running is dropped (the caller logs it).

Layer: ipc (what the roles share besides config and log).
"""

from __future__ import annotations

from collections.abc import Iterable

from korepyd.ipc.messages import WORKER_ALL, Message, is_worker


def destinations(msg: Message, children: Iterable[int]) -> list[int]:
    """The ids of the running children that must receive `msg`."""
    running = list(children)
    if msg.dst == WORKER_ALL:
        return [c for c in running if is_worker(c) and c != msg.src]
    return [msg.dst] if msg.dst in running else []

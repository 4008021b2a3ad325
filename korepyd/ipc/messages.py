"""IPC message ids and addresses, with Kore's numbers (Kore: include/kore/
kore.h, KORE_MSG_*), plus the few korepyd needs that Kore has not.

A Message is an id, a source, a destination and opaque bytes. What the
bytes mean is up to the two ends; the parent, which relays messages
between workers, never looks inside one it does not handle itself.

Layer: ipc (what the roles share besides config and log).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

PARENT = 1000
WORKER_ALL = 1001
KEYMGR = 2000
ACME = 2001

WORKER_MAX = 255  # worker ids are 1..255 (the `workers` setting's range)
STOP_GRACE = 10.0  # seconds a child's requests in flight get to finish after STOP (RETIRE: see below)


class MsgId(enum.IntEnum):
    WEBSOCKET = 1            # a global websocket broadcast
    KEYMGR_REQ = 2
    KEYMGR_RESP = 3
    SHUTDOWN = 4             # a worker asks the parent to stop the server
    ENTROPY_REQ = 5
    ENTROPY_RESP = 6
    CERTIFICATE = 7          # certificate and key material for a domain
    CERTIFICATE_REQ = 8
    CRL = 9
    ACCEPT_AVAILABLE = 10
    PYTHON_SEND_OBJ = 11     # kore.sendobj: a pickled object, opaque to the parent
    WORKER_LOG = 12
    FATALX = 13
    # korepyd's own, below Kore's application range (200+).
    READY = 50               # a child has started and serves
    ACCESSLOG = 51           # access-log records for the parent to write
    STOP = 52                # parent -> child: stop gracefully (TERM, INT): idle connections close at once
    BOOT = 53                # parent -> child, first message: what to run (pickled, trusted)
    RETIRE = 54              # parent -> an old generation's worker, after a reload: stop gracefully, and
    #                          answer each idle keep-alive connection's next request (http_keepalive_time,
    #                          then STOP_GRACE; a STOP after it is a STOP)
    ACME_CHALLENGE = 100     # keymgr -> workers: answer this challenge (ACME messages start at 100, as Kore's)
    ACME_CHALLENGE_CLEAR = 101   # keymgr -> workers: forget it
    ACME_CHALLENGE_SET = 102     # a worker -> keymgr: installed


@dataclass(frozen=True)
class Message:
    id: int
    src: int
    dst: int
    payload: bytes = b""


def is_worker(address: int) -> bool:
    return 1 <= address <= WORKER_MAX

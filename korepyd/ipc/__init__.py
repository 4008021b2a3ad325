"""Messages between korepyd's processes: ids, sans-IO framing, relaying,
the BOOT message and the access-log frame. Layer: ipc, what the roles
(supervisor, worker, keymgr) share besides config and log.

Everything here is sans-IO but channel.py, the trio side: a Channel over
the socketpair between the parent and one child.
"""

from korepyd.ipc.codec import Decoder, IpcError, encode
from korepyd.ipc.messages import ACME, KEYMGR, PARENT, WORKER_ALL, Message, MsgId
from korepyd.ipc.relay import destinations

__all__ = ["ACME", "KEYMGR", "PARENT", "WORKER_ALL", "Decoder", "IpcError", "Message", "MsgId", "destinations",
           "encode"]

"""Messages between korepyd's processes: ids, sans-IO framing, relaying.

The trio side (a channel over the socketpair) lives with the roles that
use it; this package never does I/O.
"""

from korepyd.ipc.codec import Decoder, IpcError, encode
from korepyd.ipc.messages import ACME, KEYMGR, PARENT, WORKER_ALL, Message, MsgId
from korepyd.ipc.relay import destinations

__all__ = ["ACME", "KEYMGR", "PARENT", "WORKER_ALL", "Decoder", "IpcError", "Message", "MsgId", "destinations",
           "encode"]

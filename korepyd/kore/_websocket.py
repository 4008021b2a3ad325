"""kore.websocket_broadcast (Kore: python_websocket_broadcast()).

LOCAL sends to every websocket of this worker but `src`; GLOBAL does that
and has the parent deliver the message once to every other worker, whose
websockets all get it. (Kore also sends it back to the sending worker, so
its clients got it twice.)

Layer: app API (kore).
"""

from korepyd.ipc import WORKER_ALL, Message, MsgId
from korepyd.kore import _state
from korepyd.kore._constants import WEBSOCKET_BROADCAST_GLOBAL, WEBSOCKET_BROADCAST_LOCAL


def websocket_broadcast(src, op: int, data, scope: int) -> bool:
    rt = _state.runtime
    if rt is None:
        raise RuntimeError("kore.websocket_broadcast() only works in a worker")
    if op not in (1, 2):
        raise TypeError("invalid op parameter")
    if scope not in (WEBSOCKET_BROADCAST_LOCAL, WEBSOCKET_BROADCAST_GLOBAL):
        raise TypeError("invalid scope parameter")
    payload = data.encode() if isinstance(data, str) else bytes(data)
    rt.broadcast_local(src, op, payload)
    if scope == WEBSOCKET_BROADCAST_GLOBAL:
        rt.post(Message(MsgId.WEBSOCKET, rt.worker_id, WORKER_ALL, bytes([op]) + payload))
    return True

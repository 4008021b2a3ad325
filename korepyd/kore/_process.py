"""Process-level functions of the `kore` module: worker, time, app,
shutdown, fatal, fatalx, tracer, setname, sendobj, prerequest (Kore:
python_kore_* in src/python.c, reference section 1.5).

Layer: app API (kore).
"""

from __future__ import annotations

import os
import pickle
import time as _time

from korepyd import log as _log
from korepyd.ipc import PARENT, WORKER_ALL, Message, MsgId
from korepyd.kore import _state

_app_object = None
_name = "korepyd"


def worker() -> int | None:
    """This worker's id (1..N), or None in the parent."""
    return _state.runtime.worker_id if _state.runtime is not None else None


def time() -> int:
    """Milliseconds of the monotonic clock (not the wall clock), as Kore."""
    return int(_time.monotonic() * 1000)


def app(obj=None):
    """A slot for one object: app(obj) stores it, app() returns it."""
    global _app_object
    if obj is None:
        return _app_object
    _app_object = obj
    return True


def setname(name: str) -> None:
    """Kore renames its process titles; korepyd keeps the name for the log
    of this process only."""
    global _name
    _name = str(name)


def shutdown() -> bool:
    """From a worker: ask the parent to stop the server (exit code 0)."""
    _post(MsgId.SHUTDOWN, b"", "kore.shutdown()")
    return True


def fatal(reason: str) -> None:
    """Log `fatal: reason` and end this process with status 1 (a worker is
    then respawned, as after any crash)."""
    _log.error(f"fatal: {reason}")
    os._exit(1)


def fatalx(reason: str) -> None:
    """Stop the whole server with exit code 1; in a worker, via the parent."""
    _log.error(f"fatal: {reason}")
    if _state.runtime is None:
        os._exit(1)
    _post(MsgId.FATALX, str(reason).encode(), "kore.fatalx()")


def tracer(callback) -> bool:
    """Have `callback(type, value, traceback)` report uncaught exceptions,
    from anywhere Kore allows it: a worker keeps it for its tasks and
    handlers; the parent, which runs neither, only holds it (each worker
    sets its own when it loads the app)."""
    if not callable(callback):
        raise RuntimeError("object not callable")
    holder = _state.tasks if _state.tasks is not None else _state
    if holder.tracer is not None:
        raise RuntimeError("tracer already set")
    holder.tracer = callback
    return True


def sendobj(obj, worker: int | None = None) -> None:
    """Pickle `obj` to every worker (this one included, as in Kore) or to
    one worker; it arrives as koreapp.onmsg(obj)."""
    rt = _runtime("kore.sendobj()")
    if worker is not None and not (isinstance(worker, int) and 1 <= worker <= 255):
        raise RuntimeError(f"worker {worker} invalid")
    data = pickle.dumps(obj)
    if worker is None or worker == rt.worker_id:
        rt.tasks.spawn(rt.deliver_object, data)
    if worker != rt.worker_id:
        rt.post(Message(MsgId.PYTHON_SEND_OBJ, rt.worker_id, WORKER_ALL if worker is None else worker, data))


def prerequest(callback):
    """Register a hook run for every request, after authentication and
    before the handler; it returns the callback, so it works as a decorator."""
    if _state.runtime is not None:
        _state.runtime.prerequest.append(callback)
    elif _state.phase in (_state.CONFIGURING, _state.REPLAYING, _state.LOADING):
        _state.pending_prerequest.append(callback)
    return callback


def _runtime(what: str):
    if _state.runtime is None:
        raise RuntimeError(f"{what} only works in a worker")
    return _state.runtime


def _post(msg_id: int, payload: bytes, what: str) -> None:
    rt = _runtime(what)
    rt.post(Message(msg_id, rt.worker_id, PARENT, payload))

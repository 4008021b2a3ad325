"""Kore's coroutine primitives on trio: suspend, task_create/kill/id,
timer, lock, queue, gather, coroname, corotrace (Kore: reference sections
1.5, 1.7.4, 1.7.7 and 1.8).

They work in a worker; a task created while the worker loads the app (at
import time, in configure() or kore_parent_configure()) starts with its
trio. The parent runs no tasks: while it loads the app, the coroutine
handed to task_create() is closed unrun, since every worker loads the app
too and creates its own, which is what Kore's forked workers inherit and
run. After that, one given to the parent is closed with a warning.

Layer: app API (kore).
"""

from __future__ import annotations

import inspect

import trio

from korepyd import log as _log
from korepyd.kore import _state
from korepyd.kore._constants import TIMER_ONESHOT


def _tasks(what: str):
    if _state.runtime is None:
        raise RuntimeError(f"{what} only works in a worker")
    return _state.runtime.tasks


async def suspend(ms: int) -> None:
    """Sleep `ms` milliseconds without blocking the worker."""
    await trio.sleep(max(0, ms) / 1000)


def task_create(coro) -> int:
    if _state.tasks is not None:
        return _state.tasks.create(coro)
    if not inspect.iscoroutine(coro):
        raise TypeError("task_create() takes a coroutine (call the async function)")
    coro.close()
    if _state.phase == _state.PARENT:
        _log.warning(f"kore.task_create({coro.__qualname__}) in the parent, which runs no tasks: "
                     "create it at import, in configure() or in a worker")
    return 0


def task_kill(task_id: int) -> bool:
    return _tasks("task_kill()").kill(task_id)


def task_id() -> int:
    return _tasks("task_id()").current().id


def coroname(name: str) -> None:
    _tasks("coroname()").current().name = str(name)


def corotrace(flag) -> None:
    _tasks("corotrace()").trace = bool(flag)


class timer:
    """kore.timer(callback, ms, flags, data=...): call `callback` every `ms`
    milliseconds, or once with TIMER_ONESHOT; close() stops it."""

    _NO_DATA = object()

    def __init__(self, callback, ms: int, flags: int, data=_NO_DATA):
        if _state.runtime is None:
            raise RuntimeError("kore.timer not supported on parent process")
        if flags not in (0, TIMER_ONESHOT):
            raise RuntimeError("invalid flags")
        if not callable(callback):
            raise TypeError("the timer callback is not callable")
        self._callback, self._ms, self._oneshot, self._data = callback, max(0, int(ms)), flags == TIMER_ONESHOT, data
        self._scope = trio.CancelScope()
        _state.runtime.tasks.spawn(self._run)

    async def _run(self) -> None:
        tasks = _state.runtime.tasks
        with self._scope:
            while True:
                await trio.sleep(self._ms / 1000)
                try:
                    result = self._callback() if self._data is timer._NO_DATA else self._callback(self._data)
                    if inspect.iscoroutine(result):  # Kore drops it; korepyd runs it as a task
                        tasks.create(result)
                except Exception:
                    tasks.report("a timer callback")
                if self._oneshot:
                    return

    def close(self) -> bool:
        self._scope.cancel()
        return True


class lock:
    """kore.lock: a per-worker lock for coroutines (`async with lock:`)."""

    def __init__(self):
        self._lock = trio.Lock()

    async def __aenter__(self):
        await self.acquire()
        return self

    async def __aexit__(self, *exc) -> None:
        self.release()

    async def acquire(self) -> None:
        if self._lock.locked() and self._lock.statistics().owner is trio.lowlevel.current_task():
            raise RuntimeError("recursive lock detected")
        await self._lock.acquire()

    def trylock(self) -> bool:
        """Take the lock if it is free (False if taken, even by the caller)."""
        if self._lock.locked():
            return False
        self._lock.acquire_nowait()
        return True

    def release(self) -> None:
        if not self._lock.locked():
            raise RuntimeError("no lock owner set")
        try:
            self._lock.release()
        except RuntimeError:
            raise RuntimeError("lock not owned by caller") from None


class queue:
    """kore.queue: an unbounded per-worker FIFO."""

    def __init__(self, *_ignored):
        self._send, self._receive = trio.open_memory_channel(float("inf"))

    def push(self, obj) -> bool:
        self._send.send_nowait(obj)
        return True

    async def pop(self):
        return await self._receive.receive()

    def popnow(self):
        try:
            return self._receive.receive_nowait()
        except trio.WouldBlock:
            return None


def gather(*coros, concurrency: int = 0):
    """Await every coroutine; the results come in the order they complete,
    an exception as the exception object. With `concurrency=N`, batches of
    N run one after the other (Kore starts a batch when the last ended)."""
    for coro in coros:
        if not inspect.iscoroutine(coro):
            for c in coros:
                if inspect.iscoroutine(c):
                    c.close()
            raise TypeError("not a coroutine")
    if not isinstance(concurrency, int):
        raise TypeError("concurrency must be an int")
    return _gather(list(coros), concurrency)


async def _gather(coros: list, concurrency: int) -> list:
    results: list = []
    size = concurrency if concurrency > 0 else max(1, len(coros))

    async def one(coro):
        try:
            results.append(await coro)
        except Exception as exc:
            results.append(exc)

    for start in range(0, len(coros), size):
        async with trio.open_nursery() as nursery:
            for coro in coros[start:start + size]:
                nursery.start_soon(one, coro)
    return results

"""The worker's coroutines: the tasks and timers of the `kore` module, run
in the worker's trio nursery (Kore: python_coro_create() and the task
list of src/python.c).

Each task has a Kore-style id (per worker, from 0) and its own cancel
scope, so task_kill() can stop it; request handlers get an id the first
time they ask for one. Tasks and timers created before trio runs (at
import time, or in koreapp.workerstart) wait in `pending` and start with
the worker. A task's exception is reported (kore.tracer or the log) and
ends only that task.

Layer: role (worker).
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field

import trio

from korepyd import log


@dataclass
class TaskRecord:
    id: int
    name: str | None = None
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)


class Tasks:
    def __init__(self) -> None:
        self.nursery: trio.Nursery | None = None
        self.pending: list = []
        self.tracer = None            # kore.tracer's callable
        self.trace = False            # kore.corotrace
        self._next = 0
        self._records: dict[int, TaskRecord] = {}
        self._by_task: dict[object, TaskRecord] = {}

    # -- running ---------------------------------------------------------------

    def start(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        pending, self.pending = self.pending, []
        for fn, args in pending:
            nursery.start_soon(fn, *args)

    def spawn(self, fn, *args) -> None:
        if self.nursery is None:
            self.pending.append((fn, args))
        else:
            self.nursery.start_soon(fn, *args)

    def create(self, coro) -> int:
        """kore.task_create(coro): run `coro` as a task; return its id."""
        if not inspect.iscoroutine(coro):
            raise TypeError("task_create() takes a coroutine (call the async function)")
        record = self._new()
        self.spawn(self._run, record, coro)
        return record.id

    async def _run(self, record: TaskRecord, coro) -> None:
        self._by_task[trio.lowlevel.current_task()] = record
        self._event(record, "running")
        try:
            with record.scope:
                await coro
        except Exception:
            self.report(f"task {self._label(record)}")
        finally:
            self._event(record, "killed" if record.scope.cancelled_caught else "deleted")
            self._records.pop(record.id, None)
            self._by_task.pop(trio.lowlevel.current_task(), None)
            coro.close()

    def kill(self, task_id: int) -> bool:
        record = self._records.get(task_id)
        if record is None:
            return False
        if self._by_task.get(_current_task()) is record:
            raise RuntimeError("refusing to kill active coroutine")
        record.scope.cancel()
        return True

    def current(self) -> TaskRecord:
        """The running coroutine's record (a handler gets one on first use)."""
        task = _current_task()
        if task is None:
            raise RuntimeError("no coroutine active")
        record = self._by_task.get(task)
        if record is None:
            record = self._by_task[task] = self._new()
        return record

    # -- reporting ---------------------------------------------------------------

    def report(self, where: str) -> None:
        """An exception escaped app code: to kore.tracer, or to the log."""
        if self.tracer is not None:
            try:
                self.tracer(*sys.exc_info())
                return
            except Exception:
                log.exception("kore.tracer raised an exception")
        log.exception(f"uncaught exception in {where}")

    def _new(self) -> TaskRecord:
        record = TaskRecord(self._next)
        self._next += 1
        self._records[record.id] = record
        self._event(record, "created")
        return record

    def _event(self, record: TaskRecord, what: str) -> None:
        if self.trace:
            log.warning(f"coro {self._label(record)} {what}")

    @staticmethod
    def _label(record: TaskRecord) -> str:
        return f"'{record.name}'" if record.name else str(record.id)


def _current_task():
    try:
        return trio.lowlevel.current_task()
    except RuntimeError:
        return None

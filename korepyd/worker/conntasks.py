"""The tasks a worker serves its connections in, kept between connections.

A task whose connection has ended waits for the next one instead of
ending: handing it a new connection is one reschedule, where starting a
task and ending it cost trio about 50,000 instructions, a fifth of all the
work of a connection that carries one request. Tasks wait last in, first
out (the one that just finished is warm in the caches), and are started
only when none waits, so there are never more than the most connections
the worker held at once (worker_max_connections at worst). Once the
worker stops accepting, close() ends the waiting tasks and the others end
with their connections, so that the nursery can end.

What a connection leaves in its task's contextvars, the next connection
that task serves sees: korepyd keeps nothing there.

Layer: role (worker).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio
from outcome import Value
from trio.lowlevel import Abort, current_task, reschedule, wait_task_rescheduled


class ConnectionTasks:
    def __init__(self, nursery: trio.Nursery, serve: Callable[..., Awaitable[None]]):
        """`serve(*args)` serves one connection; it must not raise Exception."""
        self._nursery = nursery
        self._serve = serve
        self._waiting: list[trio.lowlevel.Task] = []
        self._closed = False

    def start(self, *args) -> None:
        """Serve a connection: `serve(*args)` in a waiting task, or a new one."""
        if self._waiting:
            reschedule(self._waiting.pop(), Value(args))
        else:
            self._nursery.start_soon(self._run, args)

    def close(self) -> None:
        """No connection comes any more: every task ends once it has none."""
        self._closed = True
        while self._waiting:
            reschedule(self._waiting.pop(), Value(None))

    async def _run(self, args: tuple | None) -> None:
        task = current_task()

        def abort(_) -> Abort:
            self._waiting.remove(task)
            return Abort.SUCCEEDED

        while args is not None:
            await self._serve(*args)
            if self._closed:
                return
            self._waiting.append(task)
            args = await wait_task_rescheduled(abort)

"""ConnectionTasks (worker/conntasks.py): a task whose connection ended
serves the next one, new tasks start only when none waits, and close()
or a cancelled nursery ends the waiting tasks."""

import trio
import trio.testing

from korepyd.worker.conntasks import ConnectionTasks


async def test_tasks_are_kept_for_the_next_connections_and_end_at_the_stop():
    served: list[tuple[int, trio.lowlevel.Task]] = []
    first_release, second_release, third_release = trio.Event(), trio.Event(), trio.Event()

    async def serve(number: int, release: trio.Event | None) -> None:
        served.append((number, trio.lowlevel.current_task()))
        if release is not None:
            await release.wait()

    async with trio.open_nursery() as nursery:
        tasks = ConnectionTasks(nursery, serve)
        for number in range(3):  # three connections at once: three tasks
            tasks.start(number, first_release)
        await trio.testing.wait_all_tasks_blocked()
        first = {task for _, task in served}
        assert len(first) == 3 and len(nursery.child_tasks) == 3

        first_release.set()
        await trio.testing.wait_all_tasks_blocked()
        for number in range(3, 8):  # five more, one after another: the same tasks, no new one
            tasks.start(number, None)
            await trio.testing.wait_all_tasks_blocked()
        assert sorted(number for number, _ in served) == list(range(8))
        assert {task for _, task in served[3:]} <= first and len(nursery.child_tasks) == 3

        for number in range(8, 12):  # four at once: the three waiting, and one new
            tasks.start(number, second_release)
        await trio.testing.wait_all_tasks_blocked()
        assert len(nursery.child_tasks) == 4

        second_release.set()
        await trio.testing.wait_all_tasks_blocked()
        tasks.start(12, third_release)   # one busy, three waiting
        await trio.testing.wait_all_tasks_blocked()
        tasks.close()   # the stop: the waiting tasks end now, the busy one once its connection has
        await trio.testing.wait_all_tasks_blocked()
        assert len(nursery.child_tasks) == 1
        third_release.set()
    assert len(served) == 13


async def test_a_cancelled_nursery_ends_the_waiting_tasks():
    async def serve() -> None:
        pass

    with trio.fail_after(1):
        async with trio.open_nursery() as nursery:
            tasks = ConnectionTasks(nursery, serve)
            tasks.start()
            await trio.testing.wait_all_tasks_blocked()
            assert len(nursery.child_tasks) == 1
            nursery.cancel_scope.cancel()

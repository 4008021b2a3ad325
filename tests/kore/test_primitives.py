"""kore.lock, kore.queue and kore.gather on trio, in-process."""

import logging
import warnings

import pytest
import trio

from korepyd import kore


async def test_gather_returns_results_in_completion_order_with_exceptions():
    async def after(ms, value):
        await kore.suspend(ms)
        if isinstance(value, Exception):
            raise value
        return value

    results = await kore.gather(after(30, 1), after(10, 2), after(20, KeyError("k3")))
    assert results[0] == 2 and isinstance(results[1], KeyError) and results[2] == 1
    assert await kore.gather() == []


async def test_gather_concurrency_runs_batches():
    running, peak = 0, 0

    async def job():
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await kore.suspend(5)
        running -= 1

    await kore.gather(*(job() for _ in range(5)), concurrency=2)
    assert peak == 2


def test_gather_refuses_non_coroutines():
    with pytest.raises(TypeError, match="not a coroutine"):
        kore.gather(1)


async def test_lock_serialises_and_reports_misuse():
    lock, order = kore.lock(), []

    async def critical(name):
        async with lock:
            order.append(f"{name} in")
            await kore.suspend(5)
            order.append(f"{name} out")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(critical, "a")
        nursery.start_soon(critical, "b")
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    with pytest.raises(RuntimeError, match="no lock owner set"):
        lock.release()
    async with lock:
        assert not lock.trylock()
        with pytest.raises(RuntimeError, match="recursive lock detected"):
            await lock.acquire()
    assert lock.trylock()
    lock.release()


async def test_queue():
    q = kore.queue()
    assert q.popnow() is None
    q.push(1)
    q.push(2)
    assert q.popnow() == 1
    assert await q.pop() == 2
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: trio.sleep(0.01))
        nursery.start_soon(_push_later, q)
        assert await q.pop() == "late"


async def _push_later(q):
    await trio.sleep(0.01)
    q.push("late")


def test_worker_only_functions_refuse_to_run_in_the_parent():
    assert kore.worker() is None
    with pytest.raises(RuntimeError, match="kore.timer not supported on parent process"):
        kore.timer(lambda: None, 10, 0)
    with pytest.raises(RuntimeError, match="only works in a worker"):
        kore.task_id()
    assert isinstance(kore.time(), int)


def test_task_create_outside_a_worker_never_drops_a_coroutine_silently(caplog):
    from korepyd import log
    from korepyd.kore import _state

    async def job():
        pass

    log.setup("parent")
    logger = logging.getLogger("korepyd")
    logger.propagate = True  # for caplog
    try:
        for phase, warned in ((_state.CONFIGURING, False), (_state.LOADING, False), (_state.PARENT, True)):
            caplog.clear()
            _state.phase = phase
            coro = job()
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # "coroutine was never awaited" would be an error here
                assert kore.task_create(coro) == 0
            assert coro.cr_frame is None  # closed, not left to the garbage collector
            assert ("in the parent, which runs no tasks" in caplog.text) == warned
    finally:
        _state.phase = _state.PARENT
        logger.propagate = False

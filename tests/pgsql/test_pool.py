"""The trio-native PostgreSQL pool against a real server: results in Kore's
format, errors, limits, cancellation and a server restart."""

import pytest
import trio
import trio.testing

from korepyd.worker.pgsql import PgsqlError, Pool, query


async def test_rows_params_and_statements_without_rows(postgres):
    pool = Pool(postgres.conninfo, 2, 10)
    assert await query(pool, "SELECT $1::int + 1 AS n, $2::text AS t, NULL AS nothing, true AS b",
                       ["41", "x"]) == [{"n": "42", "t": "x", "nothing": "", "b": "t"}]
    assert await query(pool, "CREATE TEMP TABLE IF NOT EXISTS t (id int)") is None
    binary = await query(pool, "SELECT $1::bytea AS raw", [b"\x00\x01"], binary=True)
    assert binary == [{"raw": b"\x00\x01"}]
    await pool.close()


async def test_sql_errors_carry_sqlstate_and_leave_the_connection_usable(postgres):
    pool = Pool(postgres.conninfo, 1, 10)
    with pytest.raises(PgsqlError) as error:
        await query(pool, "SELECT * FROM no_such_table")
    assert error.value.sqlstate == "42P01" and "no_such_table" in str(error.value)
    assert isinstance(error.value, RuntimeError)
    assert await query(pool, "SELECT 1 AS one") == [{"one": "1"}]
    with pytest.raises(RuntimeError, match="item 0 is not a string or bytes"):
        await query(pool, "SELECT $1", [1])
    await pool.close()


async def test_conn_max_queues_and_queue_limit_refuses(postgres):
    pool = Pool(postgres.conninfo, 2, 1)
    results, errors = [], []

    async def sleeper():
        try:
            results.append(await query(pool, "SELECT pg_sleep(0.3) IS NULL AS slept"))
        except PgsqlError as exc:
            errors.append(str(exc))

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(sleeper)
            await trio.sleep(0.02)
    assert len(results) == 3 and errors == ["no available connection (pgsql_queue_limit reached)"]
    assert pool._open == 2
    assert trio.current_time() - start >= 0.55  # the third waited for a free connection
    await pool.close()


async def test_a_returned_connection_goes_to_the_longest_waiting_query(postgres):
    pool = Pool(postgres.conninfo, 1, 10)
    held, order = await pool.acquire(), []

    async def waiter(name):
        conn = await pool.acquire()
        order.append(name)
        await trio.sleep(0.01)
        await pool.release(conn)

    async with trio.open_nursery() as nursery:
        for name in ("a", "b"):
            nursery.start_soon(waiter, name)
            await trio.testing.wait_all_tasks_blocked()
        await pool.release(held)
        conn = await pool.acquire()  # comes as the connection comes back: after a and b all the same
        order.append("late")
        await pool.release(conn)
    assert order == ["a", "b", "late"]
    assert pool._open == 1
    await pool.close()


async def test_a_waiter_cancelled_as_its_connection_came_passes_it_on(postgres):
    pool = Pool(postgres.conninfo, 1, 10)
    held, got, scopes = await pool.acquire(), [], {}

    async def waiter(name):
        with trio.CancelScope() as scopes[name]:
            conn = await pool.acquire()
            got.append(name)
            await pool.release(conn)

    with trio.fail_after(5):  # a connection lost on the way would leave b waiting for ever
        async with trio.open_nursery() as nursery:
            for name in ("a", "b"):
                nursery.start_soon(waiter, name)
                await trio.testing.wait_all_tasks_blocked()
            scopes["a"].cancel()
            await pool.release(held)  # handed to a, which will wake cancelled
    assert got == ["b"]
    assert pool._open == 1 and len(pool._idle) == 1 and not pool._waiters
    await pool.close()


async def test_cancelled_query_is_cancelled_on_the_server(postgres):
    pool = Pool(postgres.conninfo, 1, 10)
    start = trio.current_time()
    with trio.move_on_after(0.3):
        await query(pool, "SELECT pg_sleep(10)")
    assert trio.current_time() - start < 2
    assert await query(pool, "SELECT 2 AS two") == [{"two": "2"}]  # the same connection, usable
    assert pool._open == 1
    await pool.close()


async def test_connections_recover_after_a_server_restart(postgres):
    pool = Pool(postgres.conninfo, 2, 10)
    assert await query(pool, "SELECT 1 AS one") == [{"one": "1"}]
    await trio.to_thread.run_sync(postgres.stop)
    await trio.to_thread.run_sync(postgres.start)
    with pytest.raises(PgsqlError):
        await query(pool, "SELECT 1 AS one")  # the old connection is gone
    assert await query(pool, "SELECT 1 AS one") == [{"one": "1"}]  # replaced
    await pool.close()

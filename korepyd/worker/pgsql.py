"""PostgreSQL for handlers, trio-native (Kore: src/pgsql.c and the
python pgsql glue; reference sections 1.5 and 1.7.9).

psycopg has no trio support, but every psycopg operation is a generator
that yields "wait for this fd to be readable/writable"; TrioConnection
drives those generators with trio's own readiness waits (no threads, no
asyncio), and cancels the query on the server when the waiting task is
cancelled, so the connection stays usable. A query goes to libpq as a
cursor would send it, but without the cursor (whose bookkeeping was a
quarter of the work of a request that makes one query): TrioConnection.run
sends it and returns the first result; tests/pgsql/test_run.py holds it to
the cursor's results and errors. The pool lends a connection to one query
at a time, so run() needs no lock. It relies on a few private names of
psycopg 3.3 (_connect_gen, _cancel_gen, _autocommit, _conninfo_attempts,
waiting._ready_poll, pgconn._encoding); pyproject pins psycopg to 3.3.x.

Each worker keeps one Pool per database: at most `pgsql_conn_max`
connections (0: no limit), and at most `pgsql_queue_limit` queries waiting
for one; past that a query fails at once. A connection that broke (the
server restarted) is dropped and replaced by the next query; one left in a
failed transaction is rolled back before it is reused.

Layer: role (worker).
"""

from __future__ import annotations

from collections import deque

import psycopg
import trio
from psycopg import _conninfo_attempts, waiting
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.generators import execute
from psycopg.pq import ExecStatus, Format, TransactionStatus

from korepyd import log
from korepyd.errors import PgsqlError  # noqa: F401  (raised here; apps catch it as kore.PgsqlError)

R, W = waiting.WAIT_R, waiting.WAIT_W
CANCEL_GRACE = 5.0
BYTEA_OID = 17  # bytes parameters are bytea, in binary; str ones are text of no stated type
_ACCEPTED = frozenset({ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK, ExecStatus.EMPTY_QUERY, ExecStatus.COPY_BOTH})


async def _drive(gen, fileno: int | None = None):
    """Run a psycopg generator to completion with trio waits. `fileno` is
    given for generators on an open connection; connect and cancel
    generators yield (fd, wait) pairs instead."""
    try:
        step = next(gen)
        while True:
            fd, wait = step if fileno is None else (fileno, step)
            if wait & W and (ready := waiting._ready_poll(fd, wait)):
                step = gen.send(ready)
            elif wait == R:
                await trio.lowlevel.wait_readable(fd)
                step = gen.send(waiting.READY_R)
            elif wait == W:
                await trio.lowlevel.wait_writable(fd)
                step = gen.send(waiting.READY_W)
            else:
                step = gen.send(await _wait_either(fd))
    except StopIteration as done:
        return done.value


async def _wait_either(fd: int) -> int:
    ready = 0
    async with trio.open_nursery() as nursery:
        async def one(wait_fn, flag):
            nonlocal ready
            await wait_fn(fd)
            ready |= flag
            nursery.cancel_scope.cancel()
        nursery.start_soon(one, trio.lowlevel.wait_readable, waiting.READY_R)
        nursery.start_soon(one, trio.lowlevel.wait_writable, waiting.READY_W)
    return ready


class TrioConnection(psycopg.AsyncConnection):
    def __init__(self, pgconn, row_factory=psycopg.rows.tuple_row):
        super().__init__(pgconn, row_factory)
        self.lock = trio.Lock()

    @classmethod
    async def connect(cls, conninfo: str = "", *, autocommit: bool = True, **kwargs):
        params = conninfo_to_dict(conninfo, **kwargs)
        attempts = await trio.to_thread.run_sync(_conninfo_attempts.conninfo_attempts, params)
        error: Exception | None = None
        for attempt in attempts:
            try:
                conn = await _drive(cls._connect_gen(make_conninfo("", **attempt)))
                break
            except psycopg.Error as exc:
                error = exc
        else:
            raise error or psycopg.OperationalError("no host to connect to")
        conn._autocommit = autocommit
        conn.prepare_threshold = None
        return conn

    async def wait(self, gen, interval=None, timeout=None):
        try:
            return await _drive(gen, self.pgconn.socket)
        except trio.Cancelled:
            if self.pgconn.transaction_status == TransactionStatus.ACTIVE:
                await self._cancel_and_drain(gen)
            raise

    async def run(self, sql: str, args: list | None, binary: bool):
        """Send one query and return its first result: what an
        AsyncRawCursor's execute() sends for these arguments (libpq's
        send_query when there are no parameters and the results are text,
        so that one string may hold several statements; send_query_params
        otherwise), and the errors it raises."""
        pgconn = self.pgconn
        encoding = pgconn._encoding
        if args or binary:
            args = args or ()
            text = "utf-8" if encoding == "ascii" else encoding  # as psycopg's str dumper
            pgconn.send_query_params(sql.encode(encoding), [_dump(arg, text) for arg in args],
                                     param_types=[0 if isinstance(arg, str) else BYTEA_OID for arg in args],
                                     param_formats=[Format.TEXT if isinstance(arg, str) else Format.BINARY
                                                    for arg in args],
                                     result_format=Format.BINARY if binary else Format.TEXT)
        else:
            pgconn.send_query(sql.encode(encoding))
        results = await self.wait(execute(pgconn))
        if not results:
            raise psycopg.InternalError("got no result from the query")
        for result in results:
            if (status := result.status) not in _ACCEPTED:
                if status == ExecStatus.FATAL_ERROR:
                    raise psycopg.errors.error_from_result(result, encoding=encoding)
                if status in (ExecStatus.COPY_IN, ExecStatus.COPY_OUT):
                    raise psycopg.ProgrammingError("COPY is not supported by dbquery")
                raise psycopg.InternalError(f"unexpected result status from query: {ExecStatus(status).name}")
        return results[0]

    async def _cancel_and_drain(self, gen) -> None:
        """The task was cancelled mid-query: cancel it on the server and
        read the answer, so that the connection can be used again."""
        with trio.CancelScope(shield=True), trio.move_on_after(CANCEL_GRACE) as grace:
            try:
                await _drive(self._cancel_gen())
                await _drive(gen, self.pgconn.socket)
            except psycopg.errors.QueryCanceled:
                pass
            except psycopg.Error as exc:
                log.warning(f"pgsql: cancelling a query failed ({exc}); the connection is dropped")
                self.pgconn.finish()
        if grace.cancelled_caught:
            log.warning("pgsql: the server did not end a cancelled query; the connection is dropped")
            self.pgconn.finish()

    async def close(self) -> None:
        if not self.closed:
            trio.lowlevel.notify_closing(self.pgconn.socket)
        await super().close()


class _Waiter:
    """A query waiting for a connection: woken with one, or with None when
    a broken connection was closed and its place may be opened again."""

    __slots__ = ("event", "conn")

    def __init__(self):
        self.event, self.conn = trio.Event(), None


class Pool:
    """The connections of one database in one worker. A connection given
    back goes straight to the query that has waited longest, so a query
    arriving later cannot take it first."""

    def __init__(self, conninfo: str, conn_max: int, queue_limit: int):
        self.conninfo = conninfo
        self.conn_max = conn_max
        self.queue_limit = queue_limit
        self._idle: list[TrioConnection] = []
        self._open = 0
        self._waiters: deque[_Waiter] = deque()

    async def acquire(self) -> TrioConnection:
        while True:
            if self._idle:
                return self._idle.pop()
            if not self.conn_max or self._open < self.conn_max:
                self._open += 1
                try:
                    return await TrioConnection.connect(self.conninfo)
                except BaseException:
                    self._open -= 1
                    raise
            if len(self._waiters) >= self.queue_limit:
                raise PgsqlError("no available connection (pgsql_queue_limit reached)")
            waiter = _Waiter()
            self._waiters.append(waiter)
            try:
                await waiter.event.wait()
            except BaseException:
                if waiter.event.is_set():
                    self._hand_on(waiter.conn)  # given one just as this query was cancelled: the next may have it
                else:
                    self._waiters.remove(waiter)
                raise
            if waiter.conn is not None:
                return waiter.conn

    async def release(self, conn: TrioConnection) -> None:
        usable = not conn.closed and not conn.broken
        if usable and conn.pgconn.transaction_status == TransactionStatus.INERROR:
            with trio.CancelScope(shield=True):
                try:
                    await conn.rollback()
                except psycopg.Error:
                    usable = False
        if usable and conn.pgconn.transaction_status == TransactionStatus.IDLE:
            self._hand_on(conn)
            return
        self._open -= 1
        self._hand_on(None)
        with trio.CancelScope(shield=True):
            await conn.close()

    def _hand_on(self, conn: TrioConnection | None) -> None:
        """`conn` (or, with None, a free place) to the longest waiting query, else to the idle list."""
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.conn = conn
            waiter.event.set()
        elif conn is not None:
            self._idle.append(conn)

    async def close(self) -> None:
        for conn in self._idle:
            await conn.close()
        self._idle.clear()


async def query(pool: Pool, sql: str, params=None, binary: bool = False) -> list[dict] | None:
    """Kore's dbquery: rows as dicts of str (or bytes with binary=True and
    params), None for statements without rows; SQL NULL is "" as in Kore."""
    args = _params(params)
    try:
        conn = await pool.acquire()
    except psycopg.Error as exc:
        raise PgsqlError(f"pgsql error: cannot connect: {str(exc).strip()}", exc.sqlstate) from None
    try:
        try:
            result = await conn.run(sql, args, binary and args is not None)
        except psycopg.Error as exc:
            diag = exc.diag
            text = diag.message_primary or str(exc).strip()
            raise PgsqlError(f"pgsql error: {text}", diag.sqlstate) from None
        if result.nfields == 0:
            return None
        names = [result.fname(i).decode() for i in range(result.nfields)]
        binary_columns = [result.fformat(i) == 1 for i in range(result.nfields)]
        return [{name: _value(result.get_value(row, col), binary_columns[col])
                 for col, name in enumerate(names)} for row in range(result.ntuples)]
    finally:
        await pool.release(conn)


def _params(params):
    if params is None:
        return None
    out = []
    for index, item in enumerate(params):
        if not isinstance(item, (str, bytes)):
            raise RuntimeError(f"pgsql: item {index} is not a string or bytes")
        out.append(item)
    return out


def _dump(arg: str | bytes, encoding: str) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if "\x00" in arg:  # libpq would cut a text parameter there
        raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return arg.encode(encoding)


def _value(raw: bytes | None, binary: bool):
    if raw is None:
        return b"" if binary else ""
    return raw if binary else raw.decode("utf-8", "replace")

"""TrioConnection.run against psycopg's AsyncRawCursor (the reference):
for every query below, on a real server, both give the same first result
(status, columns, their formats and every value), or the same error (type,
SQLSTATE and text), and leave their connections in the same state."""

import psycopg
import pytest

from korepyd.worker.pgsql import TrioConnection

CASES = [
    ("SELECT 1 AS n", None, False),
    ("SELECT 1 AS n", None, True),
    ("SELECT 1 AS n", [], True),
    ("SELECT $1::int + 1 AS n, $2::text AS t, $2 AS u", ["41", "x"], False),
    ("SELECT $1 AS unknown_type", ["abc"], False),
    ("SELECT $1 + 1 AS typed_by_the_server", ["41"], False),
    ("SELECT $1::bytea AS raw, length($1) AS len", [b"\x00\x01\xff"], False),
    ("SELECT $1::bytea AS raw, $2::text AS t", [b"\x00\x01", "x"], True),
    ("SELECT $1::text AS t", [b"not text in binary"], False),
    ("SELECT 'caf\u00e9 \u2713' AS e, $1 AS p", ["\u00e9t\u00e9 \U0001f600"], False),
    ("SELECT NULL AS nothing, ''::text AS empty, true AS b", None, False),
    ("SELECT NULL::bytea AS nothing", [], True),
    ("SELECT generate_series(1, 3) AS i, 'row' AS r", None, False),
    ("SELECT 1 AS a; SELECT 2 AS b", None, False),
    ("SELECT 1 AS a; SELECT * FROM no_such_table", None, False),
    ("SELECT $1 AS a; SELECT 2", ["x"], False),
    ("CREATE TEMP TABLE t (id int); INSERT INTO t VALUES (1), (2)", None, False),
    ("", None, False),
    (";", None, False),
    ("SELECT * FROM no_such_table", None, False),
    ("SELEC 1", None, False),
    ("SELECT $1, $2", ["only one"], False),
    ("SELECT 1/0", None, False),
    ("SELECT $1 AS nul", ["a\x00b"], False),
    ("SELECT $1 AS surrogate", ["\udc80"], False),
    ("SELECT '\udc80' AS surrogate", None, False),
    ("COPY (SELECT 1) TO STDOUT", None, False),
    ("BEGIN; SELECT 1 AS in_transaction", None, False),
]


def _outcome(result):
    if result is None:
        return None
    return (result.status, result.command_status, result.nfields, result.ntuples,
            [(result.fname(c), result.ftype(c), result.fformat(c)) for c in range(result.nfields)],
            [[result.get_value(r, c) for c in range(result.nfields)] for r in range(result.ntuples)])


def _error(exc):
    return (type(exc), getattr(getattr(exc, "diag", None), "sqlstate", None), str(exc))


async def _by_cursor(conninfo, sql, args, binary):
    conn = await TrioConnection.connect(conninfo)
    try:
        cursor = psycopg.AsyncRawCursor(conn)
        try:
            await cursor.execute(sql, args, binary=binary)
        except (psycopg.Error, UnicodeError) as exc:
            return _error(exc), conn.pgconn.transaction_status
        return _outcome(cursor.pgresult), conn.pgconn.transaction_status
    finally:
        await conn.close()


async def _by_run(conninfo, sql, args, binary):
    conn = await TrioConnection.connect(conninfo)
    try:
        try:
            result = await conn.run(sql, args, binary)
        except (psycopg.Error, UnicodeError) as exc:
            return _error(exc), conn.pgconn.transaction_status
        return _outcome(result), conn.pgconn.transaction_status
    finally:
        await conn.close()


@pytest.mark.parametrize(("sql", "args", "binary"), CASES)
async def test_run_gives_what_the_cursor_gives(postgres, sql, args, binary):
    expected = await _by_cursor(postgres.conninfo, sql, args, binary)
    got = await _by_run(postgres.conninfo, sql, args, binary)
    if sql.startswith("COPY"):  # the one message that differs: the cursor's names its own copy()
        assert expected[0][:2] == got[0][:2] == (psycopg.ProgrammingError, None)
        assert got[0][2] == "COPY is not supported by dbquery"
        expected, got = expected[1], got[1]
    assert got == expected

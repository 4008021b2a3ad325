"""kore.dbsetup, kore.dbquery and the Kore 3.x names (Kore: python_kore_
pgsql_register() and pykore_pgsql; reference section 1.7.9). The work is
in worker/pgsql.py; databases registered in configure() (which every
worker replays) are known to every worker.

Layer: app API (kore).
"""

from __future__ import annotations

from korepyd.errors import PgsqlError  # noqa: F401  (kore.PgsqlError; psycopg is imported on first use)
from korepyd.kore import _state


def dbsetup(name: str, conninfo: str) -> bool:
    """Register a database by name (a libpq connection string)."""
    _state.databases[str(name)] = str(conninfo)
    return True


register_database = dbsetup  # Kore 3.x


def dbquery(db: str, query: str, params=None, binary: bool = False):
    """An awaitable: the rows of `query` as dicts, or None (`$1` placeholders)."""
    rt = _state.runtime
    if rt is None:
        raise RuntimeError("kore.dbquery() only works in a worker")
    if db not in _state.databases:
        raise RuntimeError(f"no database named '{db}' (kore.dbsetup() it in configure())")
    return rt.dbquery(db, _state.databases[db], query, params, binary)

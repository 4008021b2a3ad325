"""A Kore app that inserts and reads rows through the daemon, against a
throwaway PostgreSQL cluster (Kore 4.x dbsetup/dbquery and 3.x req.pgsql)."""

import json

import pytest

from tests.integration.daemon import Daemon, free_port

APP = '''
import json
import kore


class Notes:
    def configure(self, args):
        kore.config.workers = 2
        kore.config.pgsql_conn_max = 2
        kore.server(ip="127.0.0.1", port=args[1], tls=False)
        kore.dbsetup("db", args[2])
        d = kore.domain("*")
        d.route("/setup", self.setup, methods=["get"])
        d.route("/add", self.add, methods=["post"], post={"text": "^[a-z ]{1,40}$"})
        d.route("/list", self.list, methods=["get"])
        d.route("/bad", self.bad, methods=["get"])
        d.route("/legacy", self.legacy, methods=["get"])

    async def setup(self, req):
        await kore.dbquery("db", "CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, text text)")
        req.response(200, b"ok")

    async def add(self, req):
        req.populate_post()
        rows = await kore.dbquery("db", "INSERT INTO notes (text) VALUES ($1) RETURNING id",
                                  params=[req.argument("text")])
        req.response(201, rows[0]["id"].encode())

    async def list(self, req):
        rows = await kore.dbquery("db", "SELECT id, text FROM notes ORDER BY id")
        req.response(200, json.dumps(rows).encode())

    async def bad(self, req):
        try:
            await kore.dbquery("db", "SELECT nope FROM notes")
        except RuntimeError as exc:
            req.response(500, json.dumps({"sqlstate": exc.sqlstate, "error": str(exc)}).encode())

    async def legacy(self, req):
        rows = await req.pgsql("db", "SELECT count(*) AS n FROM notes")
        req.response(200, rows[0]["n"].encode())


koreapp = Notes()
'''


@pytest.fixture
def notes(tmp_path, postgres):
    (tmp_path / "app.py").write_text(APP)
    port = free_port()
    daemon = Daemon(tmp_path, port, command=("app.py", str(port), postgres.conninfo))
    daemon.wait_ready("/list")
    yield daemon
    daemon.stop()


def test_insert_and_read_rows_through_the_daemon(notes):
    assert notes.get("/setup") == (200, b"ok")
    ids = []
    for text in ("first note", "second note", "third"):
        status, body = notes.get("/add", method="POST", body=f"text={text}".encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 201
        ids.append(body.decode())
    rows = json.loads(notes.get("/list")[1])
    assert [r["text"] for r in rows if r["id"] in ids] == ["first note", "second note", "third"]
    assert int(notes.get("/legacy")[1]) >= 3
    status, body = notes.get("/bad")
    assert status == 500 and json.loads(body)["sqlstate"] == "42703"

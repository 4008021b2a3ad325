"""The example site korepyd serves with `make run` (conf/kore.conf).

A config-style Kore app: kore.conf names these functions, korepyd calls
them with the request. The same file runs unchanged under Kore.
"""

import os

import kore

# A libpq connection string; the /db page queries that database.
DATABASE = os.environ.get("KOREPYD_EXAMPLE_DB")
if DATABASE:
    kore.dbsetup("example", DATABASE)

INDEX = """<!doctype html>
<meta charset="utf-8">
<title>korepyd example</title>
<h1>korepyd example site</h1>
<ul>
  <li><a href="/hello">/hello</a>: a plain text handler</li>
  <li><a href="/user/42">/user/42</a>: a regex route with a capture</li>
  <li><a href="/greet?name=kore">/greet?name=kore</a>: a validated query parameter</li>
  <li><a href="/slow">/slow</a>: an async handler that waits without blocking the worker</li>
  <li><a href="/private">/private</a>: a page behind an authentication block (log in first)</li>
  <li><a href="/login">/login</a>: sets the session cookie /private wants</li>
  <li><a href="/static/">/static/</a>: files from a filemap</li>
  <li><a href="/chat/">/chat/</a>: a websocket chat (open it in two windows)</li>
  {database}
</ul>
"""
DATABASE_LINK = '<li><a href="/db">/db</a>: a PostgreSQL query</li>'
NO_DATABASE = "<li>a PostgreSQL page, once KOREPYD_EXAMPLE_DB names a database (see conf/kore.conf)</li>"


def index(req):
    req.response_header("content-type", "text/html; charset=utf-8")
    req.response(200, INDEX.format(database=DATABASE_LINK if DATABASE else NO_DATABASE).encode())


def hello(req):
    req.response_header("content-type", "text/plain")
    req.response(200, b"Hello, World!")


def user(req, user_id):
    req.response_header("content-type", "text/plain")
    req.response(200, f"user {user_id}\n".encode())


def greet(req):
    req.populate_get()
    name = req.argument("name") or "stranger"
    req.response_header("content-type", "text/plain")
    req.response(200, f"hello, {name}\n".encode())


async def slow(req):
    async def step(ms):
        await kore.suspend(ms)
        return ms

    waited = await kore.gather(step(300), step(100), step(200))
    req.response_header("content-type", "text/plain")
    req.response(200, f"three waits finished in the order {waited}\n".encode())


async def database(req):
    req.response_header("content-type", "text/plain; charset=utf-8")
    if not DATABASE:
        req.response(404, b"no database: start with KOREPYD_EXAMPLE_DB set to a libpq connection string\n")
        return
    try:
        rows = await kore.dbquery("example", "SELECT current_database() AS name, version() AS version, "
                                             "now()::text AS now")
    except kore.PgsqlError as exc:
        req.response(503, f"the database said: {exc}\n".encode())
        return
    row = rows[0]
    req.response(200, f"database {row['name']} at {row['now']}\n{row['version']}\n".encode())


def login(req):
    req.response_header("set-cookie", "session=example-session; Path=/; HttpOnly")
    req.response_header("location", "/private")
    req.response(302, b"")


def private(req):
    req.response_header("content-type", "text/plain")
    req.response(200, b"the session cookie was accepted: this is the private page\n")


def ws(req):
    req.websocket_handshake(chat_connect, chat_message, chat_disconnect)


def chat_connect(conn):
    conn.websocket_send(kore.WEBSOCKET_OP_TEXT, f"welcome, you are on worker {kore.worker()}".encode())


def chat_message(conn, op, data):
    kore.websocket_broadcast(conn, op, data, kore.WEBSOCKET_BROADCAST_GLOBAL)
    conn.websocket_send(op, data)


def chat_disconnect(conn):
    pass


def v_name(req, value):
    """A function validator: a name of letters, at most 32 of them."""
    return value.isalpha() and len(value) <= 32


def onload(action):
    if action == kore.MODULE_LOAD:
        kore.log(kore.LOG_INFO, "example site loaded")
    return kore.RESULT_OK

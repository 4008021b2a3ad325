"""The example site korepyd serves with `make run` (conf/kore.conf).

A config-style Kore app: kore.conf names these functions, korepyd calls
them with the request. The same file runs unchanged under Kore.
"""

import kore

INDEX = b"""<!doctype html>
<title>korepyd example</title>
<h1>korepyd example site</h1>
<ul>
  <li><a href="/hello">/hello</a>: a plain text handler</li>
  <li><a href="/user/42">/user/42</a>: a regex route with a capture</li>
  <li><a href="/greet?name=kore">/greet?name=kore</a>: a validated query parameter</li>
  <li><a href="/static/">/static/</a>: files from a filemap</li>
</ul>
"""


def index(req):
    req.response_header("content-type", "text/html; charset=utf-8")
    req.response(200, INDEX)


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


def v_name(req, value):
    """A function validator: a name of letters, at most 32 of them."""
    return value.isalpha() and len(value) <= 32


def onload(action):
    if action == kore.MODULE_LOAD:
        kore.log(kore.LOG_INFO, "example site loaded")
    return kore.RESULT_OK

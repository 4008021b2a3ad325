"""The HTTP engine through the real daemon on 127.0.0.1: the request corpus
over real sockets, routing, parameters, redirects, filemaps (with every
traversal form we know of) and slow clients."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, write_site

CORPUS = Path(__file__).parent.parent / "http1" / "requests"

CONF = """
python_import app.py
server main {{
    bind 127.0.0.1 {port}
    tls no
}}
workers 1
http_body_max 1024
http_body_disk_offload 200
http_body_disk_path bodies
http_header_timeout 2
http_keepalive_time 5
worker_max_connections 1000
worker_rlimit_nofiles 2048
validator v_id regex ^[0-9]+$
validator v_word function is_word
validator v_session regex ^valid-[0-9]+$
validator v_token function check_token
validator v_whole function check_request

authentication by_cookie {{
    authentication_type cookie
    authentication_value session
    authentication_validator v_session
    authentication_uri /login
}}
authentication by_header {{
    authentication_type header
    authentication_value X-Token
    authentication_validator v_token
}}
authentication by_request {{
    authentication_type request
    authentication_validator v_whole
}}

domain * {{
    attach main
    redirect ^/old/(.*)$ 301 /new/$1
    return ^/gone$ 410
    route / {{
        handler index
    }}
    route ^/user/([0-9]+)/([a-z]+)$ {{
        handler user
        methods get
    }}
    route /params {{
        handler show_params
        methods get post
        validate qs:get id v_id
        validate post word v_word
    }}
    route /echo {{
        handler echo
        methods post put
    }}
    route /boom {{
        handler boom
    }}
    route /silent {{
        handler silent
    }}
    route /inject {{
        handler inject
    }}
    route /private {{
        handler index
        authenticate by_cookie
    }}
    route /api {{
        handler index
        authenticate by_header
    }}
    route /whole {{
        handler index
        authenticate by_request
    }}
    route /upload {{
        handler upload_done
        methods post
        on_headers upload_start
        on_body_chunk upload_chunk
        on_free upload_free
    }}
    route /freed {{
        handler freed
    }}
    route /form {{
        handler form
        methods post
        validate post title v_word
    }}
    route /stored {{
        handler stored
        methods post
    }}
    filemap /files/ public
    filemap /secure/ public by_cookie
    accesslog access.log
}}
"""

APP = """
import json

def index(req):
    req.response(200, b"index")

def user(req, uid, tab):
    req.response(200, f"{uid}:{tab}".encode())

def is_word(req, value):
    return value.isalpha()

def show_params(req):
    req.populate_get()
    req.populate_post()
    req.response(200, json.dumps({"id": req.argument("id"), "word": req.argument("word"),
                                  "other": req.argument("other")}).encode())

def echo(req):
    req.response(200, req.body)

def boom(req):
    raise ValueError("handler failure")

def silent(req):
    pass

def check_token(req, value):
    return value == "t0ken"

def check_request(req):
    if req.request_header("x-sign") == "ok":
        return True
    req.response(401, b"signed requests only")
    return False

FREED = []

def upload_start(req):
    if req.request_header("x-refuse"):
        return False
    req.received = []
    return True

def upload_chunk(req, data):
    req.received.append(len(data))

def upload_done(req):
    req.response(200, str(sum(req.received)).encode())

def upload_free(req):
    FREED.append(req.path)

def freed(req):
    req.response(200, str(len(FREED)).encode())

def form(req):
    req.populate_multi()
    upload = req.file_lookup("upload")
    n, data = upload.read(1 << 20) if upload else (0, b"")
    req.response(200, json.dumps({"title": req.argument("title"), "secret": req.argument("secret"),
                                  "file": upload and upload.filename, "size": n}).encode())

def stored(req):
    import os
    where = req.body_path
    on_disk = where is not None and os.path.exists(where)
    first = req.body_read(5)[1]
    req.response(200, json.dumps({"on_disk": on_disk, "size": len(req.body), "first": first.decode(),
                                  "digest": req.body_digest.hex()}).encode())

def inject(req):
    req.populate_get()
    req.response_header("x-value", req.request_header("x-in"))
    req.response(200, b"should not be sent")
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    directory = tmp_path_factory.mktemp("http")
    public = directory / "public"
    (public / "sub").mkdir(parents=True)
    (public / "index.html").write_text("<p>index</p>")
    (public / "a.txt").write_text("file a")
    (public / "sub" / "b.txt").write_text("file b")
    (public / "empty.txt").write_text("")
    (public / "big.bin").write_bytes(bytes(range(256)) * 12289)  # about 3 MiB: several sendfile rounds
    (directory / "secret.txt").write_text("TOP SECRET")
    (directory / "public-private").mkdir()
    (directory / "public-private" / "x.txt").write_text("TOP SECRET sibling")
    os.symlink(directory / "secret.txt", public / "link.txt")
    port = write_site(directory, CONF, APP)
    daemon = Daemon(directory, port)
    daemon.wait_ready("/")
    yield daemon
    daemon.stop()


def raw_exchange(daemon: Daemon, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send `payload` on a fresh connection; return everything until close."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


INVALID = sorted((CORPUS / "invalid").glob("*.http"))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_request_gets_one_error_and_the_connection_closes(site, path):
    expected = json.loads(path.with_suffix(".json").read_text())["status"]
    answer = raw_exchange(site, path.read_bytes())
    assert answer.startswith(f"HTTP/1.1 {expected} ".encode()), answer[:200]
    assert answer.count(b"HTTP/1.") == 1
    assert b"connection: close" in answer.lower()


def test_pipelined_requests_are_answered_in_order(site):
    answer = raw_exchange(site, b"GET /user/1/a HTTP/1.1\r\nHost: x\r\n\r\nGET /user/2/b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b"1:a") < answer.index(b"2:b")


@pytest.mark.parametrize("path, status, body", [
    ("/", 200, b"index"),
    ("/user/42/posts", 200, b"42:posts"),
    ("/user/x/posts", 404, b""),
    ("/nothing", 404, b""),
    ("/gone", 410, b""),
])
def test_routes(site, path, status, body):
    assert site.get(path) == (status, body)


def test_method_not_allowed(site):
    assert site.get("/user/1/a", method="DELETE")[0] == 405


def test_redirect_substitutes_captures(site):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    conn.request("GET", "/old/a/b")
    response = conn.getresponse()
    assert (response.status, response.getheader("location")) == (301, "/new/a/b")
    conn.close()


def test_only_validated_parameters_reach_the_handler(site):
    status, body = site.get("/params?id=12&other=1&word=qs", method="POST", body=b"word=hello&id=5",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert json.loads(body) == {"id": None, "word": "hello", "other": None}  # POST: id is not qs:post
    assert json.loads(site.get("/params?id=12&word=x")[1]) == {"id": "12", "word": None, "other": None}
    assert json.loads(site.get("/params?id=12a")[1])["id"] is None


def test_bodies_and_expect_continue(site):
    assert site.get("/echo", method="POST", body=b"x" * 1000) == (200, b"x" * 1000)
    assert site.get("/echo", method="POST", body=b"x" * 1025)[0] == 413
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as sock:
        sock.sendall(b"PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = b""
        while not answer.endswith(b"hello"):
            answer += sock.recv(1000)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"hello")


def test_handler_errors_are_500_and_the_worker_survives(site):
    assert site.get("/boom")[0] == 500
    assert site.get("/silent")[0] == 500
    assert site.get("/")[0] == 200
    assert "ValueError: handler failure" in site.log()
    assert "returned without a response" in site.log()


def test_response_splitting_is_impossible(site):
    status, body = site.get("/inject", headers={"X-In": "a"})
    assert status == 200
    answer = raw_exchange(site, b"GET /inject HTTP/1.1\r\nHost: x\r\nX-In: a\r\n\r\n")
    assert b"x-value: a\r\n" in answer


def test_head_has_headers_but_no_body(site):
    answer = raw_exchange(site, b"HEAD /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"content-length: 6\r\n" in answer and answer.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("path, status, body", [
    ("/files/a.txt", 200, b"file a"),
    ("/files/sub/b.txt", 200, b"file b"),
    ("/files/", 200, b"<p>index</p>"),
    ("/files/sub", 302, b""),
    ("/files/sub/", 404, b""),          # no index.html there, and no listings
    ("/files/empty.txt", 404, b""),
    ("/files/missing.txt", 404, b""),
    ("/files", 404, b""),               # the URI root is /files/
])
def test_filemap(site, path, status, body):
    assert site.get(path) == (status, body)


TRAVERSALS = [
    "/files/../secret.txt", "/files/..%2fsecret.txt", "/files/%2e%2e/secret.txt", "/files/%2e%2e%2fsecret.txt",
    "/files/sub/../../secret.txt", "/files/sub/%2e%2e/%2e%2e/secret.txt", "/files/.%2e/secret.txt",
    "/files/%252e%252e/secret.txt", "/files/..%5csecret.txt", "/files//etc/passwd", "/files/%2fetc%2fpasswd",
    "/files/%c0%ae%c0%ae/secret.txt", "/files/..;/secret.txt", "/files/link.txt", "/files/a.txt/",
    "/files/../public-private/x.txt", "/files/%2e%2e/public-private/x.txt", "/files/a.txt%00.html",
    "/files/%2e%2e", "/files/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_leaves_the_filemap(site, path):
    answer = raw_exchange(site, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert b"TOP SECRET" not in answer and b"root:" not in answer
    assert answer.split(b" ", 2)[1] in (b"400", b"404"), answer[:100]


def test_a_served_file_that_changes_is_served_as_it_now_is(site):
    """The worker holds served files open (worker/filerefs.py): a file
    replaced under its name, written in place, deleted, or turned into a
    symlink out of the filemap is served as it is now, not as it was."""
    path = site.dir / "public" / "changing.txt"
    path.write_text("one")
    assert site.get("/files/changing.txt") == (200, b"one")
    (site.dir / "public" / "changing.new").write_text("two, replaced")
    os.rename(site.dir / "public" / "changing.new", path)
    assert site.get("/files/changing.txt") == (200, b"two, replaced")
    with open(path, "r+") as file:
        file.write("THREE, in place, longer")
    assert site.get("/files/changing.txt") == (200, b"THREE, in place, longer")
    path.unlink()
    assert site.get("/files/changing.txt")[0] == 404
    os.symlink(site.dir / "secret.txt", path)
    assert site.get("/files/changing.txt")[0] == 404


def test_filemap_refuses_other_methods(site):
    assert site.get("/files/a.txt", method="POST", body=b"")[0] in (405, 411)
    assert site.get("/files/a.txt", method="DELETE")[0] == 405


def test_idle_clients_are_closed_after_the_header_timeout_while_others_are_served(site):
    idle = []
    try:
        for _ in range(500):
            idle.append(socket.create_connection(("127.0.0.1", site.port), timeout=10))
        started = time.monotonic()
        served = [site.get("/")[0] for _ in range(20)]
        assert served == [200] * 20
        for sock in idle:
            sock.settimeout(max(0.1, 2 + 3 - (time.monotonic() - started)))
            assert sock.recv(1) == b""  # closed by the server, without a byte
        assert time.monotonic() - started < 2 + 3
    finally:
        for sock in idle:
            sock.close()


def response_headers(daemon, path, headers=None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_cookie_authentication_redirects_to_authentication_uri(site):
    assert site.get("/private", headers={"Cookie": "session=valid-12"}) == (200, b"index")
    refused = response_headers(site, "/private", {"Cookie": "sessionid=valid-12"})  # exact name (Kore: prefix)
    assert (refused.status, refused.getheader("location")) == (302, "/login")
    assert response_headers(site, "/private").status == 302


def test_header_and_request_authentication(site):
    assert site.get("/api", headers={"X-Token": "t0ken"}) == (200, b"index")
    assert site.get("/api", headers={"X-Token": "nope"})[0] == 403
    assert site.get("/whole", headers={"X-Sign": "ok"}) == (200, b"index")
    assert site.get("/whole") == (401, b"signed requests only")  # the validator's own answer


def test_filemap_with_authentication(site):
    assert site.get("/secure/a.txt")[0] == 302
    assert site.get("/secure/a.txt", headers={"Cookie": "session=valid-1"}) == (200, b"file a")


def test_route_hooks_stream_the_body_and_run_on_free(site):
    before = int(site.get("/freed")[1])
    body = b"x" * 1000
    assert site.get("/upload", method="POST", body=body) == (200, b"1000")
    assert site.get("/upload", method="POST", body=body, headers={"X-Refuse": "1"})[0] == 403
    assert int(site.get("/freed")[1]) == before + 2


def test_date_and_server_headers(site):
    response = response_headers(site, "/")
    assert response.getheader("server").startswith("korepyd (")
    assert response.getheader("date").endswith(" GMT")


def test_access_log_has_one_escaped_line_per_request(site):
    marker = f"/user/77/log{int(time.time() * 1000) % 100000}"
    marker = "/user/77/" + "".join(c for c in marker.split("/")[-1] if c.isalpha())
    site.get(marker, headers={"User-Agent": "evil\x1b[31magent", "Referer": "http://ref/"})
    raw_exchange(site, b"GET /user/1/%0d%0ainjected HTTP/1.1\r\nHost: x\r\n\r\n")
    log_path = site.dir / "access.log"
    deadline = time.monotonic() + 5
    while b"injected" not in (log_path.read_bytes() if log_path.exists() else b""):
        assert time.monotonic() < deadline, "no access-log line"
        time.sleep(0.05)
    lines = log_path.read_bytes().split(b"\n")
    ours = [line for line in lines if marker.encode() in line]
    assert len(ours) == 1
    assert b'"GET ' + marker.encode() + b' HTTP/1.1" 200 ' in ours[0]
    assert ours[0].startswith(b"127.0.0.1 - - [")
    assert b'"http://ref/" "evil\\x1b[31m' in ours[0]
    assert not any(b < 0x20 for line in lines for b in line)


def test_large_file_arrives_whole(site):
    assert site.get("/files/big.bin", timeout=20) == (200, (site.dir / "public" / "big.bin").read_bytes())


def test_etag_and_last_modified_give_304(site):
    first = response_headers(site, "/files/a.txt")
    tag, modified = first.getheader("etag"), first.getheader("last-modified")
    assert tag and modified and first.getheader("accept-ranges") == "bytes"
    assert response_headers(site, "/files/a.txt", {"If-None-Match": tag}).status == 304
    assert response_headers(site, "/files/a.txt", {"If-Modified-Since": modified}).status == 304
    assert response_headers(site, "/files/a.txt", {"If-None-Match": '"other"'}).status == 200


def test_byte_ranges(site):
    import http.client

    def ranged(value):
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
        conn.request("GET", "/files/big.bin", headers={"Range": value})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, response.getheader("content-range"), body

    data = (site.dir / "public" / "big.bin").read_bytes()
    assert ranged("bytes=10-19") == (206, f"bytes 10-19/{len(data)}", data[10:20])
    assert ranged("bytes=-5") == (206, f"bytes {len(data) - 5}-{len(data) - 1}/{len(data)}", data[-5:])
    assert ranged(f"bytes={len(data)}-")[:2] == (416, f"bytes */{len(data)}")


def test_multipart_fields_are_validated_and_files_found(site):
    body = (b"--B0undary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"
            b"--B0undary\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nundeclared\r\n"
            b"--B0undary\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"f.bin\"\r\n\r\n"
            b"\x00\x01\x02\r\n--B0undary--\r\n")
    status, answer = site.get("/form", method="POST", body=body,
                              headers={"Content-Type": "multipart/form-data; boundary=B0undary"})
    assert status == 200
    assert json.loads(answer) == {"title": "hello", "secret": None, "file": "f.bin", "size": 3}


@pytest.mark.parametrize("size, on_disk", [(150, False), (900, True)])
def test_large_bodies_go_to_a_file_and_are_removed(site, size, on_disk):
    import hashlib

    body = bytes(range(97, 123)) * (size // 26) + b"z" * (size % 26)
    status, answer = site.get("/stored", method="POST", body=body)
    assert status == 200
    assert json.loads(answer) == {"on_disk": on_disk, "size": size, "first": "abcde",
                                  "digest": hashlib.sha256(body).hexdigest()}
    deadline = time.monotonic() + 5  # removed just after the response is written
    while list((site.dir / "bodies").iterdir()):
        assert time.monotonic() < deadline, "the offloaded body was not removed"
        time.sleep(0.02)
    assert (site.dir / "bodies").stat().st_mode & 0o777 == 0o700


LIMITED = """
python_import app.py
server main {{
    bind 127.0.0.1 {port}
    tls no
}}
workers 1
http_request_limit 1
http_pretty_error yes
domain * {{
    attach main
    route /slow {{
        handler slow
    }}
    route /teapot {{
        handler teapot
    }}
}}
"""

LIMITED_APP = """
import kore

async def slow(req):
    await kore.suspend(1500)
    req.response(200, b"done")

def teapot(req):
    req.response(418, b"short and stout")
"""


def test_request_limit_and_pretty_errors(tmp_path):
    import threading

    port = write_site(tmp_path, LIMITED, LIMITED_APP)
    daemon = Daemon(tmp_path, port)
    try:
        daemon.wait_ready("/teapot")
        status, page = daemon.get("/missing")
        assert status == 404 and page.startswith(b"<html>") and b"<h1>404 Not Found</h1>" in page
        assert daemon.get("/teapot") == (418, b"short and stout")  # a body of its own is kept (Kore corrupts it)
        first = {}
        slow = threading.Thread(target=lambda: first.update(r=daemon.get("/slow")))
        slow.start()
        time.sleep(0.5)
        status, page = daemon.get("/teapot")
        assert status == 503 and b"503 Service Unavailable" in page
        slow.join(10)
        assert first["r"] == (200, b"done")
    finally:
        daemon.stop()


def test_redirects_keep_the_connection(site):
    answer = raw_exchange(site, b"GET /old/a HTTP/1.1\r\nHost: x\r\n\r\nGET /old/b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.count(b"HTTP/1.1 301 ") == 2, answer


def test_a_refused_head_request_gets_a_head_without_a_body(tmp_path):
    """A HEAD refused after its head was read (413 here) with http_pretty_error
    on: the error page is not sent, and nothing breaks."""
    conf = ("server s {{\n bind 127.0.0.1 {port}\n tls no\n}}\nhttp_pretty_error yes\nhttp_body_max 10\n"
            "domain * {{\n attach s\n route / {{\n  handler index\n }}\n}}\npython_import app.py\n")
    port = write_site(tmp_path, conf, "def index(req):\n    req.response(200, b'x')\n")
    daemon = Daemon(tmp_path, port)
    try:
        daemon.wait_ready()
        answer = raw_exchange(daemon, b"HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 413 ") and answer.endswith(b"\r\n\r\n"), answer
        assert "internal error" not in daemon.log()
    finally:
        daemon.stop()

"""Response heads (pure): Kore's header order, keep-alive, HSTS on TLS only."""

from korepyd.core import response
from korepyd.core.response import http_date, last_modified, pretty_error
from korepyd.http1.response import HeadPolicy, head_headers, reason

POLICY = HeadPolicy(b"korepyd (test)", keepalive=20, hsts=31536000)


def test_kore_header_order_and_keep_alive():
    headers = head_headers(POLICY, [("X-A", "1")], keep_alive=True, tls=False, length=5, date=b"D")
    assert list(headers) == [(b"server", b"korepyd (test)"), (b"date", b"D"), (b"connection", b"keep-alive"),
                       (b"keep-alive", b"timeout=20"), (b"X-A", b"1"), (b"content-length", b"5")]


def test_hsts_only_on_tls_and_only_when_enabled():
    tls = head_headers(POLICY, [], keep_alive=False, tls=True, length=0, date=b"D")
    assert (b"strict-transport-security", b"max-age=31536000; includeSubDomains") in tls
    assert not any(n == b"strict-transport-security"
                   for n, _ in head_headers(POLICY, [], keep_alive=False, tls=False, length=0, date=b"D"))
    off = HeadPolicy(b"s", keepalive=20, hsts=0)
    assert not any(n == b"strict-transport-security"
                   for n, _ in head_headers(off, [], keep_alive=False, tls=True, length=0, date=b"D"))


def test_no_content_length_when_none():
    headers = head_headers(POLICY, [], keep_alive=False, tls=False, length=None, date=b"D")
    assert list(headers)[-1] == (b"connection", b"close")


def test_reason_phrases_and_pretty_page():
    assert (reason(200), reason(418), reason(599)) == (b"OK", b"I'm a Teapot", b"Unknown")
    assert pretty_error(404) == b"<html>\n<head>\n\t<title>404 Not Found</title></head>\n<body>\n\t<h1>404 Not Found</h1>\n</body>\n</html>\n"


def test_dates_are_written_as_the_standard_library_writes_them():
    from email.utils import formatdate

    for when in (0, 951782400.5, 1700000000, 1767225599, 4102444800, 1782777600.999):
        assert http_date(when) == formatdate(when, usegmt=True).encode()


def test_last_modified_is_remembered_per_time_within_a_bound(monkeypatch):
    monkeypatch.setattr(response, "_LAST_MODIFIED", {})
    monkeypatch.setattr(response, "_LAST_MODIFIED_MAX", 3)
    times = (1700000000.25, 1700000001.5, 0.0, 1782777600.999)
    for when in times + times:
        assert last_modified(when) == http_date(when).decode()
        assert 1 <= len(response._LAST_MODIFIED) <= 3
    assert last_modified(1700000000.25) is last_modified(1700000000.25)  # the same text, not formatted again

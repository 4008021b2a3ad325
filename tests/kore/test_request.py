"""`req` in memory: what a handler records for its response."""

import pytest

from korepyd.kore._request import HttpRequest


def request(query: str = "") -> HttpRequest:
    return HttpRequest(method="get", path="/", query=query, headers=[("host", "x")], body=b"", tls=False)


def test_a_header_set_twice_keeps_its_last_value_at_the_last_place():
    req = request()
    req.response_header("X-A", "1")
    req.response_header("content-type", "text/plain")
    req.response_header("x-a", "2")
    assert req.response_headers == [("content-type", "text/plain"), ("x-a", "2")]


@pytest.mark.parametrize("name, value", [("bad name", "v"), ("x", "a\r\nb"), ("x", "a\0b"), ("", "v"), (b"x", "v"),
                                         (5, "v"), ("x", "a\nb")])
def test_a_header_that_could_split_the_response_is_refused(name, value):
    with pytest.raises(ValueError):
        request().response_header(name, value)


def test_a_refused_name_stays_refused_and_a_value_becomes_text():
    req = request()
    for _ in range(2):  # valid names are remembered; a refused one is checked again each time
        req.response_header("x-count", 5)
        with pytest.raises(ValueError):
            req.response_header("x count", "v")
    assert req.response_headers == [("x-count", "5")]

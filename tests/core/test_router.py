"""Domain and route resolution, from configuration text (pure)."""

import pytest

from korepyd import config
from korepyd.core.router import METHOD_NOT_ALLOWED, NOT_FOUND, Match, Rewrite, Router

CONF = """
server s {
    bind 127.0.0.1 8888
    tls no
}
domain *.example.com {
    attach s
    route / {
        handler wild_index
    }
}
domain www.example.com {
    attach s
    redirect ^/old/(.*)$ 301 /new/$1?$qs
    return ^/gone$ 410
    route / {
        handler index
        methods get
    }
    route / {
        handler index_post
        methods post
    }
    route ^/user/([0-9]+)/(posts|likes)?$ {
        handler user
        methods get
    }
    route /only-post {
        handler only_post
        methods post
    }
    route /hooked {
        handler hooked
        on_headers check_headers
    }
    filemap /static/ .
}
domain * {
    attach s
    route / {
        handler fallback
    }
}
"""


@pytest.fixture(scope="module")
def router():
    loaded = config.loads(CONF, "t.conf", env={}, check_files=False)
    return Router(loaded.config.domains)


def handler(outcome):
    assert isinstance(outcome, Match), outcome
    return outcome.route.handler.name if hasattr(outcome.route, "handler") else "filemap"


@pytest.mark.parametrize("host, expected", [
    ("www.example.com", "index"), ("WWW.Example.COM:8888", "index"), ("api.example.com", "wild_index"),
    ("other.org", "fallback"), ("[::1]:8888", "fallback"),
])
def test_domain_by_host_exact_before_glob(router, host, expected):
    assert handler(router.domain(host).resolve("get", "/")) == expected


def test_same_path_told_apart_by_method(router):
    d = router.domain("www.example.com")
    assert handler(d.resolve("post", "/")) == "index_post"
    assert d.resolve("delete", "/") == METHOD_NOT_ALLOWED


def test_regex_captures_become_arguments(router):
    d = router.domain("www.example.com")
    assert d.resolve("get", "/user/42/posts") == Match(d.domain.routes[2], ("42", "posts"))
    assert d.resolve("get", "/user/42/").captures == ("42", "")
    assert d.resolve("get", "/user/x/") == NOT_FOUND


def test_exact_route_ignores_nothing(router):
    d = router.domain("www.example.com")
    assert d.resolve("get", "/only-post") == METHOD_NOT_ALLOWED
    assert d.resolve("post", "/only-post/") == NOT_FOUND


def test_redirect_and_return_come_first(router):
    d = router.domain("www.example.com")
    assert d.resolve("post", "/old/a/b", "x=1") == Rewrite(301, "/new/a/b?x=1")
    assert d.resolve("get", "/old/a", "") == Rewrite(301, "/new/a?")
    assert d.resolve("get", "/gone") == Rewrite(410, None)


def test_filemap_serves_get_and_head_under_its_root(router):
    d = router.domain("www.example.com")
    assert handler(d.resolve("head", "/static/a.css")) == "filemap"
    assert d.resolve("post", "/static/a.css") == METHOD_NOT_ALLOWED
    assert d.resolve("get", "/static") == NOT_FOUND


def test_a_match_is_plain_only_for_a_route_with_nothing_but_a_handler(router):
    d = router.domain("www.example.com")
    assert d.resolve("get", "/").plain
    assert d.resolve("get", "/user/1/posts").plain
    assert not d.resolve("get", "/hooked").plain           # a hook runs before the handler
    assert not d.resolve("get", "/static/a.css").plain     # a filemap has no handler


def test_no_domain():
    assert Router([]).domain("example.com") is None


def test_outcomes_are_remembered_per_method_and_short_path_but_never_a_redirect():
    d = Router(config.loads(CONF, "t.conf", env={}, check_files=False).config.domains).domain("www.example.com")
    first = d.resolve("get", "/user/7/likes")
    assert d.resolve("get", "/user/7/likes") is first and first.captures == ("7", "likes")
    assert d.resolve("get", "/user/8/likes").captures == ("8", "likes")
    assert d.resolve("post", "/user/7/likes") == METHOD_NOT_ALLOWED
    assert d.resolve("get", "/old/a", "q=1") == Rewrite(301, "/new/a?q=1")
    assert d.resolve("get", "/old/a", "q=2") == Rewrite(301, "/new/a?q=2")
    long = "/user/9/" + "x" * 300
    assert d.resolve("get", long) == NOT_FOUND and ("get", long) not in d._seen
    for n in range(3000):  # bounded
        d.resolve("get", f"/user/{n}/posts")
    assert len(d._seen) <= 1024 and d.resolve("get", "/user/2999/posts").captures == ("2999", "posts")

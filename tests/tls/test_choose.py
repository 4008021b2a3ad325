"""Which context a ClientHello gets (worker.tls.TlsState.choose), in memory."""

from korepyd.config import loads
from korepyd.core.router import Router
from korepyd.ipc.keymaterial import Certificate, Challenge
from korepyd.tls.clienthello import Hello
from korepyd.worker.tls import TlsState
from tests.tlscerts import self_signed

CONF = """
server tls {
    bind 127.0.0.1 443
}
server plain {
    bind 127.0.0.1 80
    tls no
}
domain a.test {
    attach tls
    certfile a.pem
    certkey a.key
}
domain *.b.test {
    attach tls
    certfile b.pem
    certkey b.key
}
domain c.test {
    attach plain
}
"""


def state() -> TlsState:
    config = loads(CONF, check_files=False).config
    routers = {s.name: Router([d for d in config.domains if d.attach == s.name]) for s in config.servers}
    tls = TlsState.load(config, routers)
    for name in ("a.test", "*.b.test"):
        tls.install(Certificate(name, *self_signed(name.replace("*", "x"))))
    return tls


def test_server_name_picks_the_domain_and_globs_match():
    tls = state()
    assert tls.complete.is_set() and set(tls.profiles) == {"a.test", "*.b.test"}
    assert tls.choose("tls", Hello("a.test", (b"http/1.1",))) == (tls.contexts["a.test"], False)
    assert tls.choose("tls", Hello("www.b.test", ())) == (tls.contexts["*.b.test"], False)


def test_no_or_unknown_name_gets_the_first_domain():
    tls = state()
    assert tls.choose("tls", Hello(None, ()))[0] is tls.contexts["a.test"]
    assert tls.choose("tls", Hello("nope.test", ()))[0] is tls.contexts["a.test"]


def test_acme_tls_alpn_only_with_a_pending_challenge():
    tls = state()
    acme = Hello("a.test", (b"acme-tls/1",))
    assert tls.choose("tls", acme) == (None, True)
    tls.set_challenge(Challenge("tls-alpn-01", "a.test", "tok", *self_signed("a.test")))
    context, is_acme = tls.choose("tls", acme)
    assert is_acme and context is tls.challenges["a.test"]
    assert tls.choose("tls", Hello("a.test", (b"h2", b"http/1.1")))[0] is tls.contexts["a.test"]
    tls.clear_challenge(Challenge("tls-alpn-01", "a.test", "tok"))
    assert tls.choose("tls", acme) == (None, True)


def test_http01_tokens():
    tls = state()
    tls.set_challenge(Challenge("http-01", "c.test", "tok", b"tok.thumb"))
    assert tls.tokens == {"tok": b"tok.thumb"}
    tls.clear_challenge(Challenge("http-01", "c.test", "tok"))
    assert tls.tokens == {}


def test_unusable_material_keeps_the_previous_context():
    tls = state()
    before = tls.contexts["a.test"]
    tls.install(Certificate("a.test", b"not a certificate", b"nor a key"))
    assert tls.contexts["a.test"] is before

"""issue() against a real pebble: tls-alpn-01 and http-01 issuance, chains
verified up to pebble's root, nonce rejection, authz reuse, failed
validation, and errors that need no CA."""

import datetime
import logging

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.verification import PolicyBuilder, Store

from korepyd.acme import client
from korepyd.acme.client import AcmeError, issue
from tests.acme.responders import Http01Responder, Recorder, TlsAlpnResponder, serving
from tests.pebble import running_pebble

FAST = {"poll_interval": 0.02, "timeout": 10.0}


def verify_chain(fullchain: bytes, root_pem: bytes, domains: list[str]) -> x509.Certificate:
    """The chain verifies for each name up to the root; the leaf names them all."""
    certs = x509.load_pem_x509_certificates(fullchain)
    root = x509.load_pem_x509_certificate(root_pem)
    assert root not in certs, "pebble's chain does not include the root"
    builder = PolicyBuilder().store(Store([root])).time(datetime.datetime.now(datetime.UTC))
    for name in domains:
        builder.build_server_verifier(x509.DNSName(name)).verify(certs[0], certs[1:])
    return certs[0]


def same_key(cert: x509.Certificate, key_pem: bytes) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    key = serialization.load_pem_private_key(key_pem, None)
    return cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


async def test_tls_alpn_01(pebble, account_key, domain_key):
    responder = TlsAlpnResponder()
    domains = ["korepyd.test", "a.korepyd.test"]
    async with serving(responder, pebble.tls_port):
        fullchain = await issue(pebble.directory_url, account_key, domain_key, domains, responder,
                                ca_pem=pebble.ca_pem, email="admin@korepyd.test", **FAST)
    leaf = verify_chain(fullchain, pebble.root_pem, domains)
    assert same_key(leaf, domain_key)
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "korepyd.test"
    assert sorted(p[:2] for p in responder.presented) == [("tls-alpn-01", d) for d in sorted(domains)]
    assert sorted(responder.cleared) == sorted(responder.presented)
    assert set(responder.handshakes) == set(domains)
    assert responder.contexts == {}


async def test_http_01(pebble, account_key, domain_key):
    responder = Http01Responder()
    async with serving(responder, pebble.http_port):
        fullchain = await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                                challenge="http-01", ca_pem=pebble.ca_pem, **FAST)
    verify_chain(fullchain, pebble.root_pem, ["korepyd.test"])
    token = responder.presented[0][2]
    assert f"/.well-known/acme-challenge/{token}" in responder.requests
    assert responder.cleared == responder.presented and responder.answers == {}


async def test_rsa_account_key_and_account_reuse(pebble, domain_key):
    """An RSA account key signs RS256; the same key twice is the same account (newAccount answers 200)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    for _ in range(2):
        async with serving(TlsAlpnResponder(), pebble.tls_port) as responder:
            fullchain = await issue(pebble.directory_url, account_key, domain_key, ["b.korepyd.test"],
                                    responder, ca_pem=pebble.ca_pem, **FAST)
        verify_chain(fullchain, pebble.root_pem, ["b.korepyd.test"])


async def test_failed_validation_names_the_problem(pebble, account_key, domain_key):
    responder = TlsAlpnResponder(wrong_key_authorization=True)
    async with serving(responder, pebble.tls_port):
        with pytest.raises(AcmeError) as failure:
            await issue(pebble.directory_url, account_key, domain_key, ["bad.korepyd.test"], responder,
                        ca_pem=pebble.ca_pem, **FAST)
    message = str(failure.value)
    assert "tls-alpn-01 validation of bad.korepyd.test failed" in message
    assert "unauthorized" in message and "acmeValidation" in message, message
    assert failure.value.problem["type"] == "urn:ietf:params:acme:error:unauthorized"
    assert failure.value.url.startswith(pebble.directory_url.removesuffix("/dir"))
    assert responder.cleared == responder.presented and responder.contexts == {}


async def test_challenge_the_ca_does_not_offer(pebble, account_key, domain_key):
    responder = Recorder()
    with pytest.raises(AcmeError, match=r"offers no tls-sni-01 challenge for korepyd.test \(it offers: .*http-01"):
        await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                    challenge="tls-sni-01", ca_pem=pebble.ca_pem, **FAST)
    assert responder.presented == []


async def test_nobody_answers_the_validation(pebble, account_key, domain_key):
    """The Responder says yes but nothing listens: the CA cannot connect."""
    responder = Recorder()
    with pytest.raises(AcmeError, match="http-01 validation of korepyd.test failed.*connection"):
        await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                    challenge="http-01", ca_pem=pebble.ca_pem, **FAST)
    assert responder.cleared == responder.presented


async def test_responder_failure_still_clears(pebble, account_key, domain_key):
    class Broken(Recorder):
        def install(self, *args):
            raise RuntimeError("workers unreachable")

    responder = Broken()
    with pytest.raises(RuntimeError, match="workers unreachable"):
        await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                    ca_pem=pebble.ca_pem, **FAST)
    assert len(responder.cleared) == 1 and responder.cleared == responder.presented


async def test_wrong_ca_certificate(pebble, account_key, domain_key):
    with running_pebble() as other:     # trusting another pebble's WFE CA
        with pytest.raises(AcmeError, match=r"directory: GET https://127.0.0.1:\d+/dir: TLS .* failed: .*certif"):
            await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], Recorder(),
                        ca_pem=other.ca_pem, **FAST)


class Collect(logging.Handler):
    """Records of one logger, whatever korepyd.log did to the "korepyd" logger's propagation."""

    def __init__(self, name: str):
        super().__init__(logging.DEBUG)
        self.logger, self.messages = logging.getLogger(name), []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def __enter__(self):
        self.old_level = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        self.logger.setLevel(self.old_level)


async def test_bad_nonce_is_retried(monkeypatch):
    """With 40 % of nonces rejected, issuance still succeeds, and retries
    happened. At 40 %, five rejections in a row hit 1 % of the POSTs, so
    with about 10 POSTs per issuance this test allows 12 tries (the fake CA
    of test_acme_protocol checks that there are 5 by default)."""
    monkeypatch.setattr(client, "BAD_NONCE_ATTEMPTS", 12)
    with running_pebble(env={"PEBBLE_WFE_NONCEREJECT": "40"}) as ca, Collect("korepyd.acme.client") as log:
        for _ in range(2):
            account_key, domain_key = client.keys.generate_key_pem(), client.keys.generate_key_pem()
            async with serving(TlsAlpnResponder(), ca.tls_port) as responder:
                fullchain = await issue(ca.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                                        ca_pem=ca.ca_pem, **FAST)
            verify_chain(fullchain, ca.root_pem, ["korepyd.test"])
    assert any("badNonce" in m for m in log.messages), "pebble rejected no nonce in two issuances at 40 %"
    assert not any("BEGIN" in m or "PRIVATE" in m for m in log.messages)


async def test_reused_authorization_needs_no_challenge(account_key):
    with running_pebble(env={"PEBBLE_AUTHZREUSE": "100"}) as ca:
        async with serving(TlsAlpnResponder(), ca.tls_port) as first:
            await issue(ca.directory_url, account_key, client.keys.generate_key_pem(), ["korepyd.test"], first,
                        ca_pem=ca.ca_pem, **FAST)
        assert len(first.presented) == 1
        second = Recorder()
        fullchain = await issue(ca.directory_url, account_key, client.keys.generate_key_pem(), ["korepyd.test"],
                                second, ca_pem=ca.ca_pem, **FAST)
        assert second.presented == [] and second.cleared == []
        verify_chain(fullchain, ca.root_pem, ["korepyd.test"])


async def test_timeout_is_an_acme_error(account_key, domain_key):
    """A CA that accepts the connection and never answers."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]

    async def silent(stream):
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, silent, listeners)
        with trio.fail_after(5):
            with pytest.raises(AcmeError, match=r"no certificate for korepyd.test after 0.3 s \(was: directory"):
                await issue(f"https://127.0.0.1:{port}/dir", account_key, domain_key, ["korepyd.test"], Recorder(),
                            ca_pem=None, timeout=0.3)
        nursery.cancel_scope.cancel()


async def test_bad_arguments(account_key, domain_key):
    with pytest.raises(AcmeError, match="account key"):
        await issue("https://127.0.0.1:1/dir", b"not a key", domain_key, ["korepyd.test"], Recorder())
    with pytest.raises(AcmeError, match="CA certificates"):
        await issue("https://127.0.0.1:1/dir", account_key, domain_key, ["korepyd.test"], Recorder(),
                    ca_pem=b"garbage")
    with pytest.raises(ValueError):
        await issue("https://127.0.0.1:1/dir", account_key, domain_key, [], Recorder())
    with pytest.raises(AcmeError, match="connect"):
        await issue("https://127.0.0.1:1/dir", account_key, domain_key, ["korepyd.test"], Recorder(), timeout=5)


async def test_timeout_while_presenting_still_clears(pebble, account_key, domain_key):
    class Stuck(Recorder):
        async def present(self, kind, domain, token, key_authorization):
            await super().present(kind, domain, token, key_authorization)
            await trio.sleep_forever()

        async def clear(self, kind, domain, token):
            await trio.sleep(0.01)      # clear() may await: it runs shielded after the timeout
            await super().clear(kind, domain, token)

    responder = Stuck()
    with pytest.raises(AcmeError, match=r"after 0.5 s \(was: presenting tls-alpn-01 for korepyd.test\)"):
        await issue(pebble.directory_url, account_key, domain_key, ["korepyd.test"], responder,
                    ca_pem=pebble.ca_pem, poll_interval=0.02, timeout=0.5)
    assert len(responder.cleared) == 1 and responder.cleared == responder.presented

"""The sans-IO pieces: problem documents, Retry-After, the JWS body, the
chain check; and the badNonce retry of a signed POST, on a fake CA."""

import datetime
import json

import josepy as jose
import pytest

from korepyd.acme import client, keys, protocol
from korepyd.client import Response
from tests.tlscerts import self_signed

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def test_describe_problem():
    problem = {"type": "urn:ietf:params:acme:error:rejectedIdentifier", "detail": "no\nthanks",
               "subproblems": [{"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids",
                                "identifier": {"type": "dns", "value": "a.korepyd.test"}}]}
    assert protocol.describe_problem(problem) == \
        "rejectedIdentifier: no thanks; a.korepyd.test: caa: CAA forbids"
    assert protocol.describe_problem({}) == "about:blank: (no detail)"
    assert protocol.describe_problem({"type": "https://example.org/x", "detail": "d"}) == "https://example.org/x: d"
    assert protocol.parse_problem(b"not json") == {} and protocol.parse_problem(b"[1]") == {}


def test_retry_after():
    assert protocol.retry_after(None, NOW) is None
    assert protocol.retry_after("120", NOW) == 120
    assert protocol.retry_after("Tue, 01 Jan 2030 00:00:30 GMT", NOW) == 30
    assert protocol.retry_after("Mon, 31 Dec 2029 00:00:00 GMT", NOW) == 0
    assert protocol.retry_after("soon", NOW) is None


@pytest.mark.parametrize("kid", [None, "https://ca.test/acct/1"])
def test_signed_body(kid):
    account = keys.AccountKey.from_pem(keys.generate_key_pem())
    body = json.loads(protocol.sign(account, "https://ca.test/new-order", {"a": 1}, "bm9uY2U", kid))
    assert set(body) == {"protected", "payload", "signature"}
    header = json.loads(jose.b64decode(body["protected"]))
    assert header["alg"] == "ES256" and header["url"] == "https://ca.test/new-order" and header["nonce"] == "bm9uY2U"
    assert ("kid" in header, "jwk" in header) == ((True, False) if kid else (False, True))
    assert json.loads(jose.b64decode(body["payload"])) == {"a": 1}
    empty = json.loads(protocol.sign(account, "https://ca.test/x", None, "bm9uY2U", kid))
    assert empty["payload"] == ""
    jws = jose.JWS.json_loads(json.dumps(body))
    assert jws.verify(account.jwk.public_key())


def test_account_key_kinds():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    assert keys.AccountKey.from_pem(pem(ec.generate_private_key(ec.SECP384R1()))).alg == jose.ES384
    assert keys.AccountKey.from_pem(pem(rsa.generate_private_key(65537, 2048))).alg == jose.RS256
    with pytest.raises(ValueError, match="1024 bits"):
        keys.AccountKey.from_pem(pem(rsa.generate_private_key(65537, 1024)))
    with pytest.raises(ValueError, match="curve secp521r1"):
        keys.AccountKey.from_pem(pem(ec.generate_private_key(ec.SECP521R1())))


def test_check_chain():
    cert, key = self_signed("korepyd.test", "a.korepyd.test")
    assert len(protocol.check_chain(cert, key, ["korepyd.test", "A.korepyd.test"])) == 1
    with pytest.raises(ValueError, match="does not name b.korepyd.test"):
        protocol.check_chain(cert, key, ["korepyd.test", "b.korepyd.test"])
    with pytest.raises(ValueError, match="not for the domain key"):
        protocol.check_chain(cert, keys.generate_key_pem(), ["korepyd.test"])
    with pytest.raises(ValueError, match="not a PEM certificate chain"):
        protocol.check_chain(b"<html>", key, ["korepyd.test"])


class FakeCA:
    """Answers every POST with badNonce `rejections` times, then 200."""

    def __init__(self, rejections: int):
        self.rejections = rejections
        self.nonces_sent: list[str] = []
        self.heads = 0
        self.counter = 0

    def _nonce(self) -> str:
        self.counter += 1
        return jose.b64encode(f"n{self.counter}".encode()).decode()

    async def request(self, method, url, body=b"", headers=None):
        nonce = ("replay-nonce", self._nonce())
        if method == "HEAD":
            self.heads += 1
            return Response(200, (nonce,), b"")
        protected = json.loads(jose.b64decode(json.loads(body)["protected"]))
        self.nonces_sent.append(protected["nonce"])
        if self.rejections:
            self.rejections -= 1
            problem = {"type": "urn:ietf:params:acme:error:badNonce", "detail": "JWS has an invalid anti-replay nonce"}
            return Response(400, (nonce, ("content-type", "application/problem+json")),
                                 json.dumps(problem).encode())
        return Response(200, (nonce,), b"{}")


def session(ca: FakeCA):
    s = client._Session(ca, keys.AccountKey.from_pem(keys.generate_key_pem()), 0.01)
    s.directory, s.directory_url = {"newNonce": "https://ca.test/nonce"}, "https://ca.test/dir"
    return s


@pytest.mark.parametrize("rejections", [0, 1, client.BAD_NONCE_ATTEMPTS - 1])
async def test_bad_nonce_retried_with_the_nonce_of_the_error(rejections):
    ca = FakeCA(rejections)
    s = session(ca)
    response = await s.post("https://ca.test/x", {}, what="test")
    assert response.status == 200
    assert ca.heads == 1                            # one newNonce; then each error's own nonce
    assert len(ca.nonces_sent) == rejections + 1
    assert ca.nonces_sent == [jose.b64encode(f"n{i}".encode()).decode() for i in range(1, rejections + 2)]


async def test_bad_nonce_gives_up_after_five_attempts():
    ca = FakeCA(100)
    with pytest.raises(client.AcmeError, match=r"ACME test https://ca.test/x: HTTP 400, badNonce: JWS has"):
        await session(ca).post("https://ca.test/x", {}, what="test")
    assert client.BAD_NONCE_ATTEMPTS == 5 and len(ca.nonces_sent) == 5

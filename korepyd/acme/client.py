"""issue(): one whole ACME order (RFC 8555 section 7), from the CA's
directory to the certificate chain (Kore: the order, authorization,
challenge and finalize steps of src/acme.c).

The caller's Responder puts each challenge in place (the key manager has
the workers answer it) and removes it afterwards. Polling is our own, on
trio, honouring Retry-After. A badNonce is retried with the nonce of the
error response. Failures are AcmeError, one line fit for the log: what
failed, the URL, the ACME problem type and detail. Nothing secret (keys,
key authorizations) is logged or put in an error. Requests go through
korepyd's one HTTP client (korepyd/client.py), https only, trusting the
CA's certificate from PEM bytes read before keymgr dropped its privileges.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

import base64
import datetime
import encodings.idna  # noqa: F401  (ssl encodes server_hostname with it: import before any chroot)
import json
import logging
import ssl
from typing import Protocol

import trio

from korepyd.acme import challenge as acme_challenge
from korepyd.acme import keys, protocol
from korepyd.client import Client, ClientError, Response
from korepyd.errors import KorepydError

log = logging.getLogger(__name__)

BAD_NONCE_ATTEMPTS = 5      # tries of one POST while the CA answers badNonce
MAX_BODY = 1 << 20          # bytes of a response from the CA
REQUEST_TIMEOUT = 30.0      # seconds of one request to the CA
CLEAR_TIMEOUT = 10.0        # seconds a Responder gets to clear, even when issue() was cancelled


class AcmeError(KorepydError):
    """An order failed; `url` and `problem` (the CA's problem document,
    possibly empty) say where and why."""

    def __init__(self, message: str, *, url: str | None = None, problem: dict | None = None):
        super().__init__(message)
        self.url = url
        self.problem = problem or {}


class Responder(Protocol):
    async def present(self, kind: str, domain: str, token: str, key_authorization: str) -> None:
        """Answer the challenge `kind` ("tls-alpn-01" or "http-01") for
        `domain`; return once the answer is served."""

    async def clear(self, kind: str, domain: str, token: str) -> None:
        """Stop answering it (called even when present() failed)."""


async def issue(directory_url: str, account_key_pem: bytes, domain_key_pem: bytes, domains: list[str],
                responder: Responder, *, challenge: str = "tls-alpn-01", email: str | None = None,
                ca_pem: bytes | None = None, poll_interval: float = 1.0, timeout: float = 240.0,
                user_agent: str = "korepyd") -> bytes:
    """A certificate for `domains` (the first is the CN) on the domain
    key, from the CA at `directory_url`, with the account key (the account
    is created, or found by its key); returns the full chain, PEM, leaf
    first. `ca_pem` is what the CA's HTTPS certificate must chain to
    (None: the system's CAs). Raises AcmeError."""
    if not domains or not all(isinstance(d, str) and d for d in domains):
        raise ValueError("issue() needs at least one domain name")
    try:
        account = keys.AccountKey.from_pem(account_key_pem)
        keys.csr_der(domains, domain_key_pem)       # the domain key and names are usable, before any request
        trust = ssl_context(ca_pem)
    except ValueError as exc:
        raise AcmeError(str(exc)) from None
    session: _Session | None = None
    with trio.move_on_after(timeout):
        async with Client(user_agent, ssl_context=trust, timeout=REQUEST_TIMEOUT, max_body=MAX_BODY) as client:
            session = _Session(client, account, poll_interval)
            return await _order(session, directory_url, domain_key_pem, domains, responder, challenge, email)
    doing = session.doing if session else "starting"
    raise AcmeError(f"ACME {directory_url}: no certificate for {', '.join(domains)} after {timeout:g} s "
                    f"(was: {doing})", url=directory_url)


async def _order(s: _Session, directory_url: str, domain_key_pem: bytes, domains: list[str],
                 responder: Responder, kind: str, email: str | None) -> bytes:
    await s.get_directory(directory_url)
    await s.new_account(email)
    names = ", ".join(domains)
    response = await s.post(s.endpoint("newOrder"), {"identifiers": [{"type": "dns", "value": d} for d in domains]},
                            what="newOrder")
    order_url = _location(response, "newOrder")
    order = _json(response, "newOrder")
    for authz_url in _list(order, "authorizations", order_url):
        if not isinstance(authz_url, str) or not authz_url.startswith("https://"):
            raise AcmeError(f"ACME order {order_url}: an authorization is not an https URL", url=order_url)
        await _authorize(s, authz_url, responder, kind)
    order = await s.poll(order_url, {"pending"}, "order")
    if order.get("status") == "ready":
        csr = base64.urlsafe_b64encode(keys.csr_der(domains, domain_key_pem)).rstrip(b"=").decode("ascii")
        finalize = _field(order, "finalize", order_url)
        order = _json(await s.post(finalize, {"csr": csr}, what="finalize"), "finalize")
        order = await s.poll(order_url, {"ready", "processing"}, "order", first=order)
    if order.get("status") != "valid":
        raise AcmeError(f"ACME order {order_url} for {names} is {order.get('status')!r}: "
                        f"{protocol.describe_problem(order.get('error') or {})}", url=order_url,
                        problem=order.get("error"))
    cert_url = _field(order, "certificate", order_url)
    response = await s.post(cert_url, None, what="certificate download", accept=protocol.PEM_CHAIN)
    try:
        protocol.check_chain(response.body, domain_key_pem, domains)
    except ValueError as exc:
        raise AcmeError(f"ACME certificate {cert_url}: {exc}", url=cert_url) from None
    return response.body if response.body.endswith(b"\n") else response.body + b"\n"


async def _authorize(s: _Session, url: str, responder: Responder, kind: str) -> None:
    """One authorization: nothing to do when it is valid already (the CA
    reused an earlier one), else answer its `kind` challenge."""
    authz = _json(await s.post(url, None, what="authorization"), "authorization")
    identifier = authz.get("identifier") or {}
    domain = str(identifier.get("value", "?")) if isinstance(identifier, dict) else "?"
    status = authz.get("status")
    if status == "valid":
        log.info(f"ACME: {domain}: authorization valid already")
        return
    if status != "pending":
        raise AcmeError(f"ACME authorization {url} for {domain} is {status!r}", url=url)
    offered = [c for c in _list(authz, "challenges", url) if isinstance(c, dict)]
    chosen = next((c for c in offered if c.get("type") == kind), None)
    if chosen is None:
        types = ", ".join(str(c.get("type")) for c in offered) or "none"
        raise AcmeError(f"ACME authorization {url}: the CA offers no {kind} challenge for {domain} "
                        f"(it offers: {types})", url=url)
    challenge_url = _field(chosen, "url", url)
    try:
        token = acme_challenge.check_token(chosen.get("token"))
    except ValueError:
        raise AcmeError(f"ACME challenge {challenge_url}: the CA sent an invalid token", url=challenge_url) from None
    key_authorization = f"{token}.{s.account.thumbprint()}"
    try:
        s.doing = f"presenting {kind} for {domain}"
        await responder.present(kind, domain, token, key_authorization)
        if chosen.get("status") == "pending":
            await s.post(challenge_url, {}, what=f"{kind} challenge")
        authz = await s.poll(url, {"pending"}, f"authorization for {domain}")
    finally:
        with trio.move_on_after(CLEAR_TIMEOUT, shield=True):
            try:
                await responder.clear(kind, domain, token)
            except Exception as exc:
                log.warning(f"ACME: clearing the {kind} challenge for {domain} failed: {exc!r}")
    if authz.get("status") != "valid":
        error = next((c.get("error") for c in authz.get("challenges", []) if isinstance(c, dict)
                      and c.get("url") == challenge_url and c.get("error")), None) or {}
        raise AcmeError(f"ACME {kind} validation of {domain} failed ({challenge_url}, authorization "
                        f"{authz.get('status')!r}): {protocol.describe_problem(error)}", url=challenge_url,
                        problem=error)
    log.info(f"ACME: {domain}: authorization valid by {kind}")


def ssl_context(ca_pem: bytes | None) -> ssl.SSLContext:
    """Verify the CA's server against `ca_pem` (PEM bytes), or against the
    system's CAs when None (which needs them readable: call before chroot)."""
    if ca_pem is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"CA certificates: not usable PEM ({exc})") from None


class _Session:
    """One account's conversation with the CA: the directory, the current
    nonce, the account URL (kid) and signed POSTs."""

    def __init__(self, client: Client, account: keys.AccountKey, poll_interval: float):
        self.http = client
        self.account = account
        self.poll_interval = poll_interval
        self.directory: dict = {}
        self.directory_url = ""
        self.nonce: str | None = None
        self.kid: str | None = None
        self.doing = "starting"

    def endpoint(self, name: str) -> str:
        return _field(self.directory, name, self.directory_url)

    async def _request(self, what: str, method: str, url: str, body: bytes = b"",
                       headers: list[tuple[str, str]] | None = None) -> Response:
        self.doing = f"{what} {url}"
        if not url.startswith("https://"):
            raise AcmeError(f"ACME {what}: {method} {url}: not an https:// URL", url=url)
        try:
            return await self.http.request(method, url, body, headers)
        except ClientError as exc:
            raise AcmeError(f"ACME {what}: {exc}", url=url) from None

    async def get_directory(self, url: str) -> None:
        response = await self._request("directory", "GET", url, headers=[("Accept", "application/json")])
        if response.status != 200:
            raise _http_error("directory", url, response)
        self.directory, self.directory_url = _json(response, "directory"), url

    async def new_nonce(self) -> str:
        url = self.endpoint("newNonce")
        response = await self._request("newNonce", "HEAD", url)
        nonce = response.header("replay-nonce")
        if response.status not in (200, 204) or not nonce:
            raise _http_error("newNonce", url, response)
        return nonce

    async def new_account(self, email: str | None) -> None:
        payload: dict = {"termsOfServiceAgreed": True}
        if email:
            if any(c in email for c in ",;:/?<> \t\r\n") or "@" not in email:
                raise AcmeError(f"ACME newAccount: {email!r} is not a usable contact address")
            payload["contact"] = [f"mailto:{email}"]
        response = await self.post(self.endpoint("newAccount"), payload, what="newAccount", kid=False)
        self.kid = _location(response, "newAccount")
        account = _json(response, "newAccount")
        if account.get("status", "valid") != "valid":
            raise AcmeError(f"ACME account {self.kid} is {account.get('status')!r}", url=self.kid)

    async def post(self, url: str, payload: dict | None, *, what: str, accept: str | None = None,
                   kid: bool = True) -> Response:
        """A signed POST (payload None: POST-as-GET), again with the fresh
        nonce while the CA answers badNonce, BAD_NONCE_ATTEMPTS times."""
        headers = [("Content-Type", protocol.JOSE_JSON), ("Accept", accept or "application/json")]
        for attempt in range(1, BAD_NONCE_ATTEMPTS + 1):
            nonce, self.nonce = self.nonce or await self.new_nonce(), None
            try:
                body = protocol.sign(self.account, url, payload, nonce, self.kid if kid else None)
            except ValueError as exc:
                raise AcmeError(f"ACME {what} {url}: {exc}", url=url) from None
            response = await self._request(what, "POST", url, body, headers)
            self.nonce = response.header("replay-nonce")
            if response.status < 400:
                return response
            problem = protocol.parse_problem(response.body)
            if protocol.problem_type(problem) != protocol.BAD_NONCE or attempt == BAD_NONCE_ATTEMPTS:
                raise _http_error(what, url, response, problem)
            log.debug(f"ACME: badNonce from {url} (attempt {attempt} of {BAD_NONCE_ATTEMPTS}), again")
        raise AssertionError("unreachable")

    async def poll(self, url: str, waiting: set[str], what: str, *, first: dict | None = None) -> dict:
        """POST-as-GET `url` until its status is not one of `waiting`; the
        pause is Retry-After, never less than poll_interval."""
        delay = 0.0
        current = first
        while current is None or current.get("status") in waiting:
            if current is not None:
                self.doing = f"waiting for {what} {url} ({current.get('status')})"
                await trio.sleep(delay)
            response = await self.post(url, None, what=what)
            current = _json(response, what)
            after = protocol.retry_after(response.header("retry-after"), datetime.datetime.now(datetime.UTC))
            delay = max(self.poll_interval, after or 0.0)
        return current


def _http_error(what: str, url: str, response: Response, problem: dict | None = None) -> AcmeError:
    problem = protocol.parse_problem(response.body) if problem is None else problem
    detail = protocol.describe_problem(problem) if problem else "no problem document"
    return AcmeError(f"ACME {what} {url}: HTTP {response.status}, {detail}", url=url, problem=problem)


def _json(response: Response, what: str) -> dict:
    try:
        value = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise AcmeError(f"ACME {what}: the response is not a JSON object")
    return value


def _field(obj: dict, name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.startswith("https://"):
        raise AcmeError(f"ACME {where}: no https URL in {name!r}", url=where)
    return value


def _list(obj: dict, name: str, where: str) -> list:
    value = obj.get(name)
    if not isinstance(value, list):
        raise AcmeError(f"ACME {where}: no list {name!r}", url=where)
    return value


def _location(response: Response, what: str) -> str:
    location = response.header("location")
    if not location or not location.startswith("https://"):
        raise AcmeError(f"ACME {what}: the response has no https Location")
    return location

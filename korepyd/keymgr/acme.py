"""ACME in keymgr: certificates for the domains with `acme yes` (Kore:
src/acme.c, run here inside keymgr, which owns every key).

At start each acme domain gets its stored certificate, or a self-signed
placeholder (made with the domain's key) until the CA issues one. Then a
task orders a certificate for every domain that has none, and renews each
when a third of its lifetime remains (checked at that time and every
hour); a failure is retried later with a growing, jittered delay, never
less than a minute after the last try. The CA validates the domain
through the workers: keymgr sends them the challenge (tls-alpn-01 by
default, http-01 with `acme_challenge http-01`) and waits until they
have installed it.

Files live under keymgr's root, as in Kore: account-key.pem and
certificates/<domain>/{key.pem,fullchain.pem}.

Layer: role (keymgr).
"""

from __future__ import annotations

import datetime

import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from korepyd import __version__, log
from korepyd.acme import store
from korepyd.acme.challenge import tlsalpn01_certificate
from korepyd.acme.client import AcmeError, issue
from korepyd.acme.schedule import CHECK_INTERVAL, Backoff, renewal_time
from korepyd.config import model
from korepyd.errors import KorepydError
from korepyd.ipc.keymaterial import HTTP_01, Certificate, Challenge
from korepyd.keymgr.material import MaterialError, check

PLACEHOLDER_DAYS = 7


class Acme:
    def __init__(self, config: model.Config, manager, ca_pem: bytes | None):
        self.config = config
        self.manager = manager
        self.ca_pem = ca_pem
        self.domains = [d for d in manager.domains if d.acme]
        self.due: dict[str, datetime.datetime] = {}        # domain -> when to order next
        self.backoff = {d.name: Backoff() for d in self.domains}

    @classmethod
    def before_privsep(cls, config: model.Config, manager) -> Acme:
        ca_pem = None
        if config.acme_ca_root:
            try:
                with open(config.acme_ca_root, "rb") as file:
                    ca_pem = file.read()
            except OSError as exc:
                raise MaterialError(f"acme_ca_root '{config.acme_ca_root}': {exc.strerror}") from None
        return cls(config, manager, ca_pem)

    def load(self, name: str) -> Certificate:
        """The stored certificate of `name`, or a placeholder; creates the
        domain's key when it has none."""
        try:
            key = store.load_or_create_domain_key(".", name)
            chain = store.read_fullchain(".", name)
        except (KorepydError, OSError, ValueError) as exc:
            raise MaterialError(f"domain {name}: the ACME store under keymgr's root is unusable ({exc})") from None
        now = _now()
        if chain is not None:
            try:
                check(name, chain, key)
                not_before, not_after = store.certificate_times(chain)
            except (MaterialError, ValueError) as exc:
                log.error(f"{exc}; ordering a new certificate")
            else:
                self.due[name] = renewal_time(not_before, not_after)
                if not_after > now:
                    return Certificate(name, chain, key)
        self.due[name] = now
        log.info(f"domain {name}: no certificate from the ACME server yet; serving a self-signed placeholder "
                 "until it issues one")
        return Certificate(name, placeholder(name, key), key, placeholder=True)

    async def run(self) -> None:
        account_key = store.load_or_create_account_key(".")
        while True:
            now = _now()
            for domain in self.domains:
                if self.due[domain.name] <= now:
                    await self._order(domain, account_key)
            wake = min(self.due.values())
            await trio.sleep(max(1.0, min((wake - _now()).total_seconds(), CHECK_INTERVAL)))

    async def _order(self, domain: model.Domain, account_key: bytes) -> None:
        name = domain.name
        log.info(f"domain {name}: ordering a certificate from {self.config.acme_provider} ({domain.acme_challenge})")
        try:
            key = store.load_or_create_domain_key(".", name)
            chain = await issue(self.config.acme_provider, account_key, key, [name], _Workers(self.manager),
                                challenge=domain.acme_challenge, email=self.config.acme_email, ca_pem=self.ca_pem,
                                user_agent=f"korepyd/{__version__}")  # checks the chain names the key
            store.write_fullchain(".", name, chain)
            not_before, not_after = store.certificate_times(chain)
        except (AcmeError, KorepydError, OSError, ValueError) as exc:
            delay = self.backoff[name].failure()
            self.due[name] = _now() + datetime.timedelta(seconds=delay)
            log.error(f"domain {name}: ACME failed: {exc}; next try in {_human(delay)}")
            return
        self.backoff[name].success()
        self.due[name] = renewal_time(not_before, not_after)
        log.info(f"domain {name}: certificate issued, valid until {not_after:%Y-%m-%d %H:%M:%S} UTC; "
                 f"renewal from {self.due[name]:%Y-%m-%d %H:%M:%S} UTC")
        await self.manager.install(Certificate(name, chain, key))


class _Workers:
    """The ACME client's responder: the workers answer the challenges."""

    def __init__(self, manager):
        self.manager = manager

    async def present(self, kind: str, domain: str, token: str, key_authorization: str) -> None:
        if kind == HTTP_01:
            challenge = Challenge(kind, domain, token, key_authorization.encode())
        else:
            challenge = Challenge(kind, domain, token, *tlsalpn01_certificate(domain, key_authorization))
        await self.manager.present(challenge)

    async def clear(self, kind: str, domain: str, token: str) -> None:
        await self.manager.clear(Challenge(kind, domain, token))


def placeholder(name: str, key_pem: bytes) -> bytes:
    """A self-signed certificate for `name` with the domain's key, to serve
    until the CA has issued the real one (browsers warn; that is the point)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "korepyd placeholder: ACME pending")])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=PLACEHOLDER_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _human(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min" if seconds >= 60 else \
        f"{seconds:.0f} s"

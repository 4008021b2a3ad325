"""The sans-IO parts of ACME (RFC 8555): signing request bodies (JWS,
section 6.2), reading problem documents (section 6.7) and Retry-After,
and checking the certificate chain the CA returns.

No network, no clock of its own: client.py does the I/O.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

import datetime
import email.utils
import json

import josepy as jose
from acme.jws import JWS  # josepy's JWS with ACME's nonce, url and kid header fields
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from korepyd.acme.keys import AccountKey

ERROR_NS = "urn:ietf:params:acme:error:"
BAD_NONCE = ERROR_NS + "badNonce"
JOSE_JSON = "application/jose+json"
PEM_CHAIN = "application/pem-certificate-chain"
MAX_SUBPROBLEMS = 3


def sign(account: AccountKey, url: str, payload: dict | None, nonce: str, kid: str | None) -> bytes:
    """The flattened JWS for a POST to `url`; `payload` None is a
    POST-as-GET (empty payload); without `kid` the JWK is embedded
    (newAccount)."""
    body = b"" if payload is None else json.dumps(payload).encode()
    try:
        nonce_bytes = jose.decode_b64jose(nonce)
    except jose.DeserializationError:
        raise ValueError(f"the CA sent a nonce that is not base64url: {nonce[:40]!r}") from None
    return JWS.sign(body, key=account.jwk, alg=account.alg, nonce=nonce_bytes, url=url, kid=kid).json_dumps().encode()


def problem_type(problem: dict) -> str:
    return str(problem.get("type") or "about:blank")


def describe_problem(problem: dict) -> str:
    """One line: the problem type (ACME's without its URN prefix), the
    detail, and the first subproblems with their identifiers."""
    text = f"{_short(problem_type(problem))}: {_clean(problem.get('detail')) or '(no detail)'}"
    subproblems = problem.get("subproblems")
    if isinstance(subproblems, list):
        for sub in subproblems[:MAX_SUBPROBLEMS]:
            if isinstance(sub, dict):
                ident = sub.get("identifier") or {}
                value = ident.get("value", "?") if isinstance(ident, dict) else "?"
                text += f"; {_clean(value)}: {_short(problem_type(sub))}: {_clean(sub.get('detail'))}"
        if len(subproblems) > MAX_SUBPROBLEMS:
            text += f"; and {len(subproblems) - MAX_SUBPROBLEMS} more"
    return text


def parse_problem(body: bytes) -> dict:
    """The problem document of an error response, or an empty one."""
    try:
        problem = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return problem if isinstance(problem, dict) else {}


def _short(kind: str) -> str:
    return kind.removeprefix(ERROR_NS)


def _clean(value) -> str:
    """Text from the CA fit for one log line."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else " " for c in text)[:500]


def retry_after(value: str | None, now: datetime.datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - now).total_seconds())


def check_chain(pem: bytes, domain_key_pem: bytes, domains: list[str]) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; ValueError unless
    the leaf carries the domain key and names every domain."""
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise ValueError("the CA's certificate is not a PEM certificate chain") from None
    leaf = certs[0]
    key = serialization.load_pem_private_key(domain_key_pem, password=None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise ValueError("the CA's certificate is not for the domain key")
    try:
        sans = set(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                   .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        sans = set()
    missing = [d for d in domains if d.lower() not in {s.lower() for s in sans}]
    if missing:
        raise ValueError(f"the CA's certificate does not name {', '.join(missing)}")
    return certs

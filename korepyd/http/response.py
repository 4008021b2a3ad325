"""The head of a response: status line reason, Kore's own headers and the
user's, as h11 needs them (Kore: http_response_normal() in src/http.c).

Kore writes `server`, then `connection` and `keep-alive` (or `connection:
close`), HSTS on TLS, the user's headers in the order they were set (a
header set twice keeps its last value, at the last place), then
`content-length`. korepyd adds `date` after `server`; like Kore it sends
no default Content-Type.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


def reason(status: int) -> bytes:
    """A reason phrase for every status (Kore leaves unknown ones empty)."""
    return _REASONS.get(status, b"Unknown")


@dataclass(frozen=True)
class HeadPolicy:
    """What every response of a worker carries, encoded once."""

    server: bytes
    keepalive: int            # http_keepalive_time; 0 disables keep-alive
    hsts: int = 0             # max-age on TLS connections; 0 sends none


def http_date(now: float) -> bytes:
    """An IMF-fixdate, as the Date header wants it."""
    return formatdate(now, usegmt=True).encode()


def head_headers(policy: HeadPolicy, user: list[tuple[str, str]], *, keep_alive: bool, tls: bool,
                 length: int | None, date: bytes) -> list[tuple[bytes, bytes]]:
    """Kore's response headers, plus Date (RFC 9110 asks for it; Kore sends
    none); `length` None sends no content-length (1xx, 204, 304)."""
    headers = [(b"server", policy.server), (b"date", date)]
    if keep_alive:
        headers += [(b"connection", b"keep-alive"), (b"keep-alive", b"timeout=%d" % policy.keepalive)]
    else:
        headers.append((b"connection", b"close"))
    if tls and policy.hsts:
        headers.append((b"strict-transport-security", b"max-age=%d; includeSubDomains" % policy.hsts))
    headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in user]
    if length is not None:
        headers.append((b"content-length", b"%d" % length))
    return headers


def pretty_error(status: int) -> bytes:
    """Kore's http_pretty_error page for a status."""
    text = f"{status} {reason(status).decode()}"
    return f"<html>\n<head>\n\t<title>{text}</title></head>\n<body>\n\t<h1>{text}</h1>\n</body>\n</html>\n".encode()

"""Authentication blocks: where the credential of a request is (Kore:
kore_auth_run(), kore_auth_cookie(), kore_auth_header() in src/auth.c).

`cookie` reads the cookie named by authentication_value, `header` the
header of that name; `request` hands the whole request to the validator.
A missing credential fails. Departure from Kore: the cookie name must
match exactly (Kore compares only a prefix, so `session` also accepted a
cookie called `sessionid`).

Layer: request core.
"""

from __future__ import annotations

from korepyd.config import model
from korepyd.core.params import parse_cookies


def credential(auth: model.Authentication, headers: list[tuple[str, str]]) -> str | None:
    """The value to validate for a cookie or header authentication."""
    if auth.type == "header":
        name = auth.value.lower()
        return next((v for n, v in reversed(headers) if n == name), None)
    cookies = [c for n, v in headers if n == "cookie" for c in parse_cookies(v)]
    return next((v for n, v in cookies if n == auth.value), None)


def failure(auth: model.Authentication) -> tuple[int, list[tuple[str, str]]]:
    """What a failed check answers: 302 to authentication_uri, else 403."""
    if auth.uri:
        return 302, [("location", auth.uri)]
    return 403, []

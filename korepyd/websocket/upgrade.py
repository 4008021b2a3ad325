"""Is this request a websocket handshake Kore would accept? (Kore:
kore_websocket_handshake() in src/websocket.c.)

A missing Sec-WebSocket-Key is answered 400; a Sec-WebSocket-Version
other than 13 is answered 400 with `sec-websocket-version: 13`. What else a
handshake needs (GET, Upgrade and Connection headers, a well-formed key)
is wsproto's check.

Layer: wire (websockets), sans-IO.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refused:
    status: int
    headers: tuple[tuple[str, str], ...] = ()


def check(method: str, headers: list[tuple[str, str]]) -> Refused | None:
    """None if the handshake may proceed; else what to answer."""
    found = {name: value for name, value in headers}
    if method != "get":
        return Refused(400)
    if not found.get("sec-websocket-key"):
        return Refused(400)
    if found.get("sec-websocket-version") != "13":
        return Refused(400, (("sec-websocket-version", "13"),))
    if "websocket" not in found.get("upgrade", "").lower() or "upgrade" not in found.get("connection", "").lower():
        return Refused(400)
    return None

"""h11's state machine for one connection, as tables (h11/_state.py): the
state each event moves the client or the server to, and the moves the pair
of states then triggers by itself. Layer: wire (http1), sans-IO. The
engine (connection.py) holds the two states and moves them only through
these tables; an event a table has no entry for is a protocol error.
"""

from __future__ import annotations

import h11

# h11's own state objects, so that tests can compare the engine's states with h11's
IDLE, SEND_RESPONSE, SEND_BODY, DONE = h11.IDLE, h11.SEND_RESPONSE, h11.SEND_BODY, h11.DONE
MUST_CLOSE, CONN_CLOSED, ERROR = h11.MUST_CLOSE, h11.CLOSED, h11.ERROR
MIGHT_SWITCH, SWITCHED = h11.MIGHT_SWITCH_PROTOCOL, h11.SWITCHED_PROTOCOL

UPGRADE, CONNECT = "upgrade", "connect"     # the protocol switches a client may propose

# state -> {event: next state}: the events the client sends, which the engine receives
CLIENT = {
    IDLE: {"Request": SEND_BODY, "ConnectionClosed": CONN_CLOSED},
    SEND_BODY: {"Data": SEND_BODY, "EndOfMessage": DONE},
    DONE: {"ConnectionClosed": CONN_CLOSED},
    MUST_CLOSE: {"ConnectionClosed": CONN_CLOSED},
    CONN_CLOSED: {"ConnectionClosed": CONN_CLOSED},
    MIGHT_SWITCH: {},
    SWITCHED: {},
    ERROR: {},
}

# state -> {event: next state}: the server's own events, and the client's Request,
# which readies it; (event, switch) accepts a switch the client proposed
SERVER = {
    IDLE: {"Request": SEND_RESPONSE, "Response": SEND_BODY, "ConnectionClosed": CONN_CLOSED},
    SEND_RESPONSE: {"InformationalResponse": SEND_RESPONSE, "Response": SEND_BODY,
                    ("InformationalResponse", UPGRADE): SWITCHED, ("Response", CONNECT): SWITCHED},
    SEND_BODY: {"Data": SEND_BODY, "EndOfMessage": DONE},
    DONE: {"ConnectionClosed": CONN_CLOSED},
    MUST_CLOSE: {"ConnectionClosed": CONN_CLOSED},
    CONN_CLOSED: {"ConnectionClosed": CONN_CLOSED},
    SWITCHED: {},
    ERROR: {},
}

# (client, server) -> (client, server): the moves a pair of states triggers
JOINT = {
    (MIGHT_SWITCH, SWITCHED): (SWITCHED, SWITCHED),
    (CONN_CLOSED, DONE): (CONN_CLOSED, MUST_CLOSE),
    (CONN_CLOSED, IDLE): (CONN_CLOSED, MUST_CLOSE),
    (ERROR, DONE): (ERROR, MUST_CLOSE),
    (DONE, CONN_CLOSED): (MUST_CLOSE, CONN_CLOSED),
    (IDLE, CONN_CLOSED): (MUST_CLOSE, CONN_CLOSED),
    (DONE, ERROR): (MUST_CLOSE, ERROR),
}

def settle(client, server, keep_alive: bool, proposals: set) -> tuple:
    """The states after the moves they trigger (h11's
    ConnectionState._fire_state_triggered_transitions). Every pair JOINT
    maps holds MIGHT_SWITCH, CONN_CLOSED or ERROR: with neither state one of
    those, keep-alive and no proposal, nothing is triggered, and the engine
    need not call this."""
    while True:
        before = client, server
        if proposals and client is DONE:
            client = MIGHT_SWITCH
        if not proposals and client is MIGHT_SWITCH:
            client = DONE
        if not keep_alive:
            client = MUST_CLOSE if client is DONE else client
            server = MUST_CLOSE if server is DONE else server
        client, server = JOINT.get((client, server), (client, server))
        if (client, server) == before:
            return client, server


def comma_split(values: list[bytes]) -> list[bytes]:
    """h11's get_comma_header, on the values of one header."""
    return [value for raw in values for value in (v.strip() for v in raw.lower().split(b",")) if value]


def has_token(values: list[bytes] | None, token: bytes) -> bool:
    """`token` is among the comma-separated values (Connection: close, Expect: 100-continue)."""
    return bool(values) and any(token in value.lower() for value in values) and token in comma_split(values)

"""Websockets, sans-IO, on wsproto: the upgrade checks (upgrade.py) and a
session with Kore's limits (session.py). The worker drives them (worker/ws.py).

Layer: wire (websockets), sans-IO.
"""

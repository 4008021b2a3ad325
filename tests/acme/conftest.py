"""Fixtures of the ACME tests: a pebble CA (tests/pebble.py) shared by the
session for the ordinary runs, and keys."""

import pytest

from korepyd.acme.keys import generate_key_pem
from tests.pebble import running_pebble


@pytest.fixture(scope="session")
def pebble():
    """Deterministic pebble: no VA sleep, no nonce rejection, no authz reuse."""
    with running_pebble() as ca:
        yield ca


@pytest.fixture
def account_key():
    return generate_key_pem()


@pytest.fixture
def domain_key():
    return generate_key_pem()

"""Fixtures shared by the whole suite."""

import pytest

from tests.pgcluster import Cluster


@pytest.fixture(scope="session")
def postgres():
    """A running throwaway PostgreSQL cluster (see tests/pgcluster.py)."""
    cluster = Cluster().start()
    yield cluster
    cluster.remove()

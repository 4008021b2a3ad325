"""Renewal times, backoff and the next check, on a fake clock."""

from datetime import UTC, datetime, timedelta

import pytest

from korepyd.acme.schedule import Backoff, next_check, renewal_due, renewal_time

T0 = datetime(2030, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_third_of_the_lifetime_left():
    nb, na = T0, T0 + 90 * DAY
    assert renewal_time(nb, na) == T0 + 60 * DAY
    assert not renewal_due(nb, na, T0)
    assert not renewal_due(nb, na, T0 + 60 * DAY - timedelta(seconds=1))
    assert renewal_due(nb, na, T0 + 60 * DAY)
    assert renewal_due(nb, na, T0 + 100 * DAY)       # expired


def test_short_lived_certificate():
    nb, na = T0, T0 + timedelta(minutes=10)
    assert renewal_time(nb, na) == T0 + timedelta(seconds=400)


class FixedRandom:
    def __init__(self, value: float):
        self.value = value

    def __call__(self) -> float:
        return self.value


def test_backoff_doubles_up_to_the_cap_without_jitter():
    backoff = Backoff(floor=60, cap=24 * 3600, jitter=0.0)
    delays = [backoff.failure() for _ in range(14)]
    assert delays[:6] == [60, 120, 240, 480, 960, 1920]
    assert delays[-1] == 24 * 3600 and max(delays) == 24 * 3600
    assert delays == sorted(delays)
    assert backoff.failures == 14


@pytest.mark.parametrize("r", [0.0, 0.25, 0.5, 0.999])
def test_backoff_jitter_bounds(r):
    backoff = Backoff(floor=60, cap=3600, jitter=0.2, rand=FixedRandom(r))
    for n in range(1, 12):
        base = min(3600, 60 * 2 ** (n - 1))
        delay = backoff.failure()
        assert 60 <= delay <= 3600
        assert base * 0.8 - 1e-9 <= delay <= base * 1.2 + 1e-9
        if r == 0.5:
            assert delay == base


def test_backoff_jitter_spreads():
    values = iter([0.0, 1.0 - 1e-12])
    backoff_low = Backoff(floor=60, jitter=0.2, rand=lambda: next(values))
    backoff_low.failure()     # 60 - 20 % is below the floor: the floor
    assert backoff_low.failure() == pytest.approx(120 * 1.2)


def test_backoff_never_below_the_floor():
    backoff = Backoff(floor=60, jitter=0.5, rand=FixedRandom(0.0))
    assert backoff.failure() == 60
    assert backoff.failure() == 60      # 120 - 50 %
    assert backoff.failure() == 120     # 240 - 50 %


def test_backoff_reset_on_success():
    backoff = Backoff(floor=60, jitter=0.0)
    for _ in range(5):
        backoff.failure()
    backoff.success()
    assert backoff.failures == 0
    assert backoff.failure() == 60


def test_backoff_many_failures_do_not_overflow():
    backoff = Backoff(floor=60, cap=86400, jitter=0.1)
    for _ in range(5000):
        delay = backoff.failure()
    assert 60 <= delay <= 86400


@pytest.mark.parametrize("args", [dict(floor=0), dict(floor=100, cap=50), dict(jitter=1.0), dict(jitter=-0.1)])
def test_backoff_refuses_nonsense(args):
    with pytest.raises(ValueError):
        Backoff(**args)


def test_next_check():
    nb, na = T0, T0 + 90 * DAY
    hour = timedelta(hours=1)
    assert next_check(T0) == T0                                               # no certificate: now
    assert next_check(T0 + DAY, nb, na) == T0 + DAY + hour                    # hourly look
    assert next_check(T0 + DAY, nb, na, interval=100 * 86400) == T0 + 60 * DAY  # the renewal time
    assert next_check(T0 + 60 * DAY - timedelta(minutes=30), nb, na) == T0 + 60 * DAY
    assert next_check(T0 + 61 * DAY, nb, na) == T0 + 61 * DAY                # due: now
    assert next_check(T0 + 61 * DAY, nb, na, retry_after=120) == T0 + 61 * DAY + timedelta(seconds=120)


def test_renewal_loop_on_a_fake_clock():
    """A 10-minute certificate, a CA failing twice: when the key manager looks."""
    backoff = Backoff(floor=60, jitter=0.0)
    nb, na = T0, T0 + timedelta(minutes=10)
    now = T0
    now = next_check(now, nb, na, interval=3600)
    assert now == T0 + timedelta(seconds=400)
    assert renewal_due(nb, na, now)
    now = next_check(now, nb, na, retry_after=backoff.failure())      # failed
    assert now == T0 + timedelta(seconds=460)
    now = next_check(now, nb, na, retry_after=backoff.failure())      # failed again
    assert now == T0 + timedelta(seconds=580)
    backoff.success()
    nb, na = now, now + timedelta(minutes=10)                         # renewed
    assert next_check(now, nb, na) == now + timedelta(seconds=400)

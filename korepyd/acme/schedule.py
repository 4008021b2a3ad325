"""When to renew a certificate (a third of its lifetime left, so a
90-day certificate at 30 days, as Let's Encrypt advises) and when to
look again, with a growing delay after failures.

Pure: the current time is always passed in, and Backoff takes its random
source, so tests run on a fake clock.

Layer: library (the ACME client keymgr runs; no role, no app API).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

RENEW_FRACTION = 3              # renew when 1/3 of the lifetime (or less) is left
CHECK_INTERVAL = 3600.0         # look at every certificate at least this often (seconds)
BACKOFF_FLOOR = 60.0
BACKOFF_CAP = 24 * 3600.0
BACKOFF_JITTER = 0.2            # a delay is moved by up to +-20 %


def renewal_time(not_before: datetime, not_after: datetime) -> datetime:
    """The moment a third of the certificate's lifetime is left."""
    return not_after - (not_after - not_before) / RENEW_FRACTION


def renewal_due(not_before: datetime, not_after: datetime, now: datetime) -> bool:
    return now >= renewal_time(not_before, not_after)


class Backoff:
    """Delays between failed attempts: `floor` seconds after the first
    failure, doubling up to `cap`, each moved by up to +-`jitter` (a
    fraction) so that many servers do not retry in step, but never below
    `floor` nor above `cap`. success() starts over."""

    def __init__(self, floor: float = BACKOFF_FLOOR, cap: float = BACKOFF_CAP, jitter: float = BACKOFF_JITTER,
                 rand: Callable[[], float] = random.random):
        if not 0 < floor <= cap or not 0 <= jitter < 1:
            raise ValueError("Backoff needs 0 < floor <= cap and 0 <= jitter < 1")
        self.floor, self.cap, self.jitter, self.rand = floor, cap, jitter, rand
        self.failures = 0

    def failure(self) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        self.failures += 1
        base = min(self.cap, self.floor * 2.0 ** min(self.failures - 1, 64))
        spread = base * self.jitter * (2.0 * self.rand() - 1.0)
        return min(self.cap, max(self.floor, base + spread))

    def success(self) -> None:
        self.failures = 0


def next_check(now: datetime, not_before: datetime | None = None, not_after: datetime | None = None, *,
               retry_after: float | None = None, interval: float = CHECK_INTERVAL) -> datetime:
    """When the key manager should look at a domain again.

    - retry_after (seconds, from Backoff.failure()) after a failed attempt:
      then, whatever the certificate says;
    - no certificate, or renewal due: now;
    - else the renewal time, but at least every `interval` seconds (the
      certificate may be replaced meanwhile, the clock may jump).
    """
    if retry_after is not None:
        return now + timedelta(seconds=retry_after)
    if not_before is None or not_after is None or renewal_due(not_before, not_after, now):
        return now
    return min(renewal_time(not_before, not_after), now + timedelta(seconds=interval))

"""The login throttle's sliding window and its memory bound, on a clock the test moves."""

from __future__ import annotations

import pytest

from external_adapters.inbox import throttle
from external_adapters.inbox.throttle import LoginThrottle, TooManyAttempts

from .conftest import Clock


def test_the_window_slides_one_failure_at_a_time(clock: Clock) -> None:
    limiter = LoginThrottle(clock, limit=2, window_seconds=60)
    limiter.begin(["k"])
    clock.advance(10)
    limiter.begin(["k"])
    with pytest.raises(TooManyAttempts) as refused:
        limiter.begin(["k"])
    assert refused.value.retry_after == 50 and refused.value.status == 429
    clock.advance(50)  # the first failure leaves the window, the second stays
    limiter.begin(["k"])
    with pytest.raises(TooManyAttempts):
        limiter.begin(["k"])


def test_a_refused_attempt_counts_for_no_key(clock: Clock) -> None:
    limiter = LoginThrottle(clock, limit=1)
    limiter.begin(["account:a"])
    with pytest.raises(TooManyAttempts):
        limiter.begin(["account:a", "client:1"])
    limiter.begin(["account:b", "client:1"])  # client:1 was not charged for the refused try


def test_a_flood_of_distinct_keys_keeps_only_the_latest(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "MAX_KEYS", 3)
    limiter = LoginThrottle(clock, limit=1)
    for n in range(5):
        limiter.begin([f"k{n}"])
    limiter.begin(["k0"])  # forgotten, so not refused
    with pytest.raises(TooManyAttempts):
        limiter.begin(["k4"])

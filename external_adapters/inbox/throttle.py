"""Login throttling: at most a few failed attempts a minute per account and per client address.

State is in memory, per process (one process per database, see ``docs/inbox.md``). Each key keeps the times of
its recent attempts in a sliding window; an attempt is counted when it starts (so a burst of concurrent tries
cannot slip past the limit) and forgotten again when it succeeds, so only failures count against a key.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from .errors import InboxError

MAX_KEYS = 10_000


class TooManyAttempts(InboxError):
    """Too many failed logins for the account or the client address; ``retry_after`` is in whole seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after = retry_after


class LoginThrottle:
    """Counts attempts per key over the last ``window_seconds``; refuses once ``limit`` are in the window."""

    def __init__(self, clock: Callable[[], float], limit: int = 5, window_seconds: float = 60.0) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window_seconds
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def begin(self, keys: Sequence[str]) -> float:
        """Count an attempt for every key and return its time. Raises :class:`TooManyAttempts` (counting
        nothing) when any key already has ``limit`` attempts in the window."""
        now = self._clock()
        waits = [self._wait(key, now) for key in keys]
        if any(waits):
            raise TooManyAttempts(max(1, math.ceil(max(waits))))
        for key in keys:
            self._attempts.setdefault(key, deque()).append(now)
            self._attempts.move_to_end(key)
        self._forget_oldest_keys()
        return now

    def succeeded(self, keys: Sequence[str], started: float) -> None:
        """The attempt begun at ``started`` was a good login: it does not count as a failure."""
        for key in keys:
            times = self._attempts.get(key)
            if times is not None and started in times:
                times.remove(started)

    def _wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        times = self._attempts.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._attempts[key]
            return 0.0
        return times[0] + self._window - now if len(times) >= self._limit else 0.0

    def _forget_oldest_keys(self) -> None:
        """Bound the memory a flood of distinct keys can take: the least recently tried keys go first."""
        while len(self._attempts) > MAX_KEYS:
            self._attempts.popitem(last=False)

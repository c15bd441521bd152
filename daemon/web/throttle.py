"""How many failed logins an account and an address may have before the console stops listening.

A sliding window per key (``user:NAME`` and ``addr:ADDRESS``): at most ``limit`` failures within
``window``; at the limit every login attempt for that key is answered HTTP 429 with Retry-After
until the oldest failure leaves the window, whether or not the password would have been right —
so guessing cannot go on at any speed. A successful login clears its account's failures (not its
address's: one right password must not reset a guesser's address).

In memory: a restart forgets the counts, which costs a guesser nothing he could not get by waiting
the window out, and the audit (``auth_event``) keeps every failure for good. Keys are bounded
(``max_keys``; the oldest are dropped) so that a flood of invented names cannot fill the memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta


class LoginThrottle:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        per_user: int = 5,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=15),
        max_keys: int = 10_000,
    ) -> None:
        self._clock = clock
        self._limits = {"user": per_user, "addr": per_address}
        self._window = window
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self._window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, user: str, address: str) -> int | None:
        """Seconds until a login for ``user`` from ``address`` may be tried again; None: now."""
        now = self._clock()
        waits = []
        with self._lock:
            for kind, key in (("user", f"user:{user.lower()}"), ("addr", f"addr:{address}")):
                q = self._recent(key, now)
                if len(q) >= self._limits[kind]:
                    waits.append((q[0] + self._window - now).total_seconds())
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, user: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"user:{user.lower()}", f"addr:{address}"):
                q = self._failures.setdefault(key, deque())
                q.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user.lower()}", None)

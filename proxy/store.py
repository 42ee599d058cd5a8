"""Caches behind one small interface, so a shared store can later serve several processes.

Everything kept here is a speed-up: losing it costs v4 calls, never correctness. Keys carry
the credential's fingerprint wherever the value is that credential's view of the account.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol


class Store(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def reserve(self, key: str, amount: float, capacity: int, window: float) -> bool:
        """Take `amount` from a budget of `capacity` per `window` seconds, if it is there."""
        ...

    async def charge(self, key: str, amount: float, capacity: int, window: float) -> None:
        """Take (or, negative, give back) `amount` whether or not it is there."""
        ...


class MemoryStore:
    """A per-process store: entries expire after their ttl; the oldest go first when full."""

    def __init__(self, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return value

    async def set(self, key: str, value: Any, ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def reserve(self, key: str, amount: float, capacity: int, window: float) -> bool:
        tokens = self._refilled(key, capacity, window)
        if tokens < amount:
            return False
        self._set_tokens(key, tokens - amount, window)
        return True

    async def charge(self, key: str, amount: float, capacity: int, window: float) -> None:
        tokens = self._refilled(key, capacity, window)
        self._set_tokens(key, min(capacity, tokens - amount), window)

    def _refilled(self, key: str, capacity: int, window: float) -> float:
        """A token bucket: full at `capacity`, refilling at capacity/window per second."""
        entry = self._entries.get(key)
        now = self._clock()
        if entry is None:
            return float(capacity)
        _, (tokens, stamp) = entry
        return float(min(capacity, tokens + (now - stamp) * capacity / window))

    def _set_tokens(self, key: str, tokens: float, window: float) -> None:
        now = self._clock()
        self._entries[key] = (now + window, (tokens, now))
        self._entries.move_to_end(key)

    def __len__(self) -> int:
        return len(self._entries)

"""Prometheus metrics at /metrics: v1 calls, the v4 calls they became, caches and refusals.

Each app has its own `CollectorRegistry` (tests run many apps in one process). The hot path
never asks the registry for anything: every label child is made once and kept in a dict, so
counting a call is a dict lookup and a locked add.

Labels never carry client text: the v1 action is the table's own name (else `unknown`), the
v4 route is the path with v4's 32-hex ids written `{id}` (paths are built from table literals
and v4 ids only), and the number of distinct routes is capped all the same.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from proxy.engine import Reply
    from proxy.v4client import V4Call

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "v4_route"]

# Up to the call deadline (25 s by default); v4 calls usually take 50-500 ms.
V1_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0)
V4_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)

RESULTS = ("success", "error", "gone")
REFUSALS = ("budget", "blocked")

# Past this many distinct v4 routes a new one counts as `other`: the table has a few dozen.
MAX_ROUTES = 100

_V4_ID = re.compile(r"(?<=/)[0-9a-f]{32}(?=/|$)")


def v4_route(path: str) -> str:
    """`/zones/<32 hex>/settings/ipv6` → `/zones/{id}/settings/ipv6`."""
    return _V4_ID.sub("{id}", path)


class Metrics:
    """The proxy's metrics, in a registry of their own; `render()` is the /metrics page."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self._v1_calls = Counter(
            "cf_v1_proxy_v1_calls", "v1 calls answered, by action and v1 result",
            ("action", "result"), registry=self.registry,
        )
        self._v1_seconds = Histogram(
            "cf_v1_proxy_v1_call_seconds", "time to answer a v1 call, by action",
            ("action",), buckets=V1_BUCKETS, registry=self.registry,
        )
        self._v4_calls = Counter(
            "cf_v1_proxy_v4_calls", "v4 requests made, by method, route and HTTP status "
            "(status none: no answer)", ("method", "route", "status"), registry=self.registry,
        )
        self._v4_seconds = Histogram(
            "cf_v1_proxy_v4_call_seconds", "time of one v4 request, by method and route",
            ("method", "route"), buckets=V4_BUCKETS, registry=self.registry,
        )
        zone_cache = Counter(
            "cf_v1_proxy_zone_cache_lookups", "zone-name lookups, answered from the cache (hit) "
            "or from v4 (miss)", ("result",), registry=self.registry,
        )
        refusals = Counter(
            "cf_v1_proxy_rate_refusals", "v1 calls refused E_MAXAPI before any v4 call: rate "
            "budget used up, or the key blocked after a v4 429", ("reason",),
            registry=self.registry,
        )
        # Children made up front for the fixed label sets, so they show (as 0) from the start.
        self._zone_hit = zone_cache.labels("hit")
        self._zone_miss = zone_cache.labels("miss")
        self._refusals = {reason: refusals.labels(reason) for reason in REFUSALS}

        self._v1: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._v4: dict[tuple[str, str, int | None], tuple[Counter, Histogram]] = {}
        self._routes: set[str] = set()

    def v1_call(self, reply: Reply, seconds: float) -> None:
        """One v1 call and every v4 call it made."""
        action = reply.known_action or "unknown"
        outcome = reply.outcome
        key = (action, outcome if outcome in RESULTS else "error")
        children = self._v1.get(key)
        if children is None:
            children = self._v1[key] = (
                self._v1_calls.labels(*key), self._v1_seconds.labels(action)
            )
        children[0].inc()
        children[1].observe(seconds)
        for call in reply.v4_calls:
            self.v4_call(call)

    def v4_call(self, call: V4Call) -> None:
        route = v4_route(call.path)
        if route not in self._routes:
            route = self._new_route(route)
        key = (call.method, route, call.status)
        children = self._v4.get(key)
        if children is None:
            status = "none" if call.status is None else str(call.status)
            children = self._v4[key] = (
                self._v4_calls.labels(call.method, route, status),
                self._v4_seconds.labels(call.method, route),
            )
        children[0].inc()
        children[1].observe(call.ms / 1000)

    def _new_route(self, route: str) -> str:
        if len(self._routes) >= MAX_ROUTES:
            return "other"
        self._routes.add(route)
        return route

    def zone_lookup(self, hit: bool) -> None:
        (self._zone_hit if hit else self._zone_miss).inc()

    def rate_refusal(self, reason: str) -> None:
        """`reason` is one of REFUSALS."""
        self._refusals[reason].inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

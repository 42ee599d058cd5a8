"""What one v1 call carries through the stages: its request, credential, v4 session, values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proxy.credentials import Credential, UpstreamIdentity
from proxy.metrics import Metrics
from proxy.settings import Settings
from proxy.store import Store
from proxy.v1request import V1Request
from proxy.v4client import V4Session


@dataclass
class Exchange:
    action: str
    request: V1Request
    credential: Credential
    # Who v4 sees: the pair itself, or in token mode the proxy's token (`proxy.credentials`).
    upstream: UpstreamIdentity
    v4: V4Session
    store: Store
    settings: Settings
    # Validated parameters, then whatever the steps save (`zone`, `record`, `setting`, …).
    values: dict[str, Any] = field(default_factory=dict)
    # The app's metrics, if it keeps them (zone-cache lookups are counted in steps/zones.py).
    metrics: Metrics | None = None

    @property
    def zone(self) -> dict[str, Any]:
        zone: dict[str, Any] = self.values["zone"]
        return zone

    def cache_key(self, kind: str, *parts: str) -> str:
        """A store key private to the upstream identity: what one v4 identity was told is never
        shown to another. In token mode every accepted pair shares the token's keys."""
        return ":".join((kind, self.upstream.fingerprint, *parts))

"""What one v1 call carries through the stages: its request, credential, v4 session, values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proxy.credentials import Credential
from proxy.settings import Settings
from proxy.store import Store
from proxy.v1request import V1Request
from proxy.v4client import V4Session


@dataclass
class Exchange:
    action: str
    request: V1Request
    credential: Credential
    v4: V4Session
    store: Store
    settings: Settings
    # Validated parameters, then whatever the steps save (`zone`, `record`, `setting`, …).
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> dict[str, Any]:
        zone: dict[str, Any] = self.values["zone"]
        return zone

    def cache_key(self, kind: str, *parts: str) -> str:
        """A store key private to this credential: one credential never sees another's data."""
        return ":".join((kind, self.credential.fingerprint, *parts))

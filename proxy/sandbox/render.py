"""The JSON shapes of v4 objects: zones, DNS records, settings and access rules.

Kept apart from the state so that what v4 *sends* is visible in one place. Records carry no
`zone_id`, `zone_name` or `locked`: v4 dropped them in 2024 (v4-api.md §7), and a proxy that
still reads them must fail here as it would live.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from .access_rules import MODES
from .state import AccessRule, Record, SandboxState, Zone

# legacy_id -> (name, monthly price). The free plan's id is the one v4 really uses.
PLANS = {
    "free": ("Free Website", 0),
    "pro": ("Pro Website", 20),
    "business": ("Business Website", 200),
    "enterprise": ("Enterprise Website", 5000),
}
FREE_PLAN_ID = "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
ZONE_PERMISSIONS = [
    "#zone:read", "#zone:edit", "#dns_records:read", "#dns_records:edit", "#zone_settings:read",
    "#zone_settings:edit", "#cache_purge:edit", "#waf:read", "#waf:edit",
]


def timestamp(seconds: float) -> str:
    """RFC 3339 with microseconds and Z, as v4 writes them ("2026-12-03T10:00:00.000000Z")."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plan(legacy_id: str) -> dict[str, Any]:
    name, price = PLANS[legacy_id]
    plan_id = FREE_PLAN_ID if legacy_id == "free" else hashlib.md5(
        f"plan:{legacy_id}".encode(), usedforsecurity=False
    ).hexdigest()
    return {
        "id": plan_id, "name": name, "price": price, "currency": "USD",
        "frequency": "" if legacy_id == "free" else "monthly",
        "is_subscribed": legacy_id != "free", "can_subscribe": False, "legacy_id": legacy_id,
        "legacy_discount": False, "externally_managed": False,
    }


def zone_object(zone: Zone, now: float) -> dict[str, Any]:
    return {
        "id": zone.id,
        "name": zone.name,
        "status": zone.status,
        "paused": zone.paused,
        "type": zone.type,
        "development_mode": zone.development_mode(now),
        "name_servers": list(zone.name_servers),
        "original_name_servers": zone.original_name_servers,
        "original_registrar": zone.original_registrar,
        "original_dnshost": zone.original_dnshost,
        "modified_on": timestamp(zone.modified_on),
        "created_on": timestamp(zone.created_on),
        "activated_on": None if zone.activated_on is None else timestamp(zone.activated_on),
        "meta": {
            "step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3,
            "phishing_detected": False,
        },
        "owner": {"id": zone.owner.id, "type": "user", "email": zone.owner.email},
        "account": {"id": zone.account.id, "name": zone.account.name},
        "permissions": list(ZONE_PERMISSIONS),
        "plan": _plan(zone.plan),
        "vanity_name_servers": [],
    }


def record_object(record: Record) -> dict[str, Any]:
    fields = record.fields
    out: dict[str, Any] = {
        "id": record.id,
        "name": fields.name,
        "type": fields.type,
        "content": fields.content,
    }
    if fields.priority is not None:
        out["priority"] = fields.priority
    if fields.data is not None:
        out["data"] = dict(fields.data)
    out.update(
        proxiable=fields.proxiable,
        proxied=fields.proxied,
        ttl=fields.ttl,
        settings={},
        meta={},
        comment=fields.comment,
        tags=list(fields.tags),
        created_on=timestamp(record.created_on),
        modified_on=timestamp(record.modified_on),
    )
    return out


def setting_object(state: SandboxState, zone: Zone, setting_id: str) -> dict[str, Any]:
    """`{id, value, editable, modified_on}`; development mode adds `time_remaining`."""
    value = state.setting_value(zone, setting_id)
    modified = zone.settings_modified.get(setting_id)
    out: dict[str, Any] = {
        "id": setting_id,
        "value": value,
        "editable": True,
        "modified_on": None if modified is None else timestamp(modified),
    }
    if setting_id == "development_mode":
        out["time_remaining"] = max(0, zone.development_mode(state.clock()))
    return out


def rule_object(rule: AccessRule) -> dict[str, Any]:
    scope: dict[str, Any] = {"id": rule.scope.id, "type": rule.scope.kind}
    scope["email" if rule.scope.kind == "user" else "name"] = rule.scope.label
    return {
        "id": rule.id,
        "paused": False,
        "mode": rule.mode,
        "allowed_modes": list(MODES),
        "configuration": {"target": rule.target, "value": rule.value},
        "notes": rule.notes,
        "created_on": timestamp(rule.created_on),
        "modified_on": timestamp(rule.modified_on),
        "scope": scope,
    }

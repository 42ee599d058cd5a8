"""Stage 4 helpers: v4 zones and records reshaped into v1's zone and record objects.

Key order and JSON types are part of the v1 contract (`v1-api.md` §4): a Go library fails a
whole call when `rec_id` or `ttl` arrives as a JSON number, while pyflare's tests want ints in
`props`. Each function below writes the keys in v1's order with v1's types.
"""

from __future__ import annotations

from typing import Any

import idna

from proxy.ids import v1_number

PROXIABLE_TYPES = frozenset({"A", "AAAA", "CNAME"})

_ALLOW = [
    "analytics",
    "threat_control",
    "cf_apps",
    "dns_editor",
    "cf_settings",
    "page_rules",
    "zone_deactivate",
]

_STATUS_LETTER = {"active": "V", "pending": "P", "initializing": "P", "moved": "D"}
_STATUS_DESC = {
    "status-active": "This website is active on Cloudflare.",
    "status-dev-mode": "This website is active on Cloudflare, in development mode.",
    "status-deactivated": "This website is paused on Cloudflare.",
}


def unicode_name(name: str) -> str:
    """The Unicode form of a punycode name, for `display_name`; the name itself if invalid."""
    if "xn--" not in name:
        return name
    try:
        return str(idna.decode(name))
    except idna.IDNAError:
        return name


def record_label(name: str, zone_name: str) -> str:
    """`display_name`: the label without the zone; the zone name itself for the apex."""
    if name == zone_name:
        return unicode_name(zone_name)
    suffix = "." + zone_name
    label = name[: -len(suffix)] if name.endswith(suffix) else name
    return unicode_name(label)


def record_obj(record: dict[str, Any], zone_name: str) -> dict[str, Any]:
    """A v1 record object (`v1-api.md` §4.2) from a v4 DNS record."""
    rtype = str(record.get("type", ""))
    name = str(record.get("name", ""))
    content = str(record.get("content", ""))
    ttl = record.get("ttl", 1)
    proxied = 1 if record.get("proxied") and rtype in PROXIABLE_TYPES else 0
    proxiable = 1 if record.get("proxiable") else 0

    priority = record.get("priority")
    if rtype == "SRV" and isinstance(record.get("data"), dict):
        priority = record["data"].get("priority", priority)
    prio = str(priority) if rtype in ("MX", "SRV") and priority is not None else None

    obj: dict[str, Any] = {
        "rec_id": str(v1_number(record["id"])),
        "rec_tag": record["id"],
        "rec_hash": record["id"],
        "zone_name": zone_name,
        "name": name,
        "display_name": record_label(name, zone_name),
        "type": rtype,
        "prio": prio,
        "content": content,
        "display_content": content,
        "ttl": str(ttl),
        "ttl_ceil": 86400,
        "ssl_id": None,
        "ssl_status": None,
        "ssl_expires_on": None,
        "auto_ttl": 1 if ttl == 1 else 0,
        "service_mode": str(proxied),
        "props": {
            "proxiable": proxiable,
            "cloud_on": proxied,
            "cf_open": 1 - proxied,
            "vanity_lock": 0,
            "ssl": 1,
            "expired_ssl": 0,
            "expiring_ssl": 0,
            "pending_ssl": 0,
        },
    }
    if rtype == "MX":
        obj["mx"] = {"auto": False}
    return obj


def zone_status_class(zone: dict[str, Any]) -> str:
    if zone.get("paused"):
        return "status-deactivated"
    dev = zone.get("development_mode")
    if isinstance(dev, (int, float)) and dev > 0:
        return "status-dev-mode"
    return "status-active"


def zone_obj(zone: dict[str, Any]) -> dict[str, Any]:
    """A v1 zone object (`v1-api.md` §4.1) from a v4 zone (`v4-api.md` §14.8)."""
    status_class = zone_status_class(zone)
    account = zone.get("account") if isinstance(zone.get("account"), dict) else {}
    owner_id = (account or {}).get("id") or (zone.get("owner") or {}).get("id")
    plan = zone.get("plan") if isinstance(zone.get("plan"), dict) else {}
    legacy = str((plan or {}).get("legacy_id") or "free")
    original_ns = zone.get("original_name_servers")
    name = str(zone.get("name", ""))

    return {
        "zone_id": str(v1_number(zone["id"])),
        "user_id": str(v1_number(owner_id)) if isinstance(owner_id, str) else None,
        "zone_name": name,
        "display_name": unicode_name(name),
        "zone_status": _STATUS_LETTER.get(str(zone.get("status", "active")), "V"),
        "zone_mode": "0" if zone.get("paused") else "1",
        "host_id": None,
        "zone_type": "P" if zone.get("type") == "partial" else "F",
        "host_pubname": None,
        "host_website": None,
        "vtxt": None,
        "fqdns": zone.get("name_servers") or None,
        "step": "4",
        "zone_status_class": status_class,
        "zone_status_desc": _STATUS_DESC[status_class],
        "ns_vanity_map": [],
        "orig_registrar": zone.get("original_registrar"),
        "orig_dnshost": zone.get("original_dnshost"),
        "orig_ns_names": "{" + ",".join(original_ns) + "}" if original_ns else None,
        "props": {
            "dns_cname": 1 if zone.get("type") == "partial" else 0,
            "dns_partner": 0,
            "dns_anon_partner": 0,
            "plan": "FREE_ZONE" if legacy == "free" else legacy.upper() + "_ZONE",
            "pro": 0 if legacy == "free" else 1,
            "expired_pro": 0,
            "pro_sub": 0,
            "plan_sub": 0,
            "ssl": 1,
            "expired_ssl": 0,
            "expired_rs_pro": 0,
            "reseller_pro": 0,
            "reseller_plans": [],
            "force_interal": 0,
            "ssl_needed": 0,
            "alexa_rank": 0,
            "has_vanity": 0,
        },
        "confirm_code": {},
        "allow": _ALLOW
        + ["zone_dev_mode0" if status_class == "status-dev-mode" else "zone_dev_mode1"],
    }

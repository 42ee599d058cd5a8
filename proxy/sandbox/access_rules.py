"""IP access rule rules of API v4 (`shared/reference/v4-api.md` §10): modes, targets, values."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .errors import ApiError

MODES = ("block", "challenge", "whitelist", "js_challenge", "managed_challenge")
TARGETS = ("ip", "ip6", "ip_range", "asn", "country")
# Prefix lengths v4 accepts for ip_range; anything else is refused.
RANGE_PREFIXES = {4: (16, 24), 6: (32, 48, 64)}

_ASN = re.compile(r"^(?:AS)?([0-9]{1,10})$", re.IGNORECASE)
_COUNTRY = re.compile(r"^[A-Za-z0-9]{2}$")


def rule_error(detail: str) -> ApiError:
    return ApiError(400, 10001, f"firewallaccessrules.api.validation_error: {detail}")


def check_mode(mode: Any) -> str:
    if mode not in MODES:
        raise rule_error(f"mode must be one of {', '.join(MODES)}")
    return str(mode)


def check_notes(notes: Any) -> str:
    if notes is None:
        return ""
    if not isinstance(notes, str):
        raise rule_error("notes must be a string")
    return notes


def configuration(value: Any) -> tuple[str, str]:
    """The (target, normalised value) of a rule's `configuration`, or 10001."""
    if not isinstance(value, dict):
        raise rule_error("configuration must be an object with target and value")
    target, raw = value.get("target"), value.get("value")
    if target not in TARGETS:
        raise rule_error(f"configuration.target must be one of {', '.join(TARGETS)}")
    if not isinstance(raw, str) or not raw:
        raise rule_error("configuration.value must be a non-empty string")
    normalised = _normalise(str(target), raw)
    if normalised is None:
        raise rule_error(f"{raw!r} is not a valid value for target {target}")
    return str(target), normalised


def _normalise(target: str, raw: str) -> str | None:
    try:
        if target == "ip":
            return str(ipaddress.IPv4Address(raw))
        if target == "ip6":
            return ipaddress.IPv6Address(raw).compressed
        if target == "ip_range":
            network = ipaddress.ip_network(raw, strict=True)
            allowed = RANGE_PREFIXES[network.version]
            return network.compressed if network.prefixlen in allowed else None
    except ValueError:
        return None
    if target == "asn":
        match = _ASN.match(raw)
        return f"AS{match.group(1)}" if match else None
    return raw.upper() if _COUNTRY.match(raw) else None


def search_value(raw: str) -> str:
    """A `configuration.value` filter in stored form, so "2001:DB8::1" finds "2001:db8::1"."""
    try:
        return ipaddress.ip_address(raw).compressed
    except ValueError:
        pass
    try:
        return ipaddress.ip_network(raw, strict=True).compressed
    except ValueError:
        return raw

"""Per-setting zone settings of API v4: which ids exist, their values and defaults.

The table is `shared/reference/v4-api.md` §8. Retired settings (minify, mirage,
server_side_exclude, waf) are deliberately absent, so they answer 1006 like any unknown id.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError

ON_OFF = ("on", "off")
# How long development mode stays on after it is switched on (v4: three hours).
DEV_MODE_SECONDS = 10800

_SECURITY_HEADER_DEFAULT: dict[str, Any] = {
    "strict_transport_security": {
        "enabled": False, "max_age": 0, "include_subdomains": False, "preload": False,
        "nosniff": False,
    }
}

# setting id -> (default, allowed values); None = an object value checked by its own function.
SETTINGS: dict[str, tuple[Any, tuple[Any, ...] | None]] = {
    "security_level": (
        "medium", ("off", "essentially_off", "low", "medium", "high", "under_attack")
    ),
    "cache_level": ("aggressive", ("aggressive", "basic", "simplified")),
    "development_mode": ("off", ON_OFF),
    "ipv6": ("off", ON_OFF),
    "rocket_loader": ("off", ON_OFF),
    "always_online": ("on", ON_OFF),
    "browser_check": ("on", ON_OFF),
    "challenge_ttl": (
        1800,
        (300, 900, 1800, 2700, 3600, 7200, 10800, 14400, 28800, 57600, 86400, 604800, 2592000,
         31536000),
    ),
    "browser_cache_ttl": (
        14400,
        (0, 30, 60, 120, 300, 1200, 1800, 3600, 7200, 10800, 14400, 18000, 28800, 43200, 57600,
         72000, 86400, 172800, 259200, 345600, 432000, 691200, 1382400, 2073600, 2678400,
         5356800, 16070400, 31536000),
    ),
    "edge_cache_ttl": (
        7200,
        (30, 60, 300, 1200, 1800, 3600, 7200, 10800, 14400, 18000, 28800, 43200, 57600, 72000,
         86400, 172800, 259200, 345600, 432000, 518400, 604800),
    ),
    "email_obfuscation": ("on", ON_OFF),
    "hotlink_protection": ("off", ON_OFF),
    "ip_geolocation": ("on", ON_OFF),
    "prefetch_preload": ("off", ON_OFF),
    "polish": ("off", ("off", "lossless", "lossy")),
    "ssl": ("off", ("off", "flexible", "full", "strict")),
    "http2": ("on", ON_OFF),
    "security_header": (_SECURITY_HEADER_DEFAULT, None),
}

_HSTS_FIELDS = {
    "enabled": bool, "max_age": int, "include_subdomains": bool, "preload": bool, "nosniff": bool,
}


def default_values() -> dict[str, Any]:
    """A fresh copy of every stored default, for a new zone. Development mode is not stored:
    its value follows from the zone's countdown, which runs out by itself."""
    return {
        sid: copy.deepcopy(default) for sid, (default, _) in SETTINGS.items()
        if sid != "development_mode"
    }


def check_setting_id(setting_id: str) -> None:
    if setting_id not in SETTINGS:
        raise ApiError(400, 1006, "Unrecognized zone setting name")


def invalid_value(setting_id: str) -> ApiError:
    return ApiError(400, 1007, f"Invalid value for zone setting {setting_id}")


def new_value(setting_id: str, value: Any, current: Any) -> Any:
    """The value a PATCH stores, or 1007.

    Numbers must be JSON numbers (`"1800"` is refused; `true` is not 1). `security_header`
    merges the fields sent over the current ones, so a client can flip one flag.
    """
    check_setting_id(setting_id)
    choices = SETTINGS[setting_id][1]
    if choices is None:
        return _security_header(value, current)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or value not in choices:
        raise invalid_value(setting_id)
    return value


def _security_header(value: Any, current: Any) -> dict[str, Any]:
    sts = value.get("strict_transport_security") if isinstance(value, dict) else None
    if not isinstance(sts, dict) or set(value) != {"strict_transport_security"}:
        raise invalid_value("security_header")
    merged: dict[str, Any] = copy.deepcopy(current)
    for field, field_value in sts.items():
        wanted = _HSTS_FIELDS.get(field)
        # bool is an int in Python; JSON true must not pass as a max_age.
        if wanted is None or isinstance(field_value, bool) is not (wanted is bool):
            raise invalid_value("security_header")
        if wanted is int and not (isinstance(field_value, int) and field_value >= 0):
            raise invalid_value("security_header")
        merged["strict_transport_security"][field] = field_value
    return merged

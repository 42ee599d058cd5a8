"""Per-setting zone settings: defaults, changes, refusals, and development mode's countdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import V4, ZONE, base_seed, codes

SETTINGS = f"/zones/{ZONE}/settings"
HSTS_OFF = {"enabled": False, "max_age": 0, "include_subdomains": False, "preload": False,
            "nosniff": False}


@pytest.mark.parametrize(
    ("setting_id", "default"),
    [
        ("security_level", "medium"), ("cache_level", "aggressive"),
        ("development_mode", "off"), ("ipv6", "off"), ("rocket_loader", "off"),
        ("always_online", "on"), ("browser_check", "on"), ("challenge_ttl", 1800),
        ("browser_cache_ttl", 14400), ("edge_cache_ttl", 7200), ("email_obfuscation", "on"),
        ("hotlink_protection", "off"), ("ip_geolocation", "on"), ("prefetch_preload", "off"),
        ("polish", "off"), ("ssl", "off"), ("http2", "on"),
        ("security_header", {"strict_transport_security": HSTS_OFF}),
    ],
)
def test_every_setting_starts_at_its_v4_default(v4: V4, setting_id: str, default: Any) -> None:
    setting = v4.ok("GET", f"{SETTINGS}/{setting_id}")
    setting.pop("time_remaining", None)
    assert setting == {"id": setting_id, "value": default, "editable": True,
                       "modified_on": None}


@pytest.mark.parametrize(
    ("setting_id", "value"),
    [("security_level", "under_attack"), ("cache_level", "simplified"), ("ipv6", "on"),
     ("challenge_ttl", 31536000), ("browser_cache_ttl", 0), ("edge_cache_ttl", 30),
     ("polish", "lossy"), ("ssl", "strict"), ("http2", "off"), ("rocket_loader", "on")],
)
def test_patch_stores_the_value_and_its_time(v4: V4, setting_id: str, value: Any) -> None:
    v4.clock.advance(5)
    changed = v4.ok("PATCH", f"{SETTINGS}/{setting_id}", {"value": value})
    expected = {"id": setting_id, "value": value, "editable": True,
                "modified_on": "2026-12-03T10:00:05.000000Z"}
    assert changed == expected
    assert v4.ok("GET", f"{SETTINGS}/{setting_id}") == expected


@pytest.mark.parametrize(
    ("setting_id", "value", "valid"),
    [
        ("security_level", "help", False),
        ("security_level", None, False),
        ("ipv6", True, False),
        ("challenge_ttl", "1800", False),
        ("challenge_ttl", 1801, False),
        ("browser_cache_ttl", True, False),
        ("ssl", "Full", False),
        ("security_header", {"strict_transport_security": {"enabled": "yes"}}, False),
        ("security_header", {"strict_transport_security": {"max_age": -1}}, True),
        ("security_header", {"hsts": {}}, True),
    ],
)
def test_bad_values_answer_1007_and_change_nothing(
    v4: V4, setting_id: str, value: Any, valid: bool
) -> None:
    before = dict(v4.state.zones[ZONE].settings)
    errors = v4.fail(400, "PATCH", f"{SETTINGS}/{setting_id}", {"value": value},
                     valid_request=valid)
    assert errors == [{"code": 1007, "message": f"Invalid value for zone setting {setting_id}"}]
    assert v4.state.zones[ZONE].settings == before


def test_a_body_without_value_answers_1007(v4: V4) -> None:
    errors = v4.fail(400, "PATCH", f"{SETTINGS}/ssl", {"ssl": "full"}, valid_request=False)
    assert codes(errors) == [1007]


@pytest.mark.parametrize("setting_id", ["minify", "mirage", "server_side_exclude", "waf", "foo"])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_retired_and_unknown_settings_answer_1006(v4: V4, setting_id: str, method: str) -> None:
    body = {"value": "on"} if method == "PATCH" else None
    errors = v4.fail(400, method, f"{SETTINGS}/{setting_id}", body, valid_request=False)
    assert errors == [{"code": 1006, "message": "Unrecognized zone setting name"}]


def test_security_header_merges_the_fields_sent(v4: V4) -> None:
    value = {"strict_transport_security": {"enabled": True, "max_age": 86400}}
    changed = v4.ok("PATCH", f"{SETTINGS}/security_header", {"value": value})
    assert changed["value"] == {"strict_transport_security": {
        **HSTS_OFF, "enabled": True, "max_age": 86400,
    }}


def test_development_mode_counts_down_and_the_zone_follows(v4: V4) -> None:
    dev = f"{SETTINGS}/development_mode"
    on = v4.ok("PATCH", dev, {"value": "on"})
    assert (on["value"], on["time_remaining"]) == ("on", 10800)
    assert v4.ok("GET", f"/zones/{ZONE}")["development_mode"] == 10800

    v4.clock.advance(800)
    later = v4.ok("GET", dev)
    assert (later["value"], later["time_remaining"]) == ("on", 10000)
    assert v4.ok("GET", f"/zones/{ZONE}")["development_mode"] == 10000

    v4.clock.advance(10100)
    expired = v4.ok("GET", dev)
    assert (expired["value"], expired["time_remaining"]) == ("off", 0)
    assert v4.ok("GET", f"/zones/{ZONE}")["development_mode"] == -100


def test_switching_development_mode_off_ends_it_now(v4: V4) -> None:
    dev = f"{SETTINGS}/development_mode"
    v4.ok("PATCH", dev, {"value": "on"})
    v4.clock.advance(60)
    off = v4.ok("PATCH", dev, {"value": "off"})
    assert (off["value"], off["time_remaining"]) == ("off", 0)
    v4.clock.advance(30)
    assert v4.ok("GET", f"/zones/{ZONE}")["development_mode"] == -30


def test_seeded_settings_are_starting_values(make_v4: Callable[..., V4]) -> None:
    seed = base_seed()
    seed["users"][0]["zones"][0]["settings"] = {"security_level": "high", "ipv6": "on"}
    v4 = make_v4(seed)
    assert v4.ok("GET", f"{SETTINGS}/security_level") == {
        "id": "security_level", "value": "high", "editable": True, "modified_on": None,
    }
    assert v4.ok("GET", f"{SETTINGS}/ipv6")["value"] == "on"


def test_settings_of_an_unreachable_zone_answer_7003(v4: V4) -> None:
    errors = v4.fail(400, "PATCH", f"/zones/{'e' * 32}/settings/ssl", {"value": "full"})
    assert codes(errors) == [7003, 7000]

"""apache-libcloud 2.2.1's CloudFlare v1 driver: its extension methods and `get_zone`.

Every call is a GET with the parameters in the query. libcloud raises `BaseHTTPError` for any
status but 200/201/202, so a retired action (HTTP 410) surfaces as that error with `.code`
410; its `str()` fails on Python 3 for a JSON body, so the tests never print it. Any other
failure must come back at HTTP 200 and map to libcloud's own errors. The driver has no
`get_record` (the base class raises NotImplementedError without a request), so there is
nothing of it to drive.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import LibcloudError
from libcloud.dns.base import Zone
from libcloud.dns.providers import get_driver
from libcloud.dns.types import Provider, ZoneDoesNotExistError

from tests.e2e.conftest import EMAIL, KEY, RunningProxy


def driver(proxy: RunningProxy, email: str = EMAIL, key: str = KEY) -> Any:
    parts = urlsplit(proxy.url)
    cls = get_driver(Provider.CLOUDFLARE)
    return cls(email, key, secure=False, host=parts.hostname, port=parts.port)


def zones(drv: Any) -> dict[str, Any]:
    return {zone.domain: zone for zone in drv.list_zones()}


@pytest.fixture
def drv(proxy: RunningProxy) -> Any:
    return driver(proxy)


@pytest.fixture
def zone(drv: Any) -> Any:
    return zones(drv)["example.com"]


def purges(proxy: RunningProxy) -> list[tuple[str, Any, int]]:
    return [(x.method, x.body, x.status) for x in proxy.recorder.exchanges
            if x.path.endswith(f"/zones/{proxy.zone_id()}/purge_cache")]


# --- zones -----------------------------------------------------------------------------------


def test_get_zone_finds_a_zone_by_its_v1_id(drv: Any, zone: Any) -> None:
    found = drv.get_zone(zone.id)
    assert (found.id, found.domain, found.type) == (zone.id, "example.com", "master")
    assert found.id.isdigit()
    assert found.extra["zone_status_class"] == "status-active"
    assert found.extra["fqdns"] == ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
    with pytest.raises(ZoneDoesNotExistError):
        drv.get_zone("1")


def test_ex_zone_check_answers_integer_ids(drv: Any, proxy: RunningProxy) -> None:
    listed = zones(drv)
    unknown = Zone(id="0", domain="nope.test", type="master", ttl=None, driver=drv)
    result = drv.ex_zone_check([listed["example.com"], listed["example.org"], unknown])
    assert result == {"example.com": int(listed["example.com"].id),
                      "example.org": int(listed["example.org"].id), "nope.test": 0}
    assert all(type(v) is int for v in result.values())
    assert proxy.v4_writes() == []


def test_extension_on_an_unknown_zone_raises_zone_does_not_exist(
    drv: Any, proxy: RunningProxy
) -> None:
    unknown = Zone(id="0", domain="nope.test", type="master", ttl=None, driver=drv)
    with pytest.raises(ZoneDoesNotExistError):
        drv.ex_set_zone_security_level(unknown, "high")
    with pytest.raises(ZoneDoesNotExistError):
        drv.ex_purge_cached_files(unknown)
    assert proxy.v4_writes() == []


# --- retired actions: HTTP 410 ---------------------------------------------------------------


@pytest.mark.parametrize("interval", [30, 20, 40])
def test_ex_get_zone_stats_is_gone(drv: Any, zone: Any, proxy: RunningProxy,
                                   interval: int) -> None:
    proxy.forget_calls()
    with pytest.raises(BaseHTTPError) as caught:
        drv.ex_get_zone_stats(zone, interval=interval)
    assert caught.value.code == 410
    assert proxy.v4_calls == []


def test_ex_get_ip_threat_score_is_gone(drv: Any, proxy: RunningProxy) -> None:
    with pytest.raises(BaseHTTPError) as caught:
        drv.ex_get_ip_threat_score("198.51.100.9")
    assert caught.value.code == 410
    assert proxy.v4_calls == []


# --- zone settings ---------------------------------------------------------------------------


def test_ex_get_zone_settings_reads_objs_0(drv: Any, zone: Any, proxy: RunningProxy) -> None:
    settings = drv.ex_get_zone_settings(zone)
    assert settings["sec_lvl"] == "med" and settings["userSecuritySetting"] == "Medium"
    assert (settings["dev_mode"], settings["ipv46"], settings["cache_lvl"]) == (0, 0, "agg")
    assert (settings["async"], settings["fpurge_ts"], settings["ssl"]) == ("0", "0", "0")
    assert proxy.v4_writes() == []


def test_ex_get_zone_settings_follows_the_setters(drv: Any, zone: Any) -> None:
    assert drv.ex_set_zone_security_level(zone, "eoff") is True
    assert drv.ex_set_zone_cache_level(zone, "basic") is True
    assert drv.ex_enable_development_mode(zone) is True
    assert drv.ex_enable_ipv6_support(zone) is True
    settings = drv.ex_get_zone_settings(zone)
    assert (settings["sec_lvl"], settings["userSecuritySetting"]) == ("eoff", "Essentially Off")
    assert settings["cache_lvl"] == "basic"
    assert type(settings["dev_mode"]) is int and settings["dev_mode"] > 0
    assert settings["ipv46"] == 3


@pytest.mark.parametrize(("level", "v4_value"), [
    ("help", "under_attack"), ("high", "high"), ("med", "medium"), ("low", "low"),
    ("eoff", "essentially_off"),
])
def test_ex_set_zone_security_level(drv: Any, zone: Any, proxy: RunningProxy, level: str,
                                    v4_value: str) -> None:
    assert drv.ex_set_zone_security_level(zone, level) is True
    assert proxy.setting("security_level") == v4_value


def test_ex_set_zone_security_level_refuses_a_bad_level_at_200(
    drv: Any, zone: Any, proxy: RunningProxy
) -> None:
    with pytest.raises(LibcloudError) as caught:
        drv.ex_set_zone_security_level(zone, "medium")
    assert not isinstance(caught.value, BaseHTTPError)
    assert "E_INVLDINPUT" in caught.value.value
    assert proxy.setting("security_level") == "medium"
    assert proxy.v4_writes() == []


def test_ex_set_zone_cache_level(drv: Any, zone: Any, proxy: RunningProxy) -> None:
    assert drv.ex_set_zone_cache_level(zone, "basic") is True
    assert proxy.setting("cache_level") == "basic"
    assert drv.ex_set_zone_cache_level(zone, "agg") is True
    assert proxy.setting("cache_level") == "aggressive"


def test_ex_development_mode_on_and_off(drv: Any, zone: Any, proxy: RunningProxy) -> None:
    assert drv.ex_enable_development_mode(zone) is True
    assert proxy.setting("development_mode") == "on"
    assert zones(drv)["example.com"].extra["zone_status_class"] == "status-dev-mode"
    assert drv.ex_disable_development_mode(zone) is True
    assert proxy.setting("development_mode") == "off"
    assert zones(drv)["example.com"].extra["zone_status_class"] == "status-active"


def test_ex_ipv6_support_on_with_v3_and_off(drv: Any, zone: Any, proxy: RunningProxy) -> None:
    assert drv.ex_enable_ipv6_support(zone) is True
    assert proxy.setting("ipv6") == "on"
    assert drv.ex_disable_ipv6_support(zone) is True
    assert proxy.setting("ipv6") == "off"
    patches = [x.body for x in proxy.recorder.exchanges
               if x.method == "PATCH" and x.path.endswith("/settings/ipv6")]
    assert patches == [{"value": "on"}, {"value": "off"}]


def test_setters_touch_only_their_zone(drv: Any, proxy: RunningProxy) -> None:
    org = zones(drv)["example.org"]
    assert drv.ex_set_zone_security_level(org, "high") is True
    assert proxy.setting("security_level", "example.org") == "high"
    assert proxy.setting("security_level") == "medium"


# --- purges ----------------------------------------------------------------------------------


def test_ex_purge_cached_files(drv: Any, zone: Any, proxy: RunningProxy) -> None:
    assert drv.ex_purge_cached_files(zone) is True
    assert purges(proxy) == [("POST", {"purge_everything": True}, 200)]
    remembered = drv.ex_get_zone_settings(zone)["fpurge_ts"]
    assert remembered.isdigit() and int(remembered) > 0


@pytest.mark.parametrize("url", [
    "http://www.example.com/img/logo.png",
    "https://www.example.com/a.css?x=1&y=2",
    "https://www.example.com/caf\u00e9.css",
])
def test_ex_purge_cached_file(drv: Any, zone: Any, proxy: RunningProxy, url: str) -> None:
    assert drv.ex_purge_cached_file(zone, url) is True
    assert purges(proxy) == [("POST", {"files": [url]}, 200)]


# --- IP lists (libcloud sends `z`, which v1 ignored) -------------------------------------------


@pytest.mark.parametrize(("ip", "target"), [
    ("198.51.100.7", "ip"), ("2001:db8::7", "ip6"), ("203.0.113.0/24", "ip_range"),
])
def test_ex_whitelist_blacklist_unlist_ip(drv: Any, zone: Any, proxy: RunningProxy, ip: str,
                                          target: str) -> None:
    assert proxy.access_rules() == []
    assert drv.ex_whitelist_ip(zone, ip) is True
    assert proxy.access_rules() == [(target, ip, "whitelist")]
    assert drv.ex_blacklist_ip(zone, ip) is True
    assert proxy.access_rules() == [(target, ip, "block")]
    assert drv.ex_unlist_ip(zone, ip) is True
    assert proxy.access_rules() == []
    # nul for an IP on neither list is still a success
    assert drv.ex_unlist_ip(zone, ip) is True


def test_ip_lists_are_account_wide_whatever_z_says(drv: Any, proxy: RunningProxy) -> None:
    listed = zones(drv)
    assert drv.ex_blacklist_ip(listed["example.org"], "203.0.113.5") is True
    assert drv.ex_unlist_ip(listed["example.com"], "203.0.113.5") is True
    assert proxy.access_rules() == []

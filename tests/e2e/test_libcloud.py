"""apache-libcloud 2.2.1's v1 CloudFlare driver, unmodified, pointed at the proxy.

libcloud sends every action as a GET with all parameters in the query, credentials last.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError
from libcloud.dns.providers import get_driver
from libcloud.dns.types import Provider, RecordDoesNotExistError, RecordType

from tests.e2e.conftest import EMAIL, KEY, RunningProxy


def driver(proxy: RunningProxy, email: str = EMAIL, key: str = KEY) -> Any:
    parts = urlsplit(proxy.url)
    cls = get_driver(Provider.CLOUDFLARE)
    return cls(email, key, secure=False, host=parts.hostname, port=parts.port)


def test_libcloud_lists_zones_and_records(proxy: RunningProxy) -> None:
    zones = {zone.domain: zone for zone in driver(proxy).list_zones()}
    assert sorted(zones) == ["example.com", "example.org"]
    records = driver(proxy).list_records(zones["example.com"])
    assert len(records) == 6
    www = next(r for r in records if r.name == "www" and r.type == RecordType.A)
    assert (www.data, www.extra["ttl"], www.extra["service_mode"]) == ("192.0.2.1", 1, "1")
    apex = [r for r in records if r.name is None]
    assert sorted(r.type for r in apex) == [RecordType.MX, RecordType.TXT]


def test_libcloud_creates_updates_and_deletes_a_record(proxy: RunningProxy) -> None:
    drv = driver(proxy)
    zone = next(z for z in drv.list_zones() if z.domain == "example.com")

    record = drv.create_record("lc", zone, RecordType.A, "198.51.100.30")
    assert (record.name, record.data, record.extra["ttl"]) == ("lc", "198.51.100.30", 120)
    [stored] = proxy.records(name="lc.example.com")
    assert (stored["content"], stored["ttl"]) == ("198.51.100.30", 120)

    updated = drv.update_record(record, data="198.51.100.31", extra={"ttl": 300})
    assert updated.id == record.id
    [stored] = proxy.records(name="lc.example.com")
    assert (stored["content"], stored["ttl"], stored["proxied"]) == ("198.51.100.31", 300, False)

    assert drv.delete_record(updated) is True
    assert proxy.records(name="lc.example.com") == []
    with pytest.raises(RecordDoesNotExistError):
        drv.delete_record(updated)


def test_libcloud_update_keeps_the_orange_cloud(proxy: RunningProxy) -> None:
    drv = driver(proxy)
    zone = next(z for z in drv.list_zones() if z.domain == "example.com")
    www = next(r for r in drv.list_records(zone) if r.name == "www" and r.type == RecordType.A)
    drv.update_record(www, data="192.0.2.77")
    [stored] = proxy.records(name="www.example.com", type="A")
    assert (stored["content"], stored["proxied"]) == ("192.0.2.77", True)


def test_libcloud_creates_mx_with_priority(proxy: RunningProxy) -> None:
    drv = driver(proxy)
    zone = next(z for z in drv.list_zones() if z.domain == "example.com")
    record = drv.create_record("", zone, RecordType.MX, "mx2.example.net",
                               extra={"priority": 20, "ttl": 3600})
    assert (record.name, record.data) == (None, "mx2.example.net")
    mx = [r for r in proxy.records(type="MX") if r["content"] == "mx2.example.net"]
    assert [(r["name"], r["priority"]) for r in mx] == [("example.com", 20)]


def test_libcloud_wrong_key_raises_invalid_creds(proxy: RunningProxy) -> None:
    with pytest.raises(InvalidCredsError):
        driver(proxy, key="f" * 37).list_zones()


def test_libcloud_retired_action_raises_its_http_error(proxy: RunningProxy) -> None:
    drv = driver(proxy)
    zone = next(z for z in drv.list_zones() if z.domain == "example.com")
    with pytest.raises(BaseHTTPError) as caught:
        drv.ex_get_zone_stats(zone)
    assert caught.value.code == 410

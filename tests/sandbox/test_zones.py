"""Zones: the v4 zone object, listing filters and paging, and what a user can reach."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import (
    EMAIL,
    KEY,
    OTHER_EMAIL,
    OTHER_KEY,
    UNKNOWN_ID,
    V4,
    ZONE,
    base_seed,
    codes,
)


def test_zone_object_has_the_v4_fields(v4: V4) -> None:
    zone = v4.ok("GET", f"/zones/{ZONE}")
    owner_id = v4.state.users[0].id
    assert zone == {
        "id": ZONE,
        "name": "example.com",
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "created_on": "2026-12-03T10:00:00.000000Z",
        "modified_on": "2026-12-03T10:00:00.000000Z",
        "activated_on": "2026-12-03T10:00:00.000000Z",
        "meta": {"step": 2, "custom_certificate_quota": 0, "page_rule_quota": 3,
                 "phishing_detected": False},
        "owner": {"id": owner_id, "type": "user", "email": EMAIL},
        "account": {"id": "a" * 32, "name": "Ops Account"},
        "permissions": zone["permissions"],
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website", "price": 0,
                 "currency": "USD", "frequency": "", "is_subscribed": False,
                 "can_subscribe": False, "legacy_id": "free", "legacy_discount": False,
                 "externally_managed": False},
        "vanity_name_servers": [],
    }
    assert "#dns_records:edit" in zone["permissions"]


def test_pending_zone_has_no_activation_time(v4: V4) -> None:
    zone = v4.ok("GET", f"/zones/{'d' * 32}")
    assert (zone["status"], zone["activated_on"]) == ("pending", None)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"name": "example.com"}, ["example.com"]),
        ({"name": "EXAMPLE.com"}, ["example.com"]),
        ({"name": "example.co"}, []),
        ({"name": "contains:.org"}, ["example.org"]),
        ({"name": "ends_with:com"}, ["example.com"]),
        ({"status": "pending"}, ["example.org"]),
        ({"status": "active", "name": "example.org"}, []),
        ({"status": "active", "name": "example.org", "match": "any"},
         ["example.com", "example.org"]),
        ({"account.id": "a" * 32}, ["example.com", "example.org"]),
        ({"account.id": "b" * 32}, []),
        ({"order": "status", "direction": "desc"}, ["example.org", "example.com"]),
    ],
)
def test_zone_filters(v4: V4, query: dict[str, str], names: list[str]) -> None:
    zones, info = v4.page("/zones", **query)
    assert [z["name"] for z in zones] == names
    assert info["total_count"] == len(names)


def test_unicode_zone_name_is_found_by_either_spelling(make_v4: Callable[..., V4]) -> None:
    seed = base_seed()
    seed["users"][0]["zones"].append({"name": "Bücher.example."})
    v4 = make_v4(seed)
    for name in ("bücher.example", "xn--bcher-kva.example"):
        zones, _ = v4.page("/zones", name=name)
        assert [z["name"] for z in zones] == ["xn--bcher-kva.example"]


def _many_zones(count: int) -> dict[str, Any]:
    zones = [{"name": f"zone{n:02d}.example"} for n in range(count)]
    return {"users": [{"email": EMAIL, "key": KEY, "zones": zones}]}


def test_zones_are_paged_with_total_pages(make_v4: Callable[..., V4]) -> None:
    v4 = make_v4(_many_zones(12))
    first, info = v4.page("/zones", per_page=5)
    assert info == {"page": 1, "per_page": 5, "count": 5, "total_count": 12, "total_pages": 3}
    assert [z["name"] for z in first] == [f"zone{n:02d}.example" for n in range(5)]
    last, info = v4.page("/zones", per_page=5, page=3)
    assert [z["name"] for z in last] == ["zone10.example", "zone11.example"]
    assert info["count"] == 2
    beyond, info = v4.page("/zones", per_page=5, page=4)
    assert (beyond, info["count"], info["total_pages"]) == ([], 0, 3)


def test_default_zone_page_is_20(make_v4: Callable[..., V4]) -> None:
    zones, info = make_v4(_many_zones(25)).page("/zones")
    assert (len(zones), info["per_page"], info["total_pages"]) == (20, 20, 2)


@pytest.mark.parametrize(
    "query",
    [{"per_page": "4"}, {"per_page": "51"}, {"page": "0"}, {"per_page": "many"},
     {"order": "id"}, {"direction": "up"}],
)
def test_bad_zone_paging_is_refused_with_1001(v4: V4, query: dict[str, str]) -> None:
    errors = v4.fail(400, "GET", "/zones", params=query, valid_request=False)
    assert codes(errors) == [1001]


@pytest.mark.parametrize("zone_id", ["e" * 32, UNKNOWN_ID, "not-an-id", "C" * 32])
def test_unreachable_zone_answers_7003_7000(v4: V4, zone_id: str) -> None:
    errors = v4.fail(400, "GET", f"/zones/{zone_id}")
    assert errors == [
        {"code": 7003, "message": f"Could not route to /zones/{zone_id}, perhaps your object "
                                  "identifier is invalid?"},
        {"code": 7000, "message": "No route for that URI"},
    ]


def test_users_only_see_zones_listed_under_them(v4: V4) -> None:
    other = v4.as_user(OTHER_EMAIL, OTHER_KEY)
    assert [z["name"] for z in other.ok("GET", "/zones")] == ["example.net"]
    assert codes(other.fail(400, "GET", f"/zones/{ZONE}")) == [7003, 7000]


def test_organisation_zone_is_reachable_under_its_own_account(
    make_v4: Callable[..., V4]
) -> None:
    seed = base_seed()
    seed["users"][0]["zones"].append(
        {"name": "corp.example", "id": "f" * 32, "account": {"id": "b" * 32, "name": "Corp"}}
    )
    v4 = make_v4(seed)
    zone = v4.ok("GET", f"/zones/{'f' * 32}")
    assert zone["account"] == {"id": "b" * 32, "name": "Corp"}
    zones, _ = v4.page("/zones", **{"account.id": "b" * 32})
    assert [z["name"] for z in zones] == ["corp.example"]


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_bulk_settings_are_past_end_of_life(v4: V4, method: str) -> None:
    body = {"items": [{"id": "ssl", "value": "full"}]} if method == "PATCH" else None
    errors = v4.fail(400, method, f"/zones/{ZONE}/settings", body, valid_request=False)
    assert codes(errors) == [1018]
    assert "end of life" in errors[0]["message"]
    assert v4.state.zones[ZONE].settings["ssl"] == "off"

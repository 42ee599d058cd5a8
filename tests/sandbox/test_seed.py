"""Seeds: the demo, reading and checking seed files, and what each seed field does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.sandbox import DEMO_EMAIL, DEMO_KEY, SeedError, create_sandbox_app, demo_seed, load_seed
from tests.sandbox.conftest import EMAIL, KEY, V4, FakeClock, base_seed


def test_demo_key_has_the_shape_of_a_global_api_key() -> None:
    assert re.fullmatch(r"[0-9a-f]{37}", DEMO_KEY)


def test_no_seed_means_the_demo(clock: FakeClock) -> None:
    v4 = V4(create_sandbox_app(clock=clock), clock, DEMO_EMAIL, DEMO_KEY)
    zones = v4.ok("GET", "/zones")
    assert [z["name"] for z in zones] == ["example.com", "example.org"]
    records = v4.ok("GET", f"/zones/{zones[0]['id']}/dns_records")
    assert [(r["type"], r["name"], r["content"], r["proxied"], r["ttl"], r.get("priority"))
            for r in records] == [
        ("A", "example.com", "192.0.2.10", True, 1, None),
        ("A", "www.example.com", "192.0.2.1", True, 1, None),
        ("AAAA", "www.example.com", "2001:db8::1", False, 1, None),
        ("CNAME", "blog.example.com", "www.example.com", False, 1, None),
        ("MX", "example.com", "mx1.example.net", False, 3600, 10),
        ("TXT", "example.com", "v=spf1 -all", False, 1, None),
    ]
    other = v4.ok("GET", f"/zones/{zones[1]['id']}/dns_records")
    assert [(r["type"], r["content"]) for r in other] == [("A", "192.0.2.20")]


def test_demo_ids_are_the_same_in_every_sandbox(clock: FakeClock) -> None:
    def ids() -> list[str]:
        state = create_sandbox_app(clock=clock).state.sandbox
        return [*state.zones, *(r for z in state.zones.values() for r in z.records)]

    first = ids()
    assert first == ids()
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in first)


def test_demo_seed_is_a_fresh_copy_each_time() -> None:
    seed = demo_seed()
    seed["users"].clear()
    assert demo_seed()["users"][0]["email"] == DEMO_EMAIL


def test_load_seed_reads_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(base_seed()))
    assert load_seed(path) == base_seed()
    assert load_seed(str(path)) == base_seed()


def test_load_seed_refuses_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read seed file"):
        load_seed(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"users": [')
    with pytest.raises(SeedError, match="is not JSON"):
        load_seed(broken)


def _user(**fields: Any) -> dict[str, Any]:
    return {"users": [{"email": EMAIL, "key": KEY, **fields}]}


def _zone(**fields: Any) -> dict[str, Any]:
    return _user(zones=[{"name": "example.com", **fields}])


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ([], "seed: must be an object"),
        ({}, "seed.users: is required"),
        ({"users": []}, "seed.users: needs at least one user"),
        ({"users": [], "extra": 1}, "seed.extra: unknown field"),
        ({"users": [{"key": KEY}]}, "users[0].email: is required"),
        ({"users": [{"email": "nobody", "key": KEY}]}, "users[0].email: must be an e-mail"),
        (_user(key="has space"), "users[0]: key and token must match"),
        (_user(token=5), "users[0].token: has the wrong type"),
        (_user(zonez=[]), "users[0].zonez: unknown field"),
        (_user(user_access_rules="no"), "users[0].user_access_rules: has the wrong type"),
        (_user(id="XYZ"), "users[0].id: must be 32 lowercase hex characters"),
        (_user(account={"id": "1" * 32, "name": 3}), "users[0].account.name: has the wrong"),
        (_user(zones=[{"id": "c" * 32}]), "users[0].zones[0].name: is required"),
        (_user(zones=[{"name": "localhost"}]), "users[0].zones[0].name: must be a domain"),
        (_user(zones=[{"name": "bad name.com"}]), "users[0].zones[0].name: must be a domain"),
        (_zone(status="gone"), "users[0].zones[0].status: must be one of"),
        (_zone(plan="gold"), "users[0].zones[0].plan: must be one of"),
        (_zone(paused=1), "users[0].zones[0].paused: has the wrong type"),
        (_zone(development_mode=True), "users[0].zones[0].development_mode: has the wrong type"),
        (_zone(name_servers=[1]), "users[0].zones[0].name_servers: must be a list of host"),
        (_zone(settings={"ssl": "maybe"}),
         "users[0].zones[0].settings.ssl: Invalid value for zone setting ssl"),
        (_zone(settings={"minify": "on"}),
         "users[0].zones[0].settings.minify: Unrecognized zone setting name"),
        (_zone(records=[{"type": "A", "name": "www.example.com", "content": "192.0.2.1",
                         "ttl": 10}]),
         "users[0].zones[0].records[0]: Invalid TTL"),
        (_zone(records=["A www"]), "users[0].zones[0].records[0]: must be an object"),
        (_zone(records=[{"type": "TXT", "name": "example.com", "content": "a", "id": "1" * 32},
                        {"type": "TXT", "name": "example.com", "content": "b", "id": "1" * 32}]),
         "users[0].zones[0].records[1].id: id 1111"),
        (_zone(id="c" * 32, records=[{"type": "TXT", "name": "example.com", "content": "a",
                                      "id": "c" * 32}]),
         "users[0].zones[0].records[0].id: id cccc"),
        (_user(access_rules=[{"mode": "block", "configuration": {"target": "ip",
                                                                 "value": "1.2.3"}}]),
         "users[0].access_rules[0]: firewallaccessrules.api.validation_error"),
        ({**_user(), "rate_limit": {"calls": 0, "seconds": 10}},
         "rate_limit: calls and seconds must be positive"),
        ({**_user(), "rate_limit": {"calls": 5}}, "rate_limit.seconds: is required"),
        ({"users": [{"email": EMAIL, "key": KEY}, {"email": EMAIL.upper(), "key": "k"}]},
         "users[1].email: must be an e-mail address not used by another user"),
        ({"users": [{"email": EMAIL, "key": KEY, "token": "t"},
                    {"email": "b@example.com", "key": "k", "token": "t"}]},
         "users[1].token: already used by another user"),
    ],
)
def test_bad_seeds_name_the_field_at_fault(tmp_path: Path, seed: Any, message: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with pytest.raises(SeedError, match=re.escape(message)):
        load_seed(path)
    with pytest.raises(ValueError, match=re.escape(message)):
        create_sandbox_app(seed)


def test_zone_fields_from_the_seed_show_in_the_zone_object(make_v4: Callable[..., V4]) -> None:
    v4 = make_v4(_zone(
        id="9" * 32, status="pending", paused=True, type="partial", plan="pro",
        name_servers=["kim.ns.cloudflare.com", "lee.ns.cloudflare.com"],
        original_name_servers=["ns1.registrar.example"], original_registrar="Registrar Inc",
        original_dnshost="Old DNS", development_mode=600,
    ))
    zone = v4.ok("GET", f"/zones/{'9' * 32}")
    assert {k: zone[k] for k in ("status", "paused", "type", "name_servers",
                                 "original_name_servers", "original_registrar",
                                 "original_dnshost", "development_mode", "activated_on")} == {
        "status": "pending", "paused": True, "type": "partial",
        "name_servers": ["kim.ns.cloudflare.com", "lee.ns.cloudflare.com"],
        "original_name_servers": ["ns1.registrar.example"],
        "original_registrar": "Registrar Inc", "original_dnshost": "Old DNS",
        "development_mode": 600, "activated_on": None,
    }
    assert (zone["plan"]["legacy_id"], zone["plan"]["name"]) == ("pro", "Pro Website")
    dev = v4.ok("GET", f"/zones/{'9' * 32}/settings/development_mode")
    assert (dev["value"], dev["time_remaining"]) == ("on", 600)


def test_seeded_rules_are_listed(make_v4: Callable[..., V4]) -> None:
    block = {"mode": "block", "configuration": {"target": "ip", "value": "198.51.100.4"}}
    v4 = make_v4(_user(access_rules=[block],
                       account={"id": "a" * 32, "name": "Ops", "access_rules": [block]}))
    user_rules = v4.ok("GET", "/user/firewall/access_rules/rules")
    account_rules = v4.ok("GET", f"/accounts/{'a' * 32}/firewall/access_rules/rules")
    assert [(r["mode"], r["scope"]["type"]) for r in user_rules + account_rules] == [
        ("block", "user"), ("block", "account")]


def test_zones_naming_one_account_share_it(make_v4: Callable[..., V4]) -> None:
    v4 = make_v4(_user(zones=[{"name": "a.example", "account": {"name": "Corp"}},
                              {"name": "b.example", "account": {"name": "Corp"}}]))
    accounts = {z["account"]["id"] for z in v4.ok("GET", "/zones")}
    assert len(accounts) == 1 and accounts != {v4.state.users[0].account.id}

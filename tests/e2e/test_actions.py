"""Each mapped action against its contract: the v1 answer and what lands in the sandbox.

Sections: zone_settings (v1-api.md §5, v4-api.md §14.7), wl/ban/nul (§3.9, §14.10), record
objects and writes per type (§3.10-3.11, §4.2, §14.5), rec_load_all paging (§6), parameter
validation (§3.5-3.7, §14.5-14.6), JSONP (§1.5) and v1 id forms (§4.1-4.2, §14.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import RunningProxy, base_seed
from tests.e2e.test_golden import NOW, frozen_proxy  # noqa: F401  (a fixture)

HEX32 = re.compile(r"[0-9a-f]{32}")
INPUT = "E_INVLDINPUT"


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["result"] == "success", body
    return body


def refused(response: Any, action: str, msg: str | None = None) -> dict[str, Any]:
    """An E_INVLDINPUT answer in v1 form; `msg` exact when given."""
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert list(body) == ["request", "result", "msg", "err_code"], body
    assert (body["request"], body["result"], body["err_code"]) == ({"act": action}, "error",
                                                                    INPUT)
    if msg is not None:
        assert body["msg"] == msg
    return body


def writes(proxy: RunningProxy) -> list[tuple[str, str]]:
    return [(x.method, x.path) for x in proxy.recorder.exchanges if x.method != "GET"]


def setting(proxy: RunningProxy, name: str, zone_id: str | None = None) -> Any:
    zone_id = zone_id or proxy.zone_id()
    return proxy.v4("GET", f"/zones/{zone_id}/settings/{name}")["result"]["value"]


def patch_setting(proxy: RunningProxy, name: str, value: Any, zone_id: str) -> None:
    answer = proxy.v4("PATCH", f"/zones/{zone_id}/settings/{name}", json={"value": value})
    assert answer["success"], answer


def settings_obj(proxy: RunningProxy) -> dict[str, Any]:
    objs = ok(proxy.v1(a="zone_settings", z="example.com"))["response"]["result"]["objs"]
    assert len(objs) == 1
    obj: dict[str, Any] = objs[0]
    return obj


# --- zone_settings ------------------------------------------------------------------------

# v1-api.md §5: the first six keys in this order, then the rest alphabetically.
SETTINGS_KEYS = [
    "userSecuritySetting", "dev_mode", "ipv46", "ob", "cache_lvl", "outboundLinks",
    "async", "bic", "cache_ttl", "chl_ttl", "comodo_vc", "ddos", "dnssec", "email_filter",
    "exp_ttl", "fpurge_ts", "geoloc", "host_spf", "hotlink", "img", "lazy", "minify", "outlink",
    "preload", "s404", "sec_lvl", "secureheader_settings", "spdy", "sse", "ssl", "waf_profile",
]
INT_SETTINGS = {"dev_mode", "ipv46", "ob"}
HSTS_V1 = ('{"*":{"strict_transport_security":{"enable":1,"max_age":2592000},'
           '"content_type_options":"nosniff"}}')


def test_zone_settings_has_every_key_with_its_json_type(proxy: RunningProxy) -> None:
    assert SETTINGS_KEYS[6:] == sorted(SETTINGS_KEYS[6:]) and len(SETTINGS_KEYS) == 31
    obj = settings_obj(proxy)
    assert list(obj) == SETTINGS_KEYS
    for key, value in obj.items():
        wanted = int if key in INT_SETTINGS else str
        assert type(value) is wanted, (key, value)


def test_zone_settings_follow_the_v4_settings(proxy: RunningProxy) -> None:
    zone_id = proxy.zone_id()
    for name, value in [
        ("security_level", "under_attack"), ("ipv6", "on"), ("always_online", "off"),
        ("cache_level", "simplified"), ("rocket_loader", "on"), ("browser_check", "off"),
        ("browser_cache_ttl", 7200), ("challenge_ttl", 3600), ("email_obfuscation", "off"),
        ("edge_cache_ttl", 86400), ("ip_geolocation", "off"), ("hotlink_protection", "on"),
        ("polish", "lossy"), ("prefetch_preload", "on"), ("http2", "off"), ("ssl", "strict"),
        ("security_header", {"strict_transport_security": {
            "enabled": True, "max_age": 2592000, "nosniff": True}}),
    ]:
        patch_setting(proxy, name, value, zone_id)

    response = proxy.v1(a="zone_settings", z="example.com")
    obj = ok(response)["response"]["result"]["objs"][0]
    assert obj == {
        "userSecuritySetting": "I'm Under Attack!", "dev_mode": 0, "ipv46": 3, "ob": 0,
        "cache_lvl": "iqs", "outboundLinks": "disabled", "async": "a", "bic": "0",
        "cache_ttl": "7200", "chl_ttl": "3600", "comodo_vc": "", "ddos": "Off", "dnssec": "",
        "email_filter": "0", "exp_ttl": "86400", "fpurge_ts": "0", "geoloc": "0",
        "host_spf": "0", "hotlink": "1", "img": "170", "lazy": "0", "minify": "0",
        "outlink": "0", "preload": "1", "s404": "0", "sec_lvl": "help",
        "secureheader_settings": HSTS_V1, "spdy": "0", "sse": "0", "ssl": "3",
        "waf_profile": "off",
    }
    assert list(obj) == SETTINGS_KEYS
    # The JSON document travels inside a string, escaped as the 2015 captures show it.
    assert (b'"secureheader_settings":"{\\"*\\":{\\"strict_transport_security\\":{\\"enable'
            b'\\":1,\\"max_age\\":2592000},\\"content_type_options\\":\\"nosniff\\"}}"'
            ) in response.content


def test_zone_settings_value_maps(proxy: RunningProxy) -> None:
    rounds = [
        # (ssl, polish, security_level) -> (ssl, img, sec_lvl, userSecuritySetting)
        (("off", "off", "off"), ("0", "0", "eoff", "Essentially Off")),
        (("flexible", "lossless", "essentially_off"), ("1", "200", "eoff", "Essentially Off")),
        (("full", "lossy", "low"), ("2", "170", "low", "Low")),
        (("strict", "off", "medium"), ("3", "0", "med", "Medium")),
        (("off", "off", "high"), ("0", "0", "high", "High")),
    ]
    zone_id = proxy.zone_id()
    for (ssl, polish, level), expected in rounds:
        patch_setting(proxy, "ssl", ssl, zone_id)
        patch_setting(proxy, "polish", polish, zone_id)
        patch_setting(proxy, "security_level", level, zone_id)
        obj = settings_obj(proxy)
        assert (obj["ssl"], obj["img"], obj["sec_lvl"], obj["userSecuritySetting"]) == expected


def test_zone_settings_show_the_last_purge_and_dev_mode(
    frozen_proxy: Callable[..., RunningProxy],  # noqa: F811
) -> None:
    proxy = frozen_proxy()
    before = settings_obj(proxy)
    assert (before["fpurge_ts"], before["dev_mode"]) == ("0", 0)

    purged = ok(proxy.v1(a="fpurge_ts", z="example.com", v="1"))["response"]["fpurge_ts"]
    expires = ok(proxy.v1(a="devmode", z="example.com", v="1"))["response"]["expires_on"]
    assert (purged, expires) == (NOW, NOW + 10800)
    after = settings_obj(proxy)
    assert (after["fpurge_ts"], after["dev_mode"]) == (str(NOW), NOW + 10800)
    # A purge of another zone is that zone's alone.
    ok(proxy.v1(a="fpurge_ts", z="example.org"))
    ok(proxy.v1(a="devmode", z="example.com", v="0"))
    last = settings_obj(proxy)
    assert (last["fpurge_ts"], last["dev_mode"]) == (str(NOW), 0)


# --- wl / ban / nul --------------------------------------------------------------------------

USER_RULES = "/user/firewall/access_rules/rules"


def rules_at(proxy: RunningProxy, path: str = USER_RULES) -> list[dict[str, Any]]:
    answer = proxy.v4("GET", path, params={"per_page": 100})
    assert answer["success"], answer
    return list(answer["result"])


def brief(rules: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((r["mode"], r["configuration"]["target"], r["configuration"]["value"])
                  for r in rules)


def ip_answer(value: str, action: str) -> dict[str, Any]:
    return {"response": {"result": {"ip": value, "action": action}}, "result": "success",
            "msg": None}


ADDRESS_FORMS = [  # (key as sent, v4 target, v4 value)
    ("198.51.100.7", "ip", "198.51.100.7"),
    ("2001:DB8::7", "ip6", "2001:db8::7"),
    ("198.51.100.0/24", "ip_range", "198.51.100.0/24"),
    ("2001:db8:1::/64", "ip_range", "2001:db8:1::/64"),
]


def test_wl_ban_nul_keep_one_rule_per_address(proxy: RunningProxy) -> None:
    for key, target, value in ADDRESS_FORMS:
        def rules(value: str = value) -> list[dict[str, Any]]:
            return [r for r in rules_at(proxy) if r["configuration"]["value"] == value]

        assert proxy.v1(a="wl", key=key, z="example.com").json() == ip_answer(value, "WL")
        [rule] = rules()
        assert brief([rule]) == [("whitelist", target, value)]
        assert rule["notes"] == "cf-v1-proxy"

        assert proxy.v1(a="ban", key=key).json() == ip_answer(value, "BAN")
        [banned] = rules()
        assert (banned["id"], banned["mode"]) == (rule["id"], "block")

        assert proxy.v1(a="nul", key=key).json() == ip_answer(value, "NUL")
        assert rules() == []
        ok(proxy.v1(a="wl", key=key))
        ok(proxy.v1(a="nul", key=key))
        assert rules() == []
    # Default scope with user-level rules available: nothing went to account level.
    assert all(path.startswith(USER_RULES) for _, path in proxy.v4_calls)


def test_wl_refuses_other_ranges_and_non_addresses(proxy: RunningProxy) -> None:
    for key in ("198.51.100.0/20", "2001:db8::/56", "198.51.100.300", "example.com",
                "10.0.0.0/8"):
        for action in ("wl", "ban", "nul"):
            refused(proxy.v1(a=action, key=key), action,
                    "Invalid value for key: use an IPv4 or IPv6 address, or a range of /16 or "
                    "/24 (IPv4) or /32, /48 or /64 (IPv6).")
    refused(proxy.v1(a="ban"), "ban", "Missing parameter key.")
    assert proxy.v4_calls == []


def test_nul_leaves_challenge_rules_alone(proxy: RunningProxy) -> None:
    made = proxy.v4("POST", USER_RULES, json={
        "mode": "challenge", "configuration": {"target": "ip", "value": "203.0.113.5"},
        "notes": "added in the dashboard"})
    assert made["success"], made
    ok(proxy.v1(a="ban", key="203.0.113.6"))
    ok(proxy.v1(a="wl", key="203.0.113.7"))
    proxy.forget_calls()

    assert proxy.v1(a="nul", key="203.0.113.5").json() == ip_answer("203.0.113.5", "NUL")
    assert writes(proxy) == []
    ok(proxy.v1(a="nul", key="203.0.113.6"))
    ok(proxy.v1(a="nul", key="203.0.113.7"))
    assert brief(rules_at(proxy)) == [("challenge", "ip", "203.0.113.5")]


def scoped_seed() -> dict[str, Any]:
    """A user whose user-level rules are gone, with example.org in an organisation account."""
    seed = base_seed()
    user = seed["users"][0]
    user["user_access_rules"] = False
    user["zones"][1]["account"] = {"name": "Org"}
    return seed


def account_rule_paths(proxy: RunningProxy) -> list[str]:
    zones = proxy.v4("GET", "/zones")["result"]
    accounts = sorted({zone["account"]["id"] for zone in zones})
    assert len(accounts) == 2
    return [f"/accounts/{account}/firewall/access_rules/rules" for account in accounts]


def test_access_rules_auto_falls_back_to_the_accounts_of_the_zones(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy(scoped_seed())  # access_rules_scope="auto" is the default
    assert proxy.v1(a="ban", key="198.51.100.9").json() == ip_answer("198.51.100.9", "BAN")
    paths = account_rule_paths(proxy)
    for path in paths:
        assert brief(rules_at(proxy, path)) == [("block", "ip", "198.51.100.9")]
    assert not proxy.v4("GET", USER_RULES)["success"]

    ok(proxy.v1(a="wl", key="198.51.100.9"))
    for path in paths:
        assert brief(rules_at(proxy, path)) == [("whitelist", "ip", "198.51.100.9")]
    ok(proxy.v1(a="nul", key="198.51.100.9"))
    for path in paths:
        assert rules_at(proxy, path) == []


def test_access_rules_scope_user_answers_an_error(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy(scoped_seed(), access_rules_scope="user")
    body = proxy.v1(a="ban", key="198.51.100.9").json()
    assert (body["result"], body["err_code"], body["request"]) == ("error", INPUT,
                                                                   {"act": "ban"})
    assert writes(proxy) == []
    assert all(path == USER_RULES for _, path in proxy.v4_calls)
    for path in account_rule_paths(proxy):
        assert rules_at(proxy, path) == []


def test_access_rules_scope_account_goes_straight_to_account_level(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy(scoped_seed(), access_rules_scope="account")
    ok(proxy.v1(a="wl", key="2001:db8::9"))
    assert not any(path.startswith("/user/") for _, path in proxy.v4_calls)
    for path in account_rule_paths(proxy):
        assert brief(rules_at(proxy, path)) == [("whitelist", "ip6", "2001:db8::9")]


# --- DNS record objects and writes ----------------------------------------------------------

RECORD_KEYS = [
    "rec_id", "rec_tag", "rec_hash", "zone_name", "name", "display_name", "type", "prio",
    "content", "display_content", "ttl", "ttl_ceil", "ssl_id", "ssl_status", "ssl_expires_on",
    "auto_ttl", "service_mode", "props",
]
PROPS_KEYS = ["proxiable", "cloud_on", "cf_open", "vanity_lock", "ssl", "expired_ssl",
              "expiring_ssl", "pending_ssl"]
SPF_MSG = "Record type SPF does not exist in Cloudflare API v4: publish SPF as a TXT record."
LOC_MSG = "Record type LOC cannot be written through API v1, which never defined its fields."


def check_record_obj(obj: dict[str, Any], zone_name: str = "example.com") -> None:
    """Every key of v1-api.md §4.2, in order, with v1's JSON types."""
    assert list(obj) == RECORD_KEYS + (["mx"] if obj["type"] == "MX" else [])
    assert obj["rec_id"].isdigit() and 0 < int(obj["rec_id"]) < 2**53
    assert HEX32.fullmatch(obj["rec_tag"]) and obj["rec_hash"] == obj["rec_tag"]
    assert obj["zone_name"] == zone_name
    for key in ("name", "display_name", "type", "content", "display_content", "ttl",
                "service_mode"):
        assert type(obj[key]) is str, key
    assert obj["display_content"] == obj["content"]
    if obj["type"] in ("MX", "SRV"):
        assert type(obj["prio"]) is str and obj["prio"].isdigit()
    else:
        assert obj["prio"] is None
    assert obj["ttl"].isdigit() and obj["ttl_ceil"] == 86400
    assert (obj["ssl_id"], obj["ssl_status"], obj["ssl_expires_on"]) == (None, None, None)
    assert obj["auto_ttl"] == (1 if obj["ttl"] == "1" else 0)
    assert obj["service_mode"] in ("0", "1")
    props = obj["props"]
    assert list(props) == PROPS_KEYS and all(type(v) is int for v in props.values())
    assert props["cloud_on"] == int(obj["service_mode"]) == 1 - props["cf_open"]
    if obj["type"] == "MX":
        assert obj["mx"] == {"auto": False}


def rich_seed() -> dict[str, Any]:
    seed = base_seed()
    seed["users"][0]["zones"][0]["records"] += [
        {"type": "NS", "name": "sub.example.com", "content": "ns1.example.net", "ttl": 86400},
        {"type": "SRV", "name": "_sip._tcp.example.com", "ttl": 1,
         "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}},
        {"type": "CAA", "name": "example.com", "ttl": 1,
         "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}},
    ]
    return seed


def test_listing_shows_every_type_with_v4_content(start_proxy: Callable[..., RunningProxy]
                                                  ) -> None:
    proxy = start_proxy(rich_seed())
    objs = ok(proxy.v1(a="rec_load_all", z="example.com"))["response"]["recs"]["objs"]
    for obj in objs:
        check_record_obj(obj)
    assert [o["type"] for o in objs] == ["A", "A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV",
                                         "TXT"]
    v4 = {r["id"]: r for r in proxy.records()}
    for obj in objs:
        assert obj["content"] == v4[obj["rec_tag"]]["content"]
        assert obj["ttl"] == str(v4[obj["rec_tag"]]["ttl"])
    by_type = {o["type"]: o for o in objs}
    assert (by_type["CAA"]["content"], by_type["CAA"]["prio"]) == ('0 issue "letsencrypt.org"',
                                                                   None)
    srv = by_type["SRV"]
    assert (srv["name"], srv["display_name"], srv["prio"], srv["content"]) == (
        "_sip._tcp.example.com", "_sip._tcp", "10", "5 5060 sip.example.com")
    assert (by_type["NS"]["display_name"], by_type["NS"]["ttl"]) == ("sub", "86400")
    assert by_type["CNAME"]["props"]["proxiable"] == 1 and by_type["TXT"]["props"][
        "proxiable"] == 0


# (type, create params, v4 fields after create, edit params, v4 fields after edit)
WRITES: list[tuple[str, dict[str, str], dict[str, Any], dict[str, str], dict[str, Any]]] = [
    ("A", {"name": "rt", "content": "192.0.2.60", "ttl": "120"},
     {"name": "rt.example.com", "content": "192.0.2.60", "ttl": 120, "proxied": False},
     {"name": "rt", "content": "192.0.2.61", "ttl": "1"},
     {"name": "rt.example.com", "content": "192.0.2.61", "ttl": 1, "proxied": False}),
    ("AAAA", {"name": "rt6", "content": "2001:db8::60", "ttl": "1"},
     {"name": "rt6.example.com", "content": "2001:db8::60", "ttl": 1},
     {"content": "2001:DB8::61"},
     {"name": "rt6.example.com", "content": "2001:db8::61", "ttl": 1}),
    ("CNAME", {"name": "alias", "content": "target.example.net", "ttl": "300"},
     {"name": "alias.example.com", "content": "target.example.net", "ttl": 300},
     {"name": "alias", "content": "other.example.net"},
     {"name": "alias.example.com", "content": "other.example.net", "ttl": 300}),
    ("MX", {"name": "mail", "content": "mx.example.net", "ttl": "3600", "prio": "5"},
     {"name": "mail.example.com", "content": "mx.example.net", "priority": 5, "ttl": 3600},
     {"prio": "15"},
     {"name": "mail.example.com", "content": "mx.example.net", "priority": 15, "ttl": 3600}),
    ("TXT", {"name": "note", "content": 'héllo "world"', "ttl": "1"},
     {"name": "note.example.com", "content": 'héllo "world"'},
     {"content": '  "quoted"  ünïcode \\ back\\slash  '},
     {"name": "note.example.com", "content": '  "quoted"  ünïcode \\ back\\slash  '}),
    ("NS", {"name": "delegated", "content": "ns1.example.net", "ttl": "86400"},
     {"name": "delegated.example.com", "content": "ns1.example.net", "ttl": 86400},
     {"content": "ns2.example.net", "ttl": "3600"},
     {"name": "delegated.example.com", "content": "ns2.example.net", "ttl": 3600}),
    ("SRV", {"service": "_sip", "protocol": "_tcp", "srvname": "voip", "name": "voip",
             "prio": "10", "weight": "5", "port": "5060", "target": "sip.example.com",
             "ttl": "1"},
     {"name": "_sip._tcp.voip.example.com", "content": "5 5060 sip.example.com",
      "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}},
     {"weight": "6", "port": "5061"},
     {"name": "_sip._tcp.voip.example.com", "content": "6 5061 sip.example.com",
      "data": {"priority": 10, "weight": 6, "port": 5061, "target": "sip.example.com"}}),
]


@pytest.mark.parametrize(("rtype", "create", "created", "edit", "edited"), WRITES,
                         ids=[w[0] for w in WRITES])
def test_create_and_edit_each_record_type(
    proxy: RunningProxy, rtype: str, create: dict[str, str], created: dict[str, Any],
    edit: dict[str, str], edited: dict[str, Any],
) -> None:
    body = ok(proxy.v1("POST", a="rec_new", z="example.com", type=rtype, **create))
    obj = body["response"]["rec"]["obj"]
    check_record_obj(obj)
    [record] = [r for r in proxy.records() if r["id"] == obj["rec_tag"]]
    assert {k: record[k] for k in created} == created
    assert (obj["type"], obj["name"], obj["content"], obj["ttl"]) == (
        rtype, record["name"], record["content"], str(record["ttl"]))
    assert obj["display_name"] == record["name"].removesuffix(".example.com")
    assert obj["prio"] == (str(created.get("priority", created.get("data", {}).get(
        "priority"))) if rtype in ("MX", "SRV") else None)
    if rtype == "TXT":
        assert obj["content"] == create["content"]  # verbatim, quotes and non-ASCII kept
        assert b'"content":"h\\u00e9llo \\"world\\""' in proxy.v1(
            a="rec_load_all", z="example.com", id=obj["rec_id"]).content

    proxy.forget_calls()
    body = ok(proxy.v1("POST", a="rec_edit", z="example.com", id=obj["rec_id"], type=rtype,
                       **edit))
    new = body["response"]["rec"]["obj"]
    check_record_obj(new)
    assert new["rec_id"] == obj["rec_id"]
    [record] = [r for r in proxy.records() if r["id"] == obj["rec_tag"]]
    assert {k: record[k] for k in edited} == edited
    assert (new["content"], new["ttl"]) == (record["content"], str(record["ttl"]))
    if rtype == "TXT":
        assert new["content"] == edit["content"]
    [patch] = [x for x in proxy.recorder.exchanges if x.method == "PATCH"]
    assert "proxied" not in patch.body


def test_srv_goes_to_v4_as_name_and_data_only(proxy: RunningProxy) -> None:
    ok(proxy.v1(a="rec_new", z="example.com", type="SRV", service="xmpp", protocol="tcp",
                name="@", prio="20", weight="0", port="5222", target="chat.example.net.",
                ttl="1"))
    [post] = [x for x in proxy.recorder.exchanges if x.method == "POST"]
    assert post.body == {"type": "SRV", "name": "_xmpp._tcp.example.com", "ttl": 1,
                         "data": {"priority": 20, "weight": 0, "port": 5222,
                                  "target": "chat.example.net"}}
    obj = proxy.v1(a="rec_load_all", z="example.com").json()["response"]["recs"]["objs"]
    [srv] = [o for o in obj if o["type"] == "SRV"]
    proxy.forget_calls()
    ok(proxy.v1(a="rec_edit", z="example.com", id=srv["rec_id"], type="SRV", prio="30",
                target="chat2.example.net"))
    [patch] = [x for x in proxy.recorder.exchanges if x.method == "PATCH"]
    assert set(patch.body["data"]) == {"priority", "weight", "port", "target"}
    [record] = proxy.records(type="SRV")
    assert (record["name"], record["data"]) == ("_xmpp._tcp.example.com", {
        "priority": 30, "weight": 0, "port": 5222, "target": "chat2.example.net"})


def test_spf_and_loc_are_refused_without_a_write(proxy: RunningProxy) -> None:
    before = proxy.records()
    www = next(r for r in before if r["name"] == "www.example.com" and r["type"] == "A")
    for rtype, msg in (("SPF", SPF_MSG), ("LOC", LOC_MSG), ("spf", SPF_MSG)):
        refused(proxy.v1(a="rec_new", z="example.com", type=rtype, name="x",
                         content="v=spf1 -all", ttl="1"), "rec_new", msg)
        refused(proxy.v1(a="rec_edit", z="example.com", id=www["id"], type=rtype, name="www",
                         content="v=spf1 -all", ttl="1"), "rec_edit", msg)
    refused(proxy.v1(a="rec_new", z="example.com", type="PTR", name="x", content="h.example",
                     ttl="1"), "rec_new", "Invalid value for type.")
    assert writes(proxy) == []
    assert proxy.records() == before


def test_idn_names_go_to_v4_in_punycode_and_show_in_unicode(proxy: RunningProxy) -> None:
    response = proxy.v1("POST", a="rec_new", z="example.com", type="A", name="bücher",
                        content="192.0.2.80", ttl="1")
    obj = ok(response)["response"]["rec"]["obj"]
    assert (obj["name"], obj["display_name"]) == ("xn--bcher-kva.example.com", "bücher")
    assert b'"display_name":"b\\u00fccher"' in response.content
    [record] = proxy.records(name="xn--bcher-kva.example.com")
    assert (record["type"], record["content"]) == ("A", "192.0.2.80")
    # The FQDN form, sent as GET, finds the same name.
    ok(proxy.v1(a="rec_new", z="example.com", type="AAAA", name="bücher.example.com.",
                content="2001:db8::80", ttl="1"))
    assert sorted(r["type"] for r in proxy.records(name="xn--bcher-kva.example.com")) == [
        "A", "AAAA"]


# --- rec_load_all paging ---------------------------------------------------------------------


def zone_of_400() -> dict[str, Any]:
    seed = base_seed()
    seed["users"][0]["zones"][0]["records"] = [
        {"type": "A", "name": f"h{i:03d}.example.com", "content": f"198.51.100.{i % 200 + 1}",
         "ttl": 1} for i in range(400)]
    return seed


def page(proxy: RunningProxy, o: str | None) -> dict[str, Any]:
    recs: dict[str, Any] = ok(proxy.v1(a="rec_load_all", z="example.com", o=o))["response"][
        "recs"]
    return recs


def test_rec_load_all_pages_of_180(start_proxy: Callable[..., RunningProxy]) -> None:
    proxy = start_proxy(zone_of_400(), rec_page_size=180)
    names: list[str] = []
    for o, count, more in (("0", 180, True), ("180", 180, True), ("360", 40, False)):
        recs = page(proxy, o)
        assert (recs["count"], recs["has_more"], len(recs["objs"])) == (count, more, count)
        names += [obj["name"] for obj in recs["objs"]]
    assert names == [f"h{i:03d}.example.com" for i in range(400)]
    assert page(proxy, None)["objs"][0]["name"] == "h000.example.com"
    assert page(proxy, "")["count"] == 180
    assert page(proxy, "399")["count"] == 1

    for past in ("400", "401", "100000"):
        response = proxy.v1(a="rec_load_all", z="example.com", o=past)
        assert response.content.endswith(
            b'"response":{"recs":{"has_more":false,"count":0,"objs":[]}},"result":"success",'
            b'"msg":null}')
    for bad in ("-1", "abc", "1.5", "0x10", "١"):
        refused(proxy.v1(a="rec_load_all", z="example.com", o=bad), "rec_load_all",
                "Invalid value for o: give a non-negative integer.")


def test_paging_loop_sees_each_record_once_while_the_zone_changes(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy(zone_of_400(), rec_page_size=180)
    zone_id = proxy.zone_id()
    seen: list[str] = []
    o, rounds = 0, 0
    while True:
        recs = page(proxy, str(o))
        seen += [obj["rec_id"] for obj in recs["objs"]]
        if rounds == 0:
            # Another client adds a record that sorts first, through the proxy ...
            ok(proxy.v1(a="rec_new", z="example.com", type="A", name="a000",
                        content="192.0.2.1", ttl="1"))
        if rounds == 1:
            # ... and one directly in v4.
            answer = proxy.v4("POST", f"/zones/{zone_id}/dns_records", json={
                "type": "A", "name": "a001.example.com", "content": "192.0.2.2", "ttl": 1})
            assert answer["success"], answer
        o += recs["count"]
        rounds += 1
        if not recs["has_more"]:
            break
    assert rounds == 3
    assert len(seen) == len(set(seen)) == 400

    # A new loop starts from a fresh listing and sees both new records.
    first = page(proxy, "0")
    assert [obj["name"] for obj in first["objs"][:2]] == ["a000.example.com", "a001.example.com"]


# --- validation ------------------------------------------------------------------------------


def test_setter_values_reach_v4(proxy: RunningProxy) -> None:
    zone_id = proxy.zone_id()
    for action, v, name, value in [
        ("sec_lvl", "help", "security_level", "under_attack"),
        ("sec_lvl", "high", "security_level", "high"),
        ("sec_lvl", "med", "security_level", "medium"),
        ("sec_lvl", "low", "security_level", "low"),
        ("sec_lvl", "eoff", "security_level", "essentially_off"),
        ("cache_lvl", "basic", "cache_level", "basic"),
        ("cache_lvl", "agg", "cache_level", "aggressive"),
        ("devmode", "1", "development_mode", "on"),
        ("devmode", "0", "development_mode", "off"),
        ("ipv46", "3", "ipv6", "on"),
        ("ipv46", "0", "ipv6", "off"),
        ("ipv46", "1", "ipv6", "on"),
        ("ipv46", "0", "ipv6", "off"),
        ("ipv46", "7", "ipv6", "on"),
        ("async", "a", "rocket_loader", "on"),
        ("async", "0", "rocket_loader", "off"),
    ]:
        ok(proxy.v1(a=action, z="example.com", v=v))
        assert setting(proxy, name, zone_id) == value, (action, v)


def test_bad_setter_values_are_refused_without_a_write(proxy: RunningProxy) -> None:
    for action, values in [
        ("sec_lvl", ["medium", "under_attack", "HIGH", "x"]),
        ("cache_lvl", ["aggressive", "iqs", "simplified", "2"]),
        ("devmode", ["2", "on", "true1", "-"]),
        ("ipv46", ["on", "x", "1.5", "3a"]),
        ("async", ["x", "1", "on"]),
        ("fpurge_ts", ["2", "0", "yes"]),
    ]:
        for v in values:
            refused(proxy.v1(a=action, z="example.com", v=v), action, "Invalid value for v.")
        if action != "fpurge_ts":
            refused(proxy.v1(a=action, z="example.com"), action, "Missing parameter v.")
    refused(proxy.v1(a="async", z="example.com", v="m"), "async",
            "Invalid value for v: Rocket Loader in Cloudflare API v4 has only on (a) and off "
            "(0); manual mode (m) no longer exists.")
    assert writes(proxy) == []


def test_fpurge_ts_takes_v_1_or_nothing(proxy: RunningProxy) -> None:
    ok(proxy.v1(a="fpurge_ts", z="example.com", v="1"))
    ok(proxy.v1(a="fpurge_ts", z="example.com"))
    refused(proxy.v1(a="fpurge_ts", z="example.com", v="2"), "fpurge_ts", "Invalid value for v.")
    purges = [x.body for x in proxy.recorder.exchanges if x.path.endswith("/purge_cache")]
    assert purges == [{"purge_everything": True}] * 2


TTL_MSG = "Invalid value for ttl: use 1 (automatic) or 60 to 86400 seconds."


def test_ttl_rules(proxy: RunningProxy) -> None:
    for n, (given, stored) in enumerate([("1", 1), ("60", 60), ("120", 120), ("86400", 86400),
                                         ("90000", 86400), ("4294967295", 86400)]):
        obj = ok(proxy.v1(a="rec_new", z="example.com", type="A", name=f"t{n}",
                          content="192.0.2.90", ttl=given))["response"]["rec"]["obj"]
        assert obj["ttl"] == str(stored)
        assert proxy.records(name=f"t{n}.example.com")[0]["ttl"] == stored
    proxy.forget_calls()
    home = next(r for r in proxy.records() if r["name"] == "home.example.com")
    for bad in ("0", "2", "59", "abc", "-1", "1.5", "٦٠"):
        refused(proxy.v1(a="rec_new", z="example.com", type="A", name="bad",
                         content="192.0.2.91", ttl=bad), "rec_new", TTL_MSG)
        refused(proxy.v1(a="rec_edit", z="example.com", id=home["id"], type="A", ttl=bad),
                "rec_edit", TTL_MSG)
    assert writes(proxy) == []
    ok(proxy.v1(a="rec_edit", z="example.com", id=home["id"], type="A", ttl="90000"))
    assert proxy.records(name="home.example.com")[0]["ttl"] == 86400
    # A missing ttl: 1 on create, unchanged on edit.
    ok(proxy.v1(a="rec_new", z="example.com", type="A", name="nottl", content="192.0.2.92"))
    assert proxy.records(name="nottl.example.com")[0]["ttl"] == 1
    ok(proxy.v1(a="rec_edit", z="example.com", id=home["id"], type="A", content="192.0.2.93"))
    assert proxy.records(name="home.example.com")[0]["ttl"] == 86400


def v4_refusal(proxy: RunningProxy) -> str:
    """The message of the v4 write the sandbox refused, joined as the proxy joins them."""
    [answer] = [x.answer for x in proxy.recorder.exchanges
                if x.method != "GET" and x.status >= 400]
    return "; ".join(e["message"] for e in answer["errors"])


def test_v4_validation_errors_come_back_with_v4s_message(proxy: RunningProxy) -> None:
    before = proxy.records()
    for params, v4_message in [
        ({"type": "A", "name": "www", "content": "192.0.2.1"}, "Record already exists."),
        ({"type": "CNAME", "name": "home", "content": "elsewhere.example.net"},
         "An A, AAAA, or CNAME record with that host already exists."),
        ({"type": "TXT", "name": "long", "content": "x" * 2049},
         "Content for TXT record is too long (at most 2048 characters)."),
    ]:
        proxy.forget_calls()
        body = refused(proxy.v1("POST", a="rec_new", z="example.com", ttl="1", **params),
                       "rec_new")
        assert body["msg"] == v4_refusal(proxy) == v4_message
    assert proxy.records() == before


def test_v4_refusal_of_an_edit_comes_back_with_v4s_message(proxy: RunningProxy) -> None:
    before = proxy.records()
    home = next(r for r in before if r["name"] == "home.example.com")
    body = refused(proxy.v1(a="rec_edit", z="example.com", id=home["id"], type="A",
                            name="www", content="192.0.2.1"), "rec_edit")
    assert body["msg"] == v4_refusal(proxy) == "Record already exists."
    assert proxy.records() == before


# --- JSONP ---------------------------------------------------------------------------------


def test_jsonp_wraps_the_same_answer(proxy: RunningProxy) -> None:
    plain = proxy.v1(a="zone_check", zones="example.com,nope.test")
    for callback in ("cb", "jQuery1102_1432", "$", "a.b$c", "_x9"):
        wrapped = proxy.v1(a="zone_check", zones="example.com,nope.test", callback=callback)
        assert wrapped.status_code == 200
        assert wrapped.headers["content-type"] == "application/javascript"
        assert wrapped.content == callback.encode() + b"(" + plain.content + b")"
        assert wrapped.headers["content-length"] == str(len(wrapped.content))


def test_jsonp_wraps_error_bodies_too(proxy: RunningProxy) -> None:
    cases = [
        (proxy.v1(a="rec_load_all", z="example.com", tkn="0" * 37, callback="cb"), 200,
         b'cb({"result":"error","msg":"Unknown token or email","err_code":"E_UNAUTH"})'),
        (proxy.v1(a="sec_lvl", z="example.com", v="x", callback="cb"), 200,
         b'cb({"request":{"act":"sec_lvl"},"result":"error","msg":"Invalid value for v.",'
         b'"err_code":"E_INVLDINPUT"})'),
        (proxy.v1(a="rec_load_all", z="nope.example", callback="cb"), 200,
         b'cb({"request":{"act":"rec_load_all"},"result":"error","msg":"Invalid zone."})'),
        (proxy.v1(a="rec_delete", z="example.com", id="1", callback="cb"), 200,
         b'cb({"request":{"act":"rec_delete"},"result":"error","msg":"Invalid record id."})'),
    ]
    for response, status, content in cases:
        assert (response.status_code, response.content) == (status, content)
        assert response.headers["content-type"] == "application/javascript"
    gone = proxy.v1(a="stats", z="example.com", callback="cb")
    assert gone.status_code == 410
    assert gone.content.startswith(b'cb({"request":{"act":"stats"},"result":"error","msg":"')
    assert gone.content.endswith(b'"})')


def test_bad_callback_is_refused_in_plain_json_before_any_v4_call(proxy: RunningProxy) -> None:
    before = proxy.records()
    writes_ = [
        {"a": "rec_new", "z": "example.com", "type": "A", "name": "x", "content": "192.0.2.9",
         "ttl": "1"},
        {"a": "ban", "key": "198.51.100.7"},
        {"a": "devmode", "z": "example.com", "v": "1"},
        {"a": "rec_delete", "z": "example.com", "id": before[0]["id"]},
    ]
    for callback in ("alert(1)", "1abc", "a-b", "cb;x", "a b", "<b>", "é"):
        for params in writes_ if callback in ("alert(1)", "1abc") else writes_[:1]:
            response = proxy.v1("POST", callback=callback, **params)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.content == (
                b'{"request":{"act":"' + params["a"].encode() + b'"},"result":"error",'
                b'"msg":"Invalid value for callback.","err_code":"E_INVLDINPUT"}')
    assert proxy.v4_calls == []
    assert proxy.records() == before
    assert rules_at(proxy) == []
    assert setting(proxy, "development_mode") == "off"


# --- v1 id forms -----------------------------------------------------------------------------


def test_zone_ids_are_digit_strings_in_lists_and_ints_in_zone_check(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy()
    zones = ok(proxy.v1(a="zone_load_multi"))["response"]["zones"]["objs"]
    listed = {z["zone_name"]: z["zone_id"] for z in zones}
    assert sorted(listed) == ["example.com", "example.org"]
    for zone in zones:
        assert type(zone["zone_id"]) is str and zone["zone_id"].isdigit()
        assert type(zone["user_id"]) is str and zone["user_id"].isdigit()
        assert 0 < int(zone["zone_id"]) < 2**53
    assert len(set(listed.values())) == 2

    response = proxy.v1(a="zone_check", zs="example.com, EXAMPLE.org.,nope.test,")
    checked = ok(response)["response"]["zones"]
    assert checked == {"example.com": int(listed["example.com"]),
                       "EXAMPLE.org.": int(listed["example.org"]), "nope.test": 0}
    assert all(type(v) is int for v in checked.values())
    assert f'"example.com":{listed["example.com"]},'.encode() in response.content

    # The zone object of a setter carries the same id, and another proxy process agrees.
    obj = ok(proxy.v1(a="sec_lvl", z="example.com", v="low"))["response"]["zone"]["obj"]
    assert obj["zone_id"] == listed["example.com"]
    other = start_proxy(upstream=f"{proxy.url}/client/v4")
    again = ok(other.v1(a="zone_load_multi"))["response"]["zones"]["objs"]
    assert {z["zone_name"]: z["zone_id"] for z in again} == listed
    assert ok(other.v1(a="zone_check", zones="example.org"))["response"]["zones"] == {
        "example.org": int(listed["example.org"])}


def test_record_ids_are_digit_strings_that_find_the_record(proxy: RunningProxy) -> None:
    objs = ok(proxy.v1(a="rec_load_all", z="example.com"))["response"]["recs"]["objs"]
    ids = [o["rec_id"] for o in objs]
    assert all(type(i) is str and i.isdigit() and 0 < int(i) < 2**53 for i in ids)
    assert len(set(ids)) == len(ids)
    for obj in objs:
        [found] = ok(proxy.v1(a="rec_load_all", z="example.com", id=obj["rec_id"]))[
            "response"]["recs"]["objs"]
        assert found == obj
    assert json.loads(proxy.v1(a="rec_load_all", z="example.com").content) == json.loads(
        proxy.v1("POST", a="rec_load_all", z="example.com").content)

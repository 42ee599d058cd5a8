"""v1 record and zone objects: key order and JSON types (`v1-api.md` §4)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from proxy import envelope
from proxy.ids import v1_number
from proxy.v1objects import record_obj, zone_obj

ZONE_NAME = "example.com"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ACCOUNT_ID = "01a7362d577a6c3019a474fd6f485823"
RECORD_ID = "372e67954025e0ba6aaa6d586b9e0b59"
RECORD_NUMBER = "3989541272174986"  # v1_number(RECORD_ID), see test_ids.py

RECORD_PROPS = ["proxiable", "cloud_on", "cf_open", "vanity_lock", "ssl", "expired_ssl",
                "expiring_ssl", "pending_ssl"]


def fixture(name: str) -> dict[str, Any]:
    folder = resources.files("libcloud") / "test" / "dns" / "fixtures" / "cloudflare"
    data: dict[str, Any] = json.loads((folder / name).read_text(encoding="utf-8"))
    return data


def v4_record(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": RECORD_ID,
        "type": "A",
        "name": "home.example.com",
        "content": "192.0.2.55",
        "proxiable": True,
        "proxied": False,
        "ttl": 1,
    }
    record.update(fields)
    return record


def v4_zone(**fields: Any) -> dict[str, Any]:
    zone: dict[str, Any] = {
        "id": ZONE_ID,
        "name": ZONE_NAME,
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "account": {"id": ACCOUNT_ID, "name": "ops"},
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "legacy_id": "free"},
    }
    zone.update(fields)
    return zone


# --- record object --------------------------------------------------------------------------


def test_record_obj_exact_bytes_for_a_grey_a_record() -> None:
    assert envelope.encode(record_obj(v4_record(), ZONE_NAME)) == (
        b'{"rec_id":"3989541272174986","rec_tag":"372e67954025e0ba6aaa6d586b9e0b59",'
        b'"rec_hash":"372e67954025e0ba6aaa6d586b9e0b59","zone_name":"example.com",'
        b'"name":"home.example.com","display_name":"home","type":"A","prio":null,'
        b'"content":"192.0.2.55","display_content":"192.0.2.55","ttl":"1","ttl_ceil":86400,'
        b'"ssl_id":null,"ssl_status":null,"ssl_expires_on":null,"auto_ttl":1,'
        b'"service_mode":"0","props":{"proxiable":1,"cloud_on":0,"cf_open":1,"vanity_lock":0,'
        b'"ssl":1,"expired_ssl":0,"expiring_ssl":0,"pending_ssl":0}}'
    )


def test_record_obj_proxied_record() -> None:
    obj = record_obj(v4_record(proxied=True, ttl=120), ZONE_NAME)
    assert (obj["service_mode"], obj["ttl"], obj["auto_ttl"]) == ("1", "120", 0)
    assert obj["props"] == {"proxiable": 1, "cloud_on": 1, "cf_open": 0, "vanity_lock": 0,
                            "ssl": 1, "expired_ssl": 0, "expiring_ssl": 0, "pending_ssl": 0}


def test_record_obj_mx_has_string_prio_and_mx_last() -> None:
    record = v4_record(type="MX", name=ZONE_NAME, content="mx1.example.net", priority=10,
                       ttl=3600, proxiable=False)
    obj = record_obj(record, ZONE_NAME)
    assert list(obj)[-2:] == ["props", "mx"]
    assert obj["mx"] == {"auto": False}
    assert (obj["prio"], obj["ttl"], obj["auto_ttl"], obj["service_mode"]) == (
        "10", "3600", 0, "0"
    )
    assert obj["props"]["proxiable"] == 0


def test_record_obj_mx_priority_zero_is_a_string() -> None:
    record = v4_record(type="MX", content="mx.example.net", priority=0, proxiable=False)
    assert record_obj(record, ZONE_NAME)["prio"] == "0"


@pytest.mark.parametrize("rtype", ["A", "AAAA", "CNAME", "TXT", "NS", "SRV"])
def test_record_obj_mx_key_only_on_mx(rtype: str) -> None:
    assert "mx" not in record_obj(v4_record(type=rtype), ZONE_NAME)


def test_record_obj_srv_prio_from_data() -> None:
    record = v4_record(type="SRV", name="_sip._tcp.example.com", content="0 5060 sip.example.com",
                       priority=None, proxiable=False,
                       data={"priority": 20, "weight": 0, "port": 5060, "target": "sip"})
    obj = record_obj(record, ZONE_NAME)
    assert (obj["prio"], obj["display_name"]) == ("20", "_sip._tcp")


def test_record_obj_prio_is_null_for_types_without_priority() -> None:
    assert record_obj(v4_record(priority=10), ZONE_NAME)["prio"] is None


def test_record_obj_proxied_flag_ignored_for_unproxiable_types() -> None:
    obj = record_obj(v4_record(type="TXT", content="v=spf1 -all", proxied=True), ZONE_NAME)
    assert (obj["service_mode"], obj["props"]["cloud_on"], obj["props"]["cf_open"]) == ("0", 0, 1)


def test_record_obj_apex_display_name_is_zone_name() -> None:
    obj = record_obj(v4_record(name=ZONE_NAME), ZONE_NAME)
    assert (obj["name"], obj["display_name"]) == (ZONE_NAME, ZONE_NAME)


def test_record_obj_deep_label_display_name() -> None:
    assert record_obj(v4_record(name="a.b.example.com"), ZONE_NAME)["display_name"] == "a.b"


def test_record_obj_idn_label_displays_in_unicode() -> None:
    obj = record_obj(v4_record(name="xn--bcher-kva.example.com"), ZONE_NAME)
    assert (obj["name"], obj["display_name"]) == ("xn--bcher-kva.example.com", "bücher")


def test_record_obj_idn_apex_displays_zone_in_unicode() -> None:
    obj = record_obj(v4_record(name="xn--bcher-kva.de"), "xn--bcher-kva.de")
    assert (obj["zone_name"], obj["display_name"]) == ("xn--bcher-kva.de", "bücher.de")


def test_record_obj_types() -> None:
    obj = record_obj(v4_record(type="MX", priority=5, ttl=300), ZONE_NAME)
    strings = ["rec_id", "rec_tag", "rec_hash", "zone_name", "name", "display_name", "type",
               "prio", "content", "display_content", "ttl", "service_mode"]
    assert all(isinstance(obj[key], str) for key in strings)
    assert obj["rec_id"] == RECORD_NUMBER == str(v1_number(RECORD_ID))
    assert obj["rec_id"].isdigit()
    assert type(obj["ttl_ceil"]) is int and type(obj["auto_ttl"]) is int
    assert all(type(value) is int for value in obj["props"].values())


def test_record_obj_key_order_matches_libcloud_fixture() -> None:
    objs = fixture("rec_load_all.json")["response"]["recs"]["objs"]
    plain = next(o for o in objs if o["type"] == "A")
    mx = next(o for o in objs if o["type"] == "MX")

    ours = [k for k in record_obj(v4_record(), ZONE_NAME) if k != "rec_tag"]
    ours_mx = [k for k in record_obj(v4_record(type="MX", priority=1), ZONE_NAME)
               if k != "rec_tag"]
    assert ours == list(plain)
    assert ours_mx == list(mx)
    assert list(record_obj(v4_record(), ZONE_NAME)["props"]) == list(plain["props"])


def test_record_obj_rec_tag_follows_rec_id() -> None:
    assert list(record_obj(v4_record(), ZONE_NAME))[:3] == ["rec_id", "rec_tag", "rec_hash"]


def test_record_obj_fixture_types_match_ours() -> None:
    theirs = fixture("rec_load_all.json")["response"]["recs"]["objs"][0]
    ours = record_obj(v4_record(), ZONE_NAME)
    for key in ("rec_id", "ttl", "service_mode", "ttl_ceil", "auto_ttl", "props"):
        assert type(ours[key]) is type(theirs[key]), key


# --- zone object ----------------------------------------------------------------------------


def test_zone_obj_exact_bytes_for_an_active_free_zone() -> None:
    zone_id = str(v1_number(ZONE_ID))
    user_id = str(v1_number(ACCOUNT_ID))
    expected = (
        '{"zone_id":"ZONE_NUMBER","user_id":"USER_NUMBER","zone_name":"example.com","display_name":"example.com",'
        '"zone_status":"V","zone_mode":"1","host_id":null,"zone_type":"F","host_pubname":null,'
        '"host_website":null,"vtxt":null,"fqdns":["ada.ns.cloudflare.com","bob.ns.cloudflare.com"],'
        '"step":"4","zone_status_class":"status-active",'
        '"zone_status_desc":"This website is active on Cloudflare.","ns_vanity_map":[],'
        '"orig_registrar":null,"orig_dnshost":null,"orig_ns_names":null,'
        '"props":{"dns_cname":0,"dns_partner":0,"dns_anon_partner":0,"plan":"FREE_ZONE","pro":0,'
        '"expired_pro":0,"pro_sub":0,"plan_sub":0,"ssl":1,"expired_ssl":0,"expired_rs_pro":0,'
        '"reseller_pro":0,"reseller_plans":[],"force_interal":0,"ssl_needed":0,"alexa_rank":0,'
        '"has_vanity":0},"confirm_code":{},"allow":["analytics","threat_control","cf_apps",'
        '"dns_editor","cf_settings","page_rules","zone_deactivate","zone_dev_mode1"]}'
    ).replace("ZONE_NUMBER", zone_id).replace("USER_NUMBER", user_id)
    assert envelope.encode(zone_obj(v4_zone())) == expected.encode()


def test_zone_obj_ids_are_digit_strings() -> None:
    obj = zone_obj(v4_zone())
    assert obj["zone_id"] == str(v1_number(ZONE_ID)) and obj["zone_id"].isdigit()
    assert obj["user_id"] == str(v1_number(ACCOUNT_ID)) and obj["user_id"].isdigit()


def test_zone_obj_user_id_falls_back_to_owner() -> None:
    zone = v4_zone(account=None, owner={"id": ACCOUNT_ID})
    assert zone_obj(zone)["user_id"] == str(v1_number(ACCOUNT_ID))


def test_zone_obj_props_are_ints_except_plan_and_reseller_plans() -> None:
    props = zone_obj(v4_zone())["props"]
    assert type(props.pop("plan")) is str
    assert props.pop("reseller_plans") == []
    assert all(type(value) is int for value in props.values())


def test_zone_obj_dev_mode() -> None:
    obj = zone_obj(v4_zone(development_mode=7200))
    assert obj["zone_status_class"] == "status-dev-mode"
    assert obj["zone_status_desc"] == "This website is active on Cloudflare, in development mode."
    assert obj["allow"][-1] == "zone_dev_mode0"
    assert "zone_dev_mode1" not in obj["allow"]


def test_zone_obj_paused_zone() -> None:
    obj = zone_obj(v4_zone(paused=True, development_mode=7200))
    assert (obj["zone_status_class"], obj["zone_mode"]) == ("status-deactivated", "0")
    assert obj["zone_status_desc"] == "This website is paused on Cloudflare."


def test_zone_obj_partial_pro_zone_with_original_name_servers() -> None:
    obj = zone_obj(v4_zone(type="partial", plan={"legacy_id": "pro"}, status="pending",
                           original_name_servers=["ns1.example.net", "ns2.example.net"]))
    assert (obj["zone_type"], obj["zone_status"]) == ("P", "P")
    assert (obj["props"]["dns_cname"], obj["props"]["plan"], obj["props"]["pro"]) == (
        1, "PRO_ZONE", 1
    )
    assert obj["orig_ns_names"] == "{ns1.example.net,ns2.example.net}"


def test_zone_obj_without_name_servers_has_null_fqdns() -> None:
    assert zone_obj(v4_zone(name_servers=[]))["fqdns"] is None


def test_zone_obj_idn_display_name_in_unicode() -> None:
    obj = zone_obj(v4_zone(name="xn--bcher-kva.de"))
    assert (obj["zone_name"], obj["display_name"]) == ("xn--bcher-kva.de", "bücher.de")


def test_zone_obj_allow_list_is_not_shared_between_calls() -> None:
    first = zone_obj(v4_zone(development_mode=60))
    second = zone_obj(v4_zone())
    assert first["allow"][-1] == "zone_dev_mode0"
    assert second["allow"][-1] == "zone_dev_mode1"
    assert len(second["allow"]) == 8


def test_zone_obj_key_order_matches_libcloud_fixture() -> None:
    theirs = fixture("zone_load_multi.json")["response"]["zones"]["objs"][0]
    ours = zone_obj(v4_zone())
    assert list(ours) == list(theirs)
    assert list(ours["props"]) == list(theirs["props"])


def test_zone_obj_fixture_types_match_ours() -> None:
    theirs = fixture("zone_load_multi.json")["response"]["zones"]["objs"][0]
    ours = zone_obj(v4_zone())
    for key in ("zone_id", "user_id", "zone_name", "zone_mode", "step", "ns_vanity_map",
                "props", "confirm_code", "allow"):
        assert type(ours[key]) is type(theirs[key]), key

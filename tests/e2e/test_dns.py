"""DNS records end to end: what clients receive and what lands in the sandbox's v4 zone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import OTHER_EMAIL, OTHER_KEY, RunningProxy


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["result"] == "success", body
    return body


def rec_id_of(proxy: RunningProxy, name: str, rtype: str = "A") -> str:
    objs = ok(proxy.v1(a="rec_load_all", z="example.com"))["response"]["recs"]["objs"]
    return next(o["rec_id"] for o in objs if o["name"] == name and o["type"] == rtype)


def test_rec_load_all_lists_every_record_a_first(proxy: RunningProxy) -> None:
    body = ok(proxy.v1(a="rec_load_all", z="EXAMPLE.com."))
    recs = body["response"]["recs"]
    assert recs["has_more"] is False
    assert recs["count"] == 6 == len(recs["objs"])
    assert [o["type"] for o in recs["objs"]] == ["A", "A", "AAAA", "CNAME", "MX", "TXT"]
    www = next(o for o in recs["objs"] if o["name"] == "www.example.com" and o["type"] == "A")
    assert www["rec_id"].isdigit()
    assert (www["display_name"], www["ttl"], www["service_mode"], www["auto_ttl"]) == (
        "www", "1", "1", 1)
    mx = recs["objs"][4]
    assert (mx["prio"], mx["display_name"], mx["mx"]) == ("10", "example.com", {"auto": False})
    assert body["request"]["tkn"] == "[redacted]"
    assert list(body) == ["request", "response", "result", "msg"]


def test_rec_load_all_honours_offset_and_id(proxy: RunningProxy) -> None:
    recs = ok(proxy.v1(a="rec_load_all", z="example.com", o="4"))["response"]["recs"]
    assert (recs["count"], [o["type"] for o in recs["objs"]]) == (2, ["MX", "TXT"])
    wanted = rec_id_of(proxy, "home.example.com")
    recs = ok(proxy.v1(a="rec_load_all", z="example.com", id=wanted))["response"]["recs"]
    assert [o["name"] for o in recs["objs"]] == ["home.example.com"]
    recs = ok(proxy.v1(a="rec_load_all", z="example.com", id="123"))["response"]["recs"]
    assert recs == {"has_more": False, "count": 0, "objs": []}


def test_record_names_relative_apex_at_and_fqdn(proxy: RunningProxy) -> None:
    for given, stored in [("rel", "rel.example.com"), ("@", "example.com"),
                          ("fq.example.com.", "fq.example.com"),
                          ("example.com", "example.com")]:
        content = f"198.51.100.{len(given)}"
        ok(proxy.v1(a="rec_new", z="example.com", type="A", name=given, content=content,
                    ttl="1"))
        assert [r["content"] for r in proxy.records(name=stored) if r["type"] == "A"].count(
            content) == 1


def test_rec_new_ignores_service_mode_by_default(proxy: RunningProxy) -> None:
    body = ok(proxy.v1("POST", a="rec_new", z="example.com", type="A", name="mail",
                       content="192.0.2.25", ttl="1", service_mode="1"))
    assert body["response"]["rec"]["obj"]["service_mode"] == "0"
    assert proxy.records(name="mail.example.com")[0]["proxied"] is False


def test_rec_new_honours_service_mode_when_told(start_proxy: Callable[..., RunningProxy]) -> None:
    proxy = start_proxy(rec_new_service_mode="honour")
    body = ok(proxy.v1("POST", a="rec_new", z="example.com", type="A", name="web",
                       content="192.0.2.26", ttl="1", service_mode="1"))
    assert body["response"]["rec"]["obj"]["service_mode"] == "1"
    assert proxy.records(name="web.example.com")[0]["proxied"] is True


def test_rec_edit_without_service_mode_keeps_proxied(proxy: RunningProxy) -> None:
    rec_id = rec_id_of(proxy, "www.example.com")
    proxy.forget_calls()
    ok(proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="A", name="www",
                content="192.0.2.99", ttl="1"))
    [record] = proxy.records(name="www.example.com", type="A")
    assert (record["content"], record["proxied"]) == ("192.0.2.99", True)
    patches = [x for x in proxy.recorder.exchanges if x.method in ("PATCH", "PUT")]
    assert [x.method for x in patches] == ["PATCH"]
    assert "proxied" not in patches[0].body


def test_rec_edit_with_service_mode_zero_turns_proxy_off(proxy: RunningProxy) -> None:
    rec_id = rec_id_of(proxy, "www.example.com")
    ok(proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="A", name="www",
                content="192.0.2.1", ttl="1", service_mode="0"))
    assert proxy.records(name="www.example.com", type="A")[0]["proxied"] is False


def test_rec_edit_changing_type_recreates_the_record(proxy: RunningProxy) -> None:
    # A DDNS client sends type=A for the first record of the name, here a CNAME.
    rec_id = rec_id_of(proxy, "blog.example.com", "CNAME")
    body = ok(proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="A", name="blog",
                       content="192.0.2.44", ttl="1"))
    obj = body["response"]["rec"]["obj"]
    assert obj["type"] == "A" and obj["rec_id"] != rec_id
    [record] = proxy.records(name="blog.example.com")
    assert (record["type"], record["content"], record["proxied"]) == ("A", "192.0.2.44", True)
    methods = [m for m, _ in proxy.v4_calls]
    assert "DELETE" in methods and methods.index("DELETE") < len(methods) - 1


def test_conflicting_type_change_is_refused_before_any_write(proxy: RunningProxy) -> None:
    # A CNAME cannot share its name with the A record of www. Refused before the AAAA is
    # deleted, so the AAAA keeps its v4 id and the client's rec_id keeps working.
    rec_id = rec_id_of(proxy, "www.example.com", "AAAA")
    proxy.forget_calls()
    body = proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="CNAME", name="www",
                    content="elsewhere.example.net", ttl="1").json()
    assert body == {"request": {"act": "rec_edit"}, "result": "error", "err_code":
                    "E_INVLDINPUT", "msg": "An A, AAAA, or CNAME record with that host "
                    "already exists."}
    assert [m for m, _ in proxy.v4_calls if m != "GET"] == []
    assert rec_id_of(proxy, "www.example.com", "AAAA") == rec_id


def test_refused_type_change_puts_the_old_record_back(proxy: RunningProxy) -> None:
    # v4 refuses a TXT of over 2048 characters only after the old CNAME was deleted: the
    # proxy puts the CNAME back (under a new v4 id, as v4 allows no other way).
    rec_id = rec_id_of(proxy, "blog.example.com", "CNAME")
    body = proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="TXT", name="blog",
                    content="x" * 3000, ttl="1").json()
    assert body["result"] == "error" and body["err_code"] == "E_INVLDINPUT"
    [record] = proxy.records(name="blog.example.com")
    assert (record["type"], record["content"], record["proxied"]) == (
        "CNAME", "www.example.com", True)


def test_bad_address_is_refused_before_any_write(proxy: RunningProxy) -> None:
    rec_id = rec_id_of(proxy, "blog.example.com", "CNAME")
    proxy.forget_calls()
    body = proxy.v1(a="rec_edit", z="example.com", id=rec_id, type="A", name="blog",
                    content="not-an-ip", ttl="1").json()
    assert body == {"request": {"act": "rec_edit"}, "result": "error", "err_code":
                    "E_INVLDINPUT", "msg": "Invalid value for content: an A record needs an "
                    "IPv4 address."}
    assert [m for m, _ in proxy.v4_calls if m != "GET"] == []


def test_unknown_record_id_touches_nothing(proxy: RunningProxy) -> None:
    before = proxy.records()
    for bad in ("12345", "0", "abc", "../../zones", "ffffffffffffffffffffffffffffffff"):
        response = proxy.v1(a="rec_edit", z="example.com", id=bad, type="A", name="x",
                            content="192.0.2.1", ttl="1")
        assert response.content == (
            b'{"request":{"act":"rec_edit"},"result":"error","msg":"Invalid record id."}')
        response = proxy.v1(a="rec_delete", z="example.com", id=bad)
        assert response.json()["msg"] == "Invalid record id."
    assert proxy.records() == before


def test_v4_id_is_accepted_as_record_id(proxy: RunningProxy) -> None:
    [record] = proxy.records(name="home.example.com")
    ok(proxy.v1(a="rec_delete", z="example.com", id=record["id"]))
    assert proxy.records(name="home.example.com") == []


def test_record_ids_hold_across_proxy_processes(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    first = start_proxy()
    rec_id = rec_id_of(first, "home.example.com")
    # A second proxy with no shared state, in front of the same v4 account.
    second = start_proxy(upstream=f"{first.url}/client/v4")
    assert rec_id_of(second, "home.example.com") == rec_id
    fresh = start_proxy(upstream=f"{first.url}/client/v4")
    ok(fresh.v1(a="rec_edit", z="example.com", id=rec_id, type="A", name="home",
                content="203.0.113.9", ttl="120"))
    assert first.records(name="home.example.com")[0]["content"] == "203.0.113.9"


def test_bad_credentials_and_unknown_zones(proxy: RunningProxy) -> None:
    assert proxy.v1(a="rec_load_all", z="example.com", tkn="0" * 37).content == (
        b'{"result":"error","msg":"Unknown token or email","err_code":"E_UNAUTH"}')
    assert proxy.v1(a="rec_load_all", z="example.com", tkn=None).json()["err_code"] == "E_UNAUTH"
    assert proxy.v1(a="rec_load_all", z="nope.example").content == (
        b'{"request":{"act":"rec_load_all"},"result":"error","msg":"Invalid zone."}')
    # Another user's zone is not this user's, even after that user looked it up.
    ok(proxy.v1(a="rec_load_all", z="example.net", email=OTHER_EMAIL, tkn=OTHER_KEY))
    assert proxy.v1(a="rec_load_all", z="example.net").json()["msg"] == "Invalid zone."


def test_duplicate_record_is_an_input_error(proxy: RunningProxy) -> None:
    body = proxy.v1(a="rec_new", z="example.com", type="A", name="www", content="192.0.2.1",
                    ttl="1").json()
    assert body["result"] == "error" and body["err_code"] == "E_INVLDINPUT"
    assert len(proxy.records(name="www.example.com", type="A")) == 1


def test_rec_load_all_costs_one_listing_per_v1_call(proxy: RunningProxy) -> None:
    ok(proxy.v1(a="rec_load_all", z="example.com"))
    proxy.forget_calls()
    ok(proxy.v1(a="rec_load_all", z="example.com"))
    assert len(proxy.v4_calls) == 1

"""The zone setters and purges end to end, with the v4 setting read back from the sandbox."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import RunningProxy


def setting(proxy: RunningProxy, name: str) -> Any:
    return proxy.v4("GET", f"/zones/{proxy.zone_id()}/settings/{name}")["result"]["value"]


@pytest.mark.parametrize(("action", "v", "v4_setting", "v4_value"), [
    ("sec_lvl", "help", "security_level", "under_attack"),
    ("sec_lvl", "eoff", "security_level", "essentially_off"),
    ("cache_lvl", "basic", "cache_level", "basic"),
    ("ipv46", "1", "ipv6", "on"),
    ("ipv46", "3", "ipv6", "on"),
    ("ipv46", "0", "ipv6", "off"),
    ("async", "a", "rocket_loader", "on"),
    ("async", "0", "rocket_loader", "off"),
    ("devmode", "1", "development_mode", "on"),
])
def test_setter_changes_the_v4_setting(
    proxy: RunningProxy, action: str, v: str, v4_setting: str, v4_value: str
) -> None:
    response = proxy.v1(a=action, z="example.com", v=v)
    body = response.json()
    assert body["result"] == "success", body
    assert setting(proxy, v4_setting) == v4_value
    if action == "async":
        assert response.content == b'{"result":"success","msg":null}'
    else:
        obj = body["response"]["zone"]["obj"]
        assert obj["zone_name"] == "example.com" and obj["zone_id"].isdigit()


def test_devmode_on_answers_expiry_and_dev_mode_status(proxy: RunningProxy) -> None:
    body = proxy.v1(a="devmode", z="example.com", v="1").json()
    assert list(body["response"]) == ["expires_on", "zone"]
    assert abs(body["response"]["expires_on"] - (time.time() + 10800)) < 60
    obj = body["response"]["zone"]["obj"]
    assert obj["zone_status_class"] == "status-dev-mode"
    assert "zone_dev_mode0" in obj["allow"]
    body = proxy.v1(a="devmode", z="example.com", v="0").json()
    assert list(body["response"]) == ["zone"]


@pytest.mark.parametrize(("action", "v"), [("sec_lvl", "medium"), ("cache_lvl", "iqs"),
                                           ("devmode", "2"), ("async", "x"), ("ipv46", "on")])
def test_bad_setter_values_are_refused_without_a_v4_write(
    proxy: RunningProxy, action: str, v: str
) -> None:
    body = proxy.v1(a=action, z="example.com", v=v).json()
    assert body == {"request": {"act": action}, "result": "error",
                    "msg": "Invalid value for v.", "err_code": "E_INVLDINPUT"}
    assert [m for m, _ in proxy.v4_calls if m != "GET"] == []


def test_async_manual_mode_is_refused_explaining_why(proxy: RunningProxy) -> None:
    body = proxy.v1(a="async", z="example.com", v="m").json()
    assert body["err_code"] == "E_INVLDINPUT"
    assert "only on (a) and off (0)" in body["msg"]


def test_fpurge_ts_purges_everything(proxy: RunningProxy) -> None:
    response = proxy.v1(a="fpurge_ts", z="example.com", v="1")
    body = response.json()
    assert list(body) == ["response", "result", "msg", "attributes"]
    assert body["attributes"] == {"cooldown": 20}
    assert abs(body["response"]["fpurge_ts"] - time.time()) < 60
    purge = [x for x in proxy.recorder.exchanges if x.path.endswith("/purge_cache")]
    assert [x.body for x in purge] == [{"purge_everything": True}]


def test_zone_file_purge_sends_the_url(proxy: RunningProxy) -> None:
    url = "https://www.example.com/a.css"
    response = proxy.v1(a="zone_file_purge", z="example.com", url=url)
    assert response.content.endswith(
        b'"response":{"vtxt_match":null,"url":"https:\\/\\/www.example.com\\/a.css"},'
        b'"result":"success","msg":null}')
    purge = [x for x in proxy.recorder.exchanges if x.path.endswith("/purge_cache")]
    assert [x.body for x in purge] == [{"files": [url]}]
    bad = proxy.v1(a="zone_file_purge", z="example.com", url="/a.css").json()
    assert bad["err_code"] == "E_INVLDINPUT"


def test_zone_load_multi_and_zone_check(proxy: RunningProxy) -> None:
    body = proxy.v1(a="zone_load_multi").json()
    zones = body["response"]["zones"]
    assert (zones["has_more"], zones["count"]) == (False, 2)
    assert sorted(z["zone_name"] for z in zones["objs"]) == ["example.com", "example.org"]
    ids = {z["zone_name"]: int(z["zone_id"]) for z in zones["objs"]}
    checked = proxy.v1(a="zone_check", zones="example.com,example.org,nope.test").json()
    assert checked == {"response": {"zones": {**ids, "nope.test": 0}},
                       "result": "success", "msg": None}

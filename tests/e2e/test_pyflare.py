"""pyflare 1.1.5's PyflareClient, unmodified but for one name, driving every call it has.

pyflare's `client.py` defines a method named `async`, a reserved word since Python 3.7, so
`import pyflare` fails. The `pyflare_client` fixture loads the installed package's source with
`def async(` renamed to `def async_(` (see `shared/reference/real-clients.md` §1.2); nothing
else changes. pyflare POSTs urlencoded bodies, ignores the HTTP status and raises its own
`APIError(msg, err_code)` for any `result: error`, so a 410 for a retired action surfaces as an
`APIError` with the body's message, and nothing else may raise one.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import EMAIL, KEY, RunningProxy, base_seed

ZONE = "example.com"


@pytest.fixture(scope="module")
def pyflare() -> Iterator[types.ModuleType]:
    """The `pyflare` package with `APIError`, and `pyflare.client` built with `async_`."""
    spec = importlib.util.find_spec("pyflare")
    assert spec is not None and spec.submodule_search_locations, "pyflare is not installed"
    pkg_dir = pathlib.Path(list(spec.submodule_search_locations)[0])
    saved = {name: sys.modules.get(name) for name in ("pyflare", "pyflare.client")}

    pkg = types.ModuleType("pyflare")
    pkg.__path__ = [str(pkg_dir)]
    init_source = (pkg_dir / "__init__.py").read_text()
    assert "from .client" in init_source
    exec(init_source.split("from .client")[0], pkg.__dict__)  # defines APIError
    sys.modules["pyflare"] = pkg

    client_source = (pkg_dir / "client.py").read_text()
    assert client_source.count("def async(") == 1
    client = types.ModuleType("pyflare.client")
    sys.modules["pyflare.client"] = client
    exec(compile(client_source.replace("def async(", "def async_("),
                 str(pkg_dir / "client.py"), "exec"), client.__dict__)
    pkg.client = client
    pkg.PyflareClient = client.PyflareClient
    try:
        yield pkg
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def make_client(pyflare: types.ModuleType, proxy: RunningProxy,
                email: str = EMAIL, key: str = KEY) -> Any:
    client = pyflare.PyflareClient(email, key)
    # An instance attribute: the class keeps Cloudflare's URL, tests never share a proxy.
    client.CLOUDFLARE_URL = f"{proxy.url}/api_json.html"
    return client


@pytest.fixture
def client(pyflare: types.ModuleType, proxy: RunningProxy) -> Any:
    return make_client(pyflare, proxy)


def assert_zone_obj(obj: dict[str, Any], proxy: RunningProxy, zone: str = ZONE) -> None:
    assert obj["zone_name"] == zone
    assert isinstance(obj["zone_id"], str) and obj["zone_id"].isdigit()
    assert isinstance(obj["props"]["pro"], int)


# --- the loader itself --------------------------------------------------------------------


def test_loader_renames_only_async(pyflare: types.ModuleType) -> None:
    cls = pyflare.PyflareClient
    assert hasattr(cls, "async_") and not hasattr(cls, "async")
    assert cls.CLOUDFLARE_URL == "https://www.cloudflare.com/api_json.html"
    assert issubclass(pyflare.APIError, Exception)
    assert pyflare.client.APIError is pyflare.APIError


# --- zones -----------------------------------------------------------------------------------


def test_zone_load_multi_lists_the_account(client: Any, proxy: RunningProxy) -> None:
    body = client.zone_load_multi()
    assert body["result"] == "success" and body["msg"] is None
    assert body["request"]["act"] == "zone_load_multi"
    zones = body["response"]["zones"]
    assert (zones["has_more"], zones["count"]) == (False, 2)
    assert type(zones["count"]) is int
    assert sorted(z["zone_name"] for z in zones["objs"]) == ["example.com", "example.org"]
    for obj in zones["objs"]:
        assert_zone_obj(obj, proxy, obj["zone_name"])
    assert proxy.v4_writes() == []


def test_zone_check_answers_integer_ids(client: Any, proxy: RunningProxy) -> None:
    listed = {z["zone_name"]: z["zone_id"]
              for z in client.zone_load_multi()["response"]["zones"]["objs"]}
    body = client.zone_check(["example.com", "example.org", "nope.test"])
    assert body == {"response": {"zones": {"example.com": int(listed["example.com"]),
                                           "example.org": int(listed["example.org"]),
                                           "nope.test": 0}},
                    "result": "success", "msg": None}
    assert all(type(v) is int for v in body["response"]["zones"].values())


def test_unknown_zone_is_invalid_zone(client: Any, pyflare: types.ModuleType,
                                      proxy: RunningProxy) -> None:
    with pytest.raises(pyflare.APIError) as caught:
        client.sec_lvl("nope.test", "high")
    assert (caught.value.msg, caught.value.code) == ("Invalid zone.", None)
    assert proxy.v4_writes() == []


def test_wrong_key_raises_e_unauth(pyflare: types.ModuleType, proxy: RunningProxy) -> None:
    with pytest.raises(pyflare.APIError) as caught:
        make_client(pyflare, proxy, key="f" * 37).zone_load_multi()
    assert caught.value.code == "E_UNAUTH"


# --- zone settings ---------------------------------------------------------------------------


def test_zone_settings_reads_every_setting(client: Any, proxy: RunningProxy) -> None:
    body = client.zone_settings(ZONE)
    assert body["request"]["act"] == "zone_settings"
    [settings] = body["response"]["result"]["objs"]
    assert settings["sec_lvl"] == "med" and settings["userSecuritySetting"] == "Medium"
    assert (settings["dev_mode"], settings["ipv46"], settings["ob"]) == (0, 0, 1)
    assert (settings["cache_lvl"], settings["async"], settings["fpurge_ts"]) == ("agg", "0", "0")
    assert proxy.v4_writes() == []


def test_zone_settings_shows_what_the_setters_did(client: Any, proxy: RunningProxy) -> None:
    client.sec_lvl(ZONE, "help")
    client.cache_lvl(ZONE, "basic")
    expires = client.devmode(ZONE, True)["response"]["expires_on"]
    client.ipv46(ZONE, True)
    client.async_(ZONE, "a")
    purged = client.fpurge_ts(ZONE)["response"]["fpurge_ts"]
    [settings] = client.zone_settings(ZONE)["response"]["result"]["objs"]
    assert settings["sec_lvl"] == "help"
    assert settings["userSecuritySetting"] == "I'm Under Attack!"
    assert settings["cache_lvl"] == "basic"
    assert type(settings["dev_mode"]) is int and abs(settings["dev_mode"] - expires) <= 2
    assert (settings["ipv46"], settings["async"]) == (3, "a")
    assert settings["fpurge_ts"] == str(purged)


@pytest.mark.parametrize(("level", "v4_value"), [
    ("help", "under_attack"), ("high", "high"), ("med", "medium"), ("low", "low"),
    ("eoff", "essentially_off"),
])
def test_sec_lvl_sets_security_level(client: Any, proxy: RunningProxy, level: str,
                                     v4_value: str) -> None:
    body = client.sec_lvl(ZONE, level)
    assert list(body) == ["response", "result", "msg"] and body["result"] == "success"
    assert_zone_obj(body["response"]["zone"]["obj"], proxy)
    assert proxy.setting("security_level") == v4_value


def test_cache_lvl_sets_cache_level(client: Any, proxy: RunningProxy) -> None:
    body = client.cache_lvl(ZONE, "basic")
    assert_zone_obj(body["response"]["zone"]["obj"], proxy)
    assert proxy.setting("cache_level") == "basic"
    client.cache_lvl(ZONE, "agg")
    assert proxy.setting("cache_level") == "aggressive"


def test_devmode_on_and_off(client: Any, proxy: RunningProxy) -> None:
    on = client.devmode(ZONE, True)
    assert list(on["response"]) == ["expires_on", "zone"]
    expires = on["response"]["expires_on"]
    assert type(expires) is int and abs(expires - (time.time() + 3 * 3600)) < 60
    assert on["response"]["zone"]["obj"]["zone_status_class"] == "status-dev-mode"
    assert proxy.setting("development_mode") == "on"

    off = client.devmode(ZONE, False)
    assert list(off["response"]) == ["zone"]
    assert off["response"]["zone"]["obj"]["zone_status_class"] == "status-active"
    assert proxy.setting("development_mode") == "off"


def test_ipv46_on_with_pyflares_v1_and_off(client: Any, proxy: RunningProxy) -> None:
    body = client.ipv46(ZONE, True)  # pyflare sends v=1, not the documented 3
    assert_zone_obj(body["response"]["zone"]["obj"], proxy)
    assert proxy.setting("ipv6") == "on"
    client.ipv46(ZONE, False)
    assert proxy.setting("ipv6") == "off"


def test_async_sets_rocket_loader(client: Any, proxy: RunningProxy) -> None:
    assert client.async_(ZONE, "a") == {"result": "success", "msg": None}
    assert proxy.setting("rocket_loader") == "on"
    assert client.async_(ZONE, 0) == {"result": "success", "msg": None}
    assert proxy.setting("rocket_loader") == "off"


def test_async_manual_mode_is_an_input_error(client: Any, pyflare: types.ModuleType,
                                            proxy: RunningProxy) -> None:
    with pytest.raises(pyflare.APIError) as caught:
        client.async_(ZONE, "m")
    assert caught.value.code == "E_INVLDINPUT"
    assert "manual mode (m) no longer exists" in caught.value.msg
    assert proxy.v4_writes() == []


# --- purges ----------------------------------------------------------------------------------


def test_fpurge_ts_purges_everything(client: Any, proxy: RunningProxy) -> None:
    body = client.fpurge_ts(ZONE)
    assert list(body) == ["response", "result", "msg", "attributes"]
    purged = body["response"]["fpurge_ts"]
    assert type(purged) is int and abs(purged - time.time()) < 60
    assert_zone_obj(body["response"]["zone"]["obj"], proxy)
    assert body["attributes"] == {"cooldown": 20}
    purges = [x for x in proxy.recorder.exchanges if x.path.endswith("/purge_cache")]
    assert [(x.method, x.body, x.status) for x in purges] == [
        ("POST", {"purge_everything": True}, 200)]
    assert purges[0].path.endswith(f"/zones/{proxy.zone_id()}/purge_cache")


def test_zone_file_purge_purges_one_url(client: Any, proxy: RunningProxy) -> None:
    url = "https://www.example.com/static/app.css?v=2"
    body = client.zone_file_purge(ZONE, url)
    assert body["request"]["url"] == url
    assert body["response"] == {"vtxt_match": None, "url": url}
    purges = [x for x in proxy.recorder.exchanges if x.path.endswith("/purge_cache")]
    assert [(x.method, x.body, x.status) for x in purges] == [("POST", {"files": [url]}, 200)]


# --- IP lists --------------------------------------------------------------------------------


@pytest.mark.parametrize(("ip", "target"), [
    ("198.51.100.7", "ip"), ("2001:db8::7", "ip6"), ("203.0.113.0/24", "ip_range"),
])
def test_wl_ban_nul_manage_one_access_rule(client: Any, proxy: RunningProxy, ip: str,
                                           target: str) -> None:
    assert proxy.access_rules() == []
    assert client.wl(ip) == {"response": {"result": {"ip": ip, "action": "WL"}},
                             "result": "success", "msg": None}
    assert proxy.access_rules() == [(target, ip, "whitelist")]
    assert client.ban(ip)["response"]["result"] == {"ip": ip, "action": "BAN"}
    assert proxy.access_rules() == [(target, ip, "block")]
    assert client.nul(ip)["response"]["result"] == {"ip": ip, "action": "NUL"}
    assert proxy.access_rules() == []


# --- DNS records -----------------------------------------------------------------------------


def test_rec_load_all_lists_every_record_in_one_answer(client: Any, proxy: RunningProxy) -> None:
    records = client.rec_load_all(ZONE)
    assert isinstance(records, types.GeneratorType)
    listed = list(records)
    stored = proxy.records()
    assert len(listed) == len(stored) == 6
    assert sorted(r["rec_tag"] for r in listed) == sorted(r["id"] for r in stored)
    assert len({r["rec_id"] for r in listed}) == 6
    assert all(r["rec_id"].isdigit() and r["zone_name"] == ZONE for r in listed)
    assert [r["type"] for r in listed][:2] == ["A", "A"]
    www = next(r for r in listed if r["name"] == "www.example.com" and r["type"] == "A")
    assert (www["content"], www["ttl"], www["service_mode"]) == ("192.0.2.1", "1", "1")
    mx = next(r for r in listed if r["type"] == "MX")
    assert (mx["name"], mx["prio"], mx["ttl"]) == ("example.com", "10", "3600")
    listings = [x for x in proxy.recorder.exchanges
                if x.method == "GET" and x.path.endswith("/dns_records")]
    assert len(listings) == 1


def test_rec_new_a_record_with_pyflares_defaults(client: Any, proxy: RunningProxy) -> None:
    body = client.rec_new(ZONE, "A", "pf", "198.51.100.40")  # ttl=1 by default
    assert body["request"]["ttl"] == "1"
    obj = body["response"]["rec"]["obj"]
    assert obj["rec_id"].isdigit()
    assert (obj["name"], obj["display_name"], obj["type"], obj["content"]) == (
        "pf.example.com", "pf", "A", "198.51.100.40")
    assert (obj["ttl"], obj["auto_ttl"], obj["prio"], obj["service_mode"]) == ("1", 1, None, "0")
    assert obj["props"]["cloud_on"] == 0
    [stored] = proxy.records(name="pf.example.com")
    assert (stored["id"], stored["type"], stored["content"], stored["ttl"],
            stored["proxied"]) == (obj["rec_tag"], "A", "198.51.100.40", 1, False)


def test_rec_new_mx_with_priority_at_the_apex(client: Any, proxy: RunningProxy) -> None:
    obj = client.rec_new(ZONE, "MX", ZONE, "mx2.example.net", ttl=3600,
                         priority=20)["response"]["rec"]["obj"]
    assert (obj["name"], obj["prio"], obj["ttl"], obj["auto_ttl"]) == (
        "example.com", "20", "3600", 0)
    [stored] = [r for r in proxy.records(type="MX") if r["content"] == "mx2.example.net"]
    assert (stored["name"], stored["priority"], stored["ttl"]) == ("example.com", 20, 3600)


def test_rec_new_srv_with_every_srv_field(client: Any, proxy: RunningProxy) -> None:
    obj = client.rec_new(ZONE, "SRV", ZONE, "", priority=10, service="_sip",
                         service_name=ZONE, protocol="_tcp", weight=5, port=5060,
                         target="sip.example.com")["response"]["rec"]["obj"]
    assert (obj["name"], obj["type"], obj["prio"], obj["content"]) == (
        "_sip._tcp.example.com", "SRV", "10", "5 5060 sip.example.com")
    [stored] = proxy.records(type="SRV")
    assert stored["name"] == "_sip._tcp.example.com"
    assert stored["data"] == {"priority": 10, "weight": 5, "port": 5060,
                              "target": "sip.example.com"}


def test_rec_new_spf_is_an_input_error(client: Any, pyflare: types.ModuleType,
                                       proxy: RunningProxy) -> None:
    with pytest.raises(pyflare.APIError) as caught:
        client.rec_new(ZONE, "SPF", ZONE, "v=spf1 -all")
    assert caught.value.code == "E_INVLDINPUT"
    assert proxy.v4_writes() == []


def listed(client: Any, name: str, type_: str) -> dict[str, Any]:
    return next(r for r in client.rec_load_all(ZONE) if r["name"] == name and r["type"] == type_)


def test_rec_edit_changes_content_and_ttl_keeping_grey(client: Any, proxy: RunningProxy) -> None:
    home = listed(client, "home.example.com", "A")
    body = client.rec_edit(ZONE, "A", home["rec_id"], "home", "192.0.2.8", ttl=300)
    obj = body["response"]["rec"]["obj"]
    assert body["request"]["id"] == home["rec_id"]
    assert (obj["rec_id"], obj["content"], obj["ttl"], obj["service_mode"]) == (
        home["rec_id"], "192.0.2.8", "300", "0")
    [stored] = proxy.records(name="home.example.com", type="A")
    assert (stored["content"], stored["ttl"], stored["proxied"]) == ("192.0.2.8", 300, False)


def test_rec_edit_without_service_mode_keeps_the_orange_cloud(client: Any,
                                                              proxy: RunningProxy) -> None:
    www = listed(client, "www.example.com", "A")
    obj = client.rec_edit(ZONE, "A", www["rec_id"], "www.example.com",
                          "192.0.2.77")["response"]["rec"]["obj"]
    assert (obj["content"], obj["service_mode"], obj["ttl"]) == ("192.0.2.77", "1", "1")
    [stored] = proxy.records(name="www.example.com", type="A")
    assert (stored["content"], stored["proxied"]) == ("192.0.2.77", True)
    patches = [x for x in proxy.recorder.exchanges if x.method == "PATCH"]
    assert len(patches) == 1 and "proxied" not in patches[0].body


def test_rec_edit_with_service_mode_zero_turns_the_cloud_grey(client: Any,
                                                              proxy: RunningProxy) -> None:
    www = listed(client, "www.example.com", "A")
    obj = client.rec_edit(ZONE, "A", www["rec_id"], "www", "192.0.2.1",
                          service_mode=0)["response"]["rec"]["obj"]
    assert (obj["service_mode"], obj["props"]["cloud_on"]) == ("0", 0)
    [stored] = proxy.records(name="www.example.com", type="A")
    assert stored["proxied"] is False


def test_rec_edit_of_an_apex_mx_priority(client: Any, proxy: RunningProxy) -> None:
    mx = listed(client, "example.com", "MX")
    obj = client.rec_edit(ZONE, "MX", mx["rec_id"], ZONE, "mx1.example.net", ttl=3600,
                          priority=5)["response"]["rec"]["obj"]
    assert (obj["rec_id"], obj["prio"], obj["name"]) == (mx["rec_id"], "5", "example.com")
    [stored] = proxy.records(type="MX")
    assert (stored["priority"], stored["content"], stored["ttl"]) == (5, "mx1.example.net", 3600)


def test_rec_edit_changing_the_type_gives_a_new_record(client: Any, proxy: RunningProxy) -> None:
    blog = listed(client, "blog.example.com", "CNAME")
    obj = client.rec_edit(ZONE, "A", blog["rec_id"], "blog",
                          "192.0.2.9")["response"]["rec"]["obj"]
    assert obj["type"] == "A" and obj["rec_id"] != blog["rec_id"]
    [stored] = proxy.records(name="blog.example.com")
    assert (stored["id"], stored["type"], stored["content"]) == (obj["rec_tag"], "A", "192.0.2.9")


def test_rec_delete_removes_the_record(client: Any, pyflare: types.ModuleType,
                                       proxy: RunningProxy) -> None:
    home = listed(client, "home.example.com", "A")
    body = client.rec_delete(ZONE, home["rec_id"])
    assert body == {"request": {"act": "rec_delete", "a": "rec_delete", "z": ZONE,
                                "id": home["rec_id"], "tkn": "[redacted]", "email": EMAIL},
                    "result": "success", "msg": None}
    assert proxy.records(name="home.example.com") == []
    with pytest.raises(pyflare.APIError) as caught:
        client.rec_delete(ZONE, home["rec_id"])
    assert (caught.value.msg, caught.value.code) == ("Invalid record id.", None)


# --- retired actions: HTTP 410, pyflare's own APIError -----------------------------------------


RETIRED: list[tuple[str, Callable[[Any], Any], dict[str, Any]]] = [
    ("stats", lambda c: c.stats(ZONE, 30), {"z": ZONE, "interval": "30"}),
    ("zone_ips", lambda c: c.zone_ips(ZONE), {"z": ZONE, "hours": "24"}),
    ("zone_ips", lambda c: c.zone_ips(ZONE, hours=48, ip_class="t", geo=True),
     {"z": ZONE, "hours": "48", "class": "t", "geo": "True"}),
    ("ip_lkup", lambda c: c.ip_lkup("198.51.100.9"), {"ip": "198.51.100.9"}),
    ("zone_grab", lambda c: c.zone_grab(1000001), {"zid": "1000001"}),
    ("minify", lambda c: c.minify(ZONE, 7), {"z": ZONE, "v": "7"}),
    ("mirage2", lambda c: c.mirage2(ZONE, True), {"z": ZONE, "v": "1"}),
]


@pytest.mark.parametrize(("action", "call", "params"), RETIRED,
                         ids=[f"{a}-{i}" for i, (a, _, _) in enumerate(RETIRED)])
def test_retired_action_raises_apierror_with_the_410_message(
    client: Any, pyflare: types.ModuleType, proxy: RunningProxy, action: str,
    call: Callable[[Any], Any], params: dict[str, Any],
) -> None:
    direct = proxy.v1("POST", a=action, **params)
    assert direct.status_code == 410
    gone = direct.json()
    assert gone["result"] == "error" and "err_code" not in gone
    with pytest.raises(pyflare.APIError) as caught:
        call(client)
    assert (caught.value.msg, caught.value.code) == (gone["msg"], None)
    assert action in caught.value.msg and "retired" in caught.value.msg
    assert proxy.v4_calls == []


# --- paging: 400 records ---------------------------------------------------------------------


def big_seed(count: int = 400) -> dict[str, Any]:
    seed = base_seed()
    zone = seed["users"][0]["zones"][0]
    assert zone["name"] == ZONE
    zone["records"] = [
        {"type": "A", "name": f"h{i:03d}.{ZONE}",
         "content": f"198.51.{100 + i // 250}.{i % 250 + 1}", "ttl": 1}
        for i in range(count)
    ]
    return seed


def watch_pages(client: Any) -> list[tuple[int, int, bool]]:
    """Record (o sent, count, has_more) for each v1 call pyflare's generator makes."""
    pages: list[tuple[int, int, bool]] = []
    request = client._request

    def recording(data: dict[str, Any]) -> Any:
        offset = data.get("o")
        body = request(data)
        recs = body["response"]["recs"]
        pages.append((offset, recs["count"], recs["has_more"]))
        return body

    client._request = recording
    return pages


def dns_listings(proxy: RunningProxy) -> int:
    return sum(1 for x in proxy.recorder.exchanges
               if x.method == "GET" and x.path.endswith("/dns_records"))


def test_pyflare_pages_400_records_in_pages_of_180(
    pyflare: types.ModuleType, start_proxy: Callable[..., RunningProxy]
) -> None:
    proxy = start_proxy(big_seed(), rec_page_size=180)
    client = make_client(pyflare, proxy)
    pages = watch_pages(client)

    records = list(client.rec_load_all(ZONE))
    assert pages == [(0, 180, True), (180, 180, True), (360, 40, False)]
    assert len(records) == 400
    assert len({r["rec_id"] for r in records}) == 400
    assert sorted(r["name"] for r in records) == [f"h{i:03d}.{ZONE}" for i in range(400)]
    assert {r["rec_tag"] for r in records} == {r["id"] for r in proxy.records()}
    assert dns_listings(proxy) == 1  # one v4 listing serves the whole paging loop

    pages.clear()
    again = list(client.rec_load_all(ZONE))
    assert [r["rec_id"] for r in again] == [r["rec_id"] for r in records]
    assert [o for o, _, _ in pages] == [0, 180, 360]
    assert dns_listings(proxy) == 2  # a new loop (o=0) reads v4 afresh


def test_single_rec_load_all_answers_all_400_records(
    pyflare: types.ModuleType, start_proxy: Callable[..., RunningProxy]
) -> None:
    proxy = start_proxy(big_seed())
    client = make_client(pyflare, proxy)
    pages = watch_pages(client)
    records = list(client.rec_load_all(ZONE))
    assert pages == [(0, 400, False)]
    assert len({r["rec_id"] for r in records}) == 400
    assert dns_listings(proxy) == 1

    raw = proxy.v1("POST", a="rec_load_all", z=ZONE).json()["response"]["recs"]
    assert (raw["has_more"], raw["count"], len(raw["objs"])) == (False, 400, 400)
    assert [r["rec_id"] for r in raw["objs"]] == [r["rec_id"] for r in records]

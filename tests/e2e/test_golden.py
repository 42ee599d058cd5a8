"""Golden answers: the exact bytes of every mapped and retired action for a fixed sandbox state.

Each case starts a fresh proxy on `base_seed()`; sandbox ids come from a counter, so the same
seed and call sequence give the same v4 ids and therefore the same v1 ids. Time is frozen, not
normalised: `time` in `proxy.templates` (`$now` = fpurge_ts, `epoch_after` = devmode
`expires_on`) and in `proxy.steps.zone_settings` (`dev_mode`) is replaced by a clock stuck at
NOW, and so is the sandbox's own clock (development mode's `time_remaining`).

The golden files live in tests/e2e/golden/<case>.json: the answer body plus one newline. To
rewrite them after a deliberate change, run with CF_V1_UPDATE_GOLDEN=1 and review the diff.

The 2015 captures shipped with libcloud 2.2.1 serve as a second reference: for every action
they cover, the answer must have the same JSON types and the same relative key order as the
capture, and every key the capture has (`v1-api.md` §2.2, §3 "emit the superset").
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import libcloud
import pytest
from starlette.routing import Mount

import proxy.steps.zone_settings
import proxy.templates
from tests.e2e.conftest import RunningProxy

NOW = 1796292000  # 2026-12-03T10:00:00Z
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CF_V1_UPDATE_GOLDEN") == "1"
LIBCLOUD_FIXTURES = Path(libcloud.__file__).parent / "test" / "dns" / "fixtures" / "cloudflare"


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, str]
    setup: tuple[dict[str, str], ...] = ()
    status: int = 200
    fixture: str | None = None  # the libcloud capture of the same action
    media_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)


Z = {"z": "example.com"}
KEY_IP = {"key": "198.51.100.7"}

MAPPED = [
    Case("zone_load_multi", {"a": "zone_load_multi"}, fixture="zone_load_multi"),
    Case("zone_check", {"a": "zone_check", "zones": "example.com,example.org,nope.test"},
         fixture="zone_check"),
    Case("rec_load_all", {"a": "rec_load_all", **Z}, fixture="rec_load_all"),
    Case("rec_new", {"a": "rec_new", **Z, "type": "A", "name": "new", "content": "192.0.2.55",
                     "ttl": "1"}, fixture="rec_new"),
    Case("rec_new_mx", {"a": "rec_new", **Z, "type": "MX", "name": "@",
                        "content": "mx2.example.net", "ttl": "3600", "prio": "20"},
         fixture="rec_new"),
    Case("rec_edit", {"a": "rec_edit", **Z, "id": "{home}", "type": "A", "name": "home",
                      "content": "203.0.113.9", "ttl": "300"}, fixture="rec_edit"),
    Case("rec_delete", {"a": "rec_delete", **Z, "id": "{home}"}, fixture="rec_delete"),
    Case("zone_settings", {"a": "zone_settings", **Z}, fixture="zone_settings"),
    # dev_mode and fpurge_ts are the time-dependent keys: both come from the frozen clock.
    Case("zone_settings_after_purge_and_devmode", {"a": "zone_settings", **Z},
         setup=({"a": "fpurge_ts", **Z, "v": "1"}, {"a": "devmode", **Z, "v": "1"}),
         fixture="zone_settings"),
    Case("sec_lvl", {"a": "sec_lvl", **Z, "v": "high"}, fixture="sec_lvl"),
    Case("cache_lvl", {"a": "cache_lvl", **Z, "v": "basic"}, fixture="cache_lvl"),
    Case("devmode_on", {"a": "devmode", **Z, "v": "1"}, fixture="devmode"),
    Case("devmode_off", {"a": "devmode", **Z, "v": "0"},
         setup=({"a": "devmode", **Z, "v": "1"},), fixture="devmode"),
    Case("ipv46", {"a": "ipv46", **Z, "v": "1"}, fixture="ipv46"),
    Case("async", {"a": "async", **Z, "v": "a"}),
    Case("fpurge_ts", {"a": "fpurge_ts", **Z, "v": "1"}, fixture="fpurge_ts"),
    Case("zone_file_purge", {"a": "zone_file_purge", **Z,
                             "url": "https://www.example.com/a.css"}, fixture="zone_file_purge"),
    Case("wl", {"a": "wl", **KEY_IP}, fixture="wl"),
    Case("ban", {"a": "ban", **KEY_IP}, fixture="ban"),
    Case("nul", {"a": "nul", **KEY_IP}, setup=({"a": "ban", **KEY_IP},), fixture="nul_"),
    # The error answers clients match on (v1-api.md §2.4), and JSONP.
    Case("error_unauth", {"a": "rec_load_all", **Z, "tkn": "0" * 37}),
    Case("error_invalid_zone", {"a": "rec_load_all", "z": "nope.example"}),
    Case("error_invalid_record", {"a": "rec_edit", **Z, "id": "12345", "type": "A",
                                  "name": "x", "content": "192.0.2.1", "ttl": "1"}),
    Case("error_bad_value", {"a": "sec_lvl", **Z, "v": "medium"}),
    Case("error_no_action", {}),
    Case("jsonp_zone_check", {"a": "zone_check", "zones": "example.com", "callback": "cb"},
         media_type="application/javascript"),
]

RETIRED = ["stats", "zone_ips", "ip_lkup", "ips_lookup", "zone_grab", "minify", "mirage2",
           "pre_purge", "rec_set", "rec_del", "DIUP", "no_such_action"]


# --- frozen time --------------------------------------------------------------------------


def sandbox_of(running: RunningProxy) -> Any:
    """The SandboxState behind the proxy's /client/v4 mount."""
    for route in running.app.routes:
        if isinstance(route, Mount) and route.path == "/client/v4":
            return route.app.state.sandbox
    raise AssertionError("the proxy has no sandbox mounted")


@pytest.fixture
def frozen_proxy(
    start_proxy: Callable[..., RunningProxy], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., RunningProxy]]:
    """start_proxy with every clock an answer can show stuck at NOW."""
    clock = SimpleNamespace(time=lambda: float(NOW))
    monkeypatch.setattr(proxy.templates, "time", clock)
    monkeypatch.setattr(proxy.steps.zone_settings, "time", clock)

    def start(*args: Any, **kwargs: Any) -> RunningProxy:
        running = start_proxy(*args, **kwargs)
        sandbox_of(running).clock = lambda: float(NOW)
        return running

    yield start


# --- golden files --------------------------------------------------------------------------


def check_golden(name: str, content: bytes) -> None:
    path = GOLDEN / f"{name}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(content + b"\n")
        return
    assert path.exists(), f"no golden file {path}; run with CF_V1_UPDATE_GOLDEN=1 to write it"
    expected = path.read_bytes()
    assert expected.endswith(b"\n")
    assert content == expected[:-1]


def envelope_keys_ok(body: dict[str, Any]) -> None:
    """v1-api.md §2.1: request?, response?, result, msg, then err_code or attributes."""
    keys = [k for k in body if k not in ("request", "response")]
    assert list(body)[: len(body) - len(keys)] == [
        k for k in ("request", "response") if k in body]
    assert keys[:2] == ["result", "msg"]
    assert keys[2:] in ([], ["err_code"], ["attributes"])
    if "err_code" in body:
        assert body["err_code"] in ("E_UNAUTH", "E_INVLDINPUT", "E_MAXAPI")
        assert body["result"] == "error"


def resolve(proxy_: RunningProxy, params: dict[str, str]) -> dict[str, str]:
    """`{home}` → the v1 id of home.example.com, found as a client finds it."""
    if "{home}" not in params.values():
        return params
    objs = proxy_.v1(a="rec_load_all", z="example.com").json()["response"]["recs"]["objs"]
    home = next(o["rec_id"] for o in objs if o["name"] == "home.example.com")
    return {k: home if v == "{home}" else v for k, v in params.items()}


@pytest.mark.parametrize("case", MAPPED, ids=[c.name for c in MAPPED])
def test_mapped_action_answers_golden_bytes(
    frozen_proxy: Callable[..., RunningProxy], case: Case
) -> None:
    running = frozen_proxy()
    for step in case.setup:
        assert running.v1(**step).json()["result"] == "success"
    params = resolve(running, case.params)

    response = running.v1(**params)

    assert response.status_code == case.status
    assert response.headers["content-type"].split(";")[0] == case.media_type
    assert response.headers["content-length"] == str(len(response.content))
    check_golden(case.name, response.content)

    text = response.content.decode("ascii")
    if case.media_type == "application/javascript":
        assert text.startswith("cb(") and text.endswith(")")
        text = text[3:-1]
    body = json.loads(text, object_pairs_hook=OrderedDict)
    envelope_keys_ok(body)
    if case.fixture:
        compare_with_capture(body, case.fixture)


def test_retired_actions_answer_golden_410s(frozen_proxy: Callable[..., RunningProxy]) -> None:
    running = frozen_proxy()
    for action in RETIRED:
        response = running.v1(a=action, z="example.com")
        assert response.status_code == 410, action
        assert response.headers["content-type"] == "application/json"
        check_golden(f"gone_{action}", response.content)
        body = json.loads(response.content, object_pairs_hook=OrderedDict)
        assert list(body) == ["request", "result", "msg"]
        assert body["request"] == {"act": action}
    assert running.v4_calls == []


def test_golden_files_are_all_used() -> None:
    """A renamed case must not leave a stale golden file that nothing checks."""
    expected = {f"{c.name}.json" for c in MAPPED} | {f"gone_{a}.json" for a in RETIRED}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


# --- the libcloud captures as a reference for key order and JSON types --------------------

# Keys v1 documents as "string or null": the capture may hold a string where the proxy has
# nothing to say (no SSL id, no registrar), v1-api.md §4.1-4.2.
NULLABLE = {"host_id", "host_pubname", "host_website", "fqdns", "orig_registrar",
            "orig_dnshost", "orig_ns_names", "ssl_id", "ssl_status", "prio", "vtxt"}
# The capture's confirm_code holds live confirmation hashes; the proxy has none (§14.8: {}).
FREE_CONTENT = {"confirm_code"}
# The request echo is in arrival order (§2.6); zone_settings keys after the first six have
# no fixed order in v1 (§5 recommends alphabetical), so only the first six are compared.
ZONE_SETTINGS_ORDERED = 6


def compare_with_capture(ours: Any, fixture: str) -> None:
    ref = json.loads((LIBCLOUD_FIXTURES / f"{fixture}.json").read_text(),
                     object_pairs_hook=OrderedDict)
    problems: list[str] = []
    _compare(ours, ref, "", problems)
    assert not problems, "\n".join(problems)


def json_type(value: Any) -> str:
    """The JSON type; bool is not a number, and a number is not a string."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    raise TypeError(value)


def _compare(ours: Any, ref: Any, path: str, problems: list[str]) -> None:
    key = path.rsplit("/", 1)[-1].removesuffix("[]")
    if ours is None or ref is None:
        if (ours is None) != (ref is None) and key not in NULLABLE:
            problems.append(f"{path}: {ours!r} vs capture {ref!r}")
        return
    if json_type(ours) != json_type(ref):
        problems.append(f"{path}: {json_type(ours)} vs capture {json_type(ref)}")
        return
    if isinstance(ref, dict):
        if key in FREE_CONTENT:
            return
        missing = [k for k in ref if k not in ours]
        if missing:
            problems.append(f"{path}: keys of the capture missing: {missing}")
        shared_ours = [k for k in ours if k in ref]
        shared_ref = [k for k in ref if k in ours]
        if key == "request":
            shared_ours, shared_ref = sorted(shared_ours), sorted(shared_ref)
        elif path.endswith("/result/objs[]"):
            shared_ours = shared_ours[:ZONE_SETTINGS_ORDERED]
            shared_ref = shared_ref[:ZONE_SETTINGS_ORDERED]
        if shared_ours != shared_ref:
            problems.append(f"{path}: key order {shared_ours} vs capture {shared_ref}")
        for k in shared_ref:
            _compare(ours[k], ref[k], f"{path}/{k}", problems)
    elif isinstance(ref, list) and ref:
        for item in ours:
            same = [r for r in ref if isinstance(item, dict) and isinstance(r, dict)
                    and r.get("type") == item.get("type")]
            _compare(item, (same or ref)[0], f"{path}[]", problems)


def test_capture_comparison_catches_order_and_type_changes() -> None:
    """The reference check itself: a swapped pair of keys or a number for a string fails."""
    ref = json.loads((LIBCLOUD_FIXTURES / "rec_new.json").read_text(),
                     object_pairs_hook=OrderedDict)
    swapped = OrderedDict(ref)
    obj = OrderedDict(ref["response"]["rec"]["obj"])
    obj["ttl"] = 120
    swapped["response"] = {"rec": {"obj": obj}}
    problems: list[str] = []
    _compare(swapped, ref, "", problems)
    assert problems == ["/response/rec/obj/ttl: int vs capture str"]

    reordered = OrderedDict(reversed(list(ref["response"]["rec"]["obj"].items())))
    problems = []
    _compare({"response": {"rec": {"obj": reordered}}}, OrderedDict(
        [("response", ref["response"])]), "", problems)
    assert len(problems) == 1 and "key order" in problems[0]

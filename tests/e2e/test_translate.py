"""`cf-v1-proxy translate`: every mapped action prints v4 requests that the schema accepts."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from proxy.cli import main
from proxy.ids import v1_number
from proxy.mapping import load
from proxy.translate import PLACEHOLDER_ID
from tests.e2e.conftest import EMAIL, KEY, RunningProxy, base_seed
from tests.support.openapi import check_v4_request

Z = PLACEHOLDER_ID
ZONE_LOOKUP = "GET /zones"

# A typical call of each mapped action, and the v4 requests (method and path) it becomes.
TYPICAL: dict[str, tuple[dict[str, str], list[str]]] = {
    "rec_load_all": ({"z": "example.com"}, [ZONE_LOOKUP, f"GET /zones/{Z}/dns_records"]),
    "rec_new": ({"z": "example.com", "type": "A", "name": "home", "content": "192.0.2.9",
                 "ttl": "120"}, [ZONE_LOOKUP, f"POST /zones/{Z}/dns_records"]),
    "rec_edit": ({"z": "example.com", "id": "4736797832406948", "type": "A", "name": "home",
                  "content": "192.0.2.10", "service_mode": "1"},
                 [ZONE_LOOKUP, f"GET /zones/{Z}/dns_records",
                  f"PATCH /zones/{Z}/dns_records/{Z}"]),
    "rec_delete": ({"z": "example.com", "id": "4736797832406948"},
                   [ZONE_LOOKUP, f"GET /zones/{Z}/dns_records",
                    f"DELETE /zones/{Z}/dns_records/{Z}"]),
    "zone_load_multi": ({}, ["GET /zones"]),
    "zone_check": ({"zones": "example.com,example.org"}, [ZONE_LOOKUP, ZONE_LOOKUP]),
    "sec_lvl": ({"z": "example.com", "v": "high"},
                [ZONE_LOOKUP, f"PATCH /zones/{Z}/settings/security_level"]),
    "cache_lvl": ({"z": "example.com", "v": "agg"},
                  [ZONE_LOOKUP, f"PATCH /zones/{Z}/settings/cache_level"]),
    "devmode": ({"z": "example.com", "v": "1"},
                [ZONE_LOOKUP, f"PATCH /zones/{Z}/settings/development_mode"]),
    "ipv46": ({"z": "example.com", "v": "1"}, [ZONE_LOOKUP, f"PATCH /zones/{Z}/settings/ipv6"]),
    "async": ({"z": "example.com", "v": "a"},
              [ZONE_LOOKUP, f"PATCH /zones/{Z}/settings/rocket_loader"]),
    "zone_settings": ({"z": "example.com"},
                      [ZONE_LOOKUP] + [f"GET /zones/{Z}/settings/*"] * 18),
    "fpurge_ts": ({"z": "example.com", "v": "1"}, [ZONE_LOOKUP, f"POST /zones/{Z}/purge_cache"]),
    "zone_file_purge": ({"z": "example.com", "url": "https://example.com/css/site.css"},
                        [ZONE_LOOKUP, f"POST /zones/{Z}/purge_cache"]),
    "wl": ({"key": "192.0.2.4"}, ["GET /user/firewall/access_rules/rules",
                                  "POST /user/firewall/access_rules/rules"]),
    "ban": ({"key": "198.51.100.0/24"}, ["GET /user/firewall/access_rules/rules",
                                         "POST /user/firewall/access_rules/rules"]),
    # No rule exists for the address in the placeholder account: nothing to delete.
    "nul": ({"key": "2001:db8::1"}, ["GET /user/firewall/access_rules/rules"]),
}

VARIANTS: list[tuple[dict[str, str], list[str]]] = [
    ({"a": "rec_new", "z": "example.com", "type": "MX", "name": "@", "content": "mx.example.net",
      "prio": "10"}, []),
    ({"a": "rec_new", "z": "example.com", "type": "SRV", "name": "voip", "service": "_sip",
      "protocol": "_tcp", "prio": "1", "weight": "5", "port": "5060",
      "target": "sip.example.com"}, []),
    ({"a": "rec_new", "z": "example.com", "type": "TXT", "name": "_dmarc",
      "content": " v=DMARC1; p=none "}, []),
    ({"a": "rec_new", "z": "bücher.de", "type": "CNAME", "name": "shop",
      "content": "shops.example.net", "service_mode": "1"}, []),
    ({"a": "rec_new", "z": "example.com", "type": "NS", "name": "sub",
      "content": "ns1.example.net"}, []),
    ({"a": "rec_edit", "z": "example.com", "id": "abcdef0123456789abcdef0123456789",
      "type": "AAAA", "name": "v6", "content": "2001:db8::5"},
     [ZONE_LOOKUP, f"GET /zones/{Z}/dns_records/abcdef0123456789abcdef0123456789",
      f"PATCH /zones/{Z}/dns_records/abcdef0123456789abcdef0123456789"]),
    ({"a": "rec_edit", "z": "example.com", "id": "1", "type": "SRV", "port": "5061"}, []),
    ({"a": "rec_edit", "z": "example.com", "id": "1", "type": "MX", "prio": "20"}, []),
    ({"a": "zone_check", "zones": "a.example,b.example,c.example,d.example"},
     ["GET /zones"]),
    ({"a": "rec_load_all", "z": "example.com", "o": "180"}, []),
    ({"a": "rec_load_all", "z": "example.com", "id": "99"}, []),
    ({"a": "devmode", "z": "example.com", "v": "0"}, []),
    ({"a": "ipv46", "z": "example.com", "v": "0"}, []),
]


@dataclass
class Printed:
    method: str
    url: str
    headers: list[str]
    body: Any

    @property
    def shape(self) -> str:
        path = urlsplit(self.url).path.removeprefix("/client/v4")
        if "/settings/" in path and self.method == "GET":
            path = path.rsplit("/", 1)[0] + "/*"
        return f"{self.method} {path}"


def parse_curls(output: str) -> list[Printed]:
    """The curl commands back out of the printed text, as a shell would split them."""
    text = "\n".join(line for line in output.splitlines() if not line.startswith("#"))
    commands = [c for c in text.replace("\\\n", " ").splitlines() if c.strip()]
    printed = []
    for command in commands:
        words = shlex.split(command)
        assert words[:2] == ["curl", "-X"], command
        method, url, rest = words[2], words[3], words[4:]
        headers, body = [], None
        while rest:
            flag, value, *rest = rest
            if flag == "-H":
                headers.append(value)
            else:
                assert flag == "--data", command
                body = json.loads(value)
        printed.append(Printed(method, url, headers, body))
    return printed


def translate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["translate", *args])
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def _no_credentials_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CF_EMAIL", "CF_KEY", "CF_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_every_mapped_action_has_a_typical_call_here() -> None:
    assert sorted(TYPICAL) == load().mapped


@pytest.mark.parametrize("action", sorted(TYPICAL))
def test_each_mapped_action_prints_requests_the_v4_schema_accepts(
    capsys: pytest.CaptureFixture[str], action: str
) -> None:
    params, expected = TYPICAL[action]
    code, output = translate(capsys, urlencode({"a": action, **params}))
    assert code == 0, output
    printed = parse_curls(output)
    assert [p.shape for p in printed] == expected
    for request in printed:
        assert request.url.startswith("https://api.cloudflare.com/client/v4/")
        check_v4_request(request.method, request.url, None, request.body)
        assert request.headers[:2] == ["X-Auth-Email: $CF_EMAIL", "X-Auth-Key: $CF_KEY"]
        assert ("Content-Type: application/json" in request.headers) == (request.body is not None)


@pytest.mark.parametrize(("params", "expected"), VARIANTS,
                         ids=[f"{p['a']}-{n}" for n, (p, _) in enumerate(VARIANTS)])
def test_variants_print_requests_the_v4_schema_accepts(
    capsys: pytest.CaptureFixture[str], params: dict[str, str], expected: list[str]
) -> None:
    code, output = translate(capsys, urlencode(params))
    assert code == 0, output
    printed = parse_curls(output)
    assert printed
    if expected:
        assert [p.shape for p in printed] == expected
    for request in printed:
        check_v4_request(request.method, request.url, None, request.body)


def test_account_scope_and_token_headers(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = translate(capsys, "--access-rules-scope", "account", "--bearer",
                             "a=ban&key=192.0.2.4")
    assert code == 0, output
    printed = parse_curls(output)
    assert [p.shape for p in printed] == [
        "GET /zones", f"GET /accounts/{Z}/firewall/access_rules/rules",
        f"POST /accounts/{Z}/firewall/access_rules/rules"]
    for request in printed:
        check_v4_request(request.method, request.url, None, request.body)
        assert request.headers[0] == "Authorization: Bearer $CF_API_TOKEN"
        assert not any(h.startswith("X-Auth") for h in request.headers)


def test_the_answer_and_a_whole_url_with_credentials_that_are_never_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call = "https://www.cloudflare.com/api_json.html?" + urlencode(
        {"a": "rec_edit", "z": "example.com", "id": "77", "content": "192.0.2.8",
         "email": EMAIL, "tkn": KEY})
    code, output = translate(capsys, "--answer", call)
    assert code == 0, output
    assert KEY not in output
    answer_line = output.splitlines()[-1]
    assert answer_line.startswith("# v1 answer (HTTP 200): ")
    answer = json.loads(answer_line.split(": ", 1)[1])
    assert answer["result"] == "success"
    assert answer["request"]["tkn"] == "[redacted]"
    assert answer["response"]["rec"]["obj"]["content"] == "192.0.2.8"
    # Without credentials a v1 number stands for the placeholder record, whose number the
    # answer shows.
    assert answer["response"]["rec"]["obj"]["rec_id"] == str(v1_number(Z))


@pytest.mark.parametrize(("call", "stand_in"), [
    ("a=rec_edit&z=example.com&id=77&content=192.0.2.8", "A"),
    ("a=rec_edit&z=example.com&id=77&type=MX&content=mx.example.net", "MX"),
    ("a=rec_delete&z=example.com&id=77", "A"),
    ("a=rec_load_all&z=example.com", None),
    ("a=rec_new&z=example.com&type=A&name=x&content=192.0.2.8", None),
])
def test_offline_a_made_up_record_standing_in_for_the_named_one_is_said(
    capsys: pytest.CaptureFixture[str], call: str, stand_in: str | None
) -> None:
    code, output = translate(capsys, call)

    assert code == 0, output
    notes = [line for line in output.splitlines() if "made-up" in line]
    if stand_in is None:
        assert notes == []
    else:
        assert notes == [f"# a made-up {stand_in} record stands for the record the call names "
                         "(its real fields are read only with credentials)"]


@pytest.mark.parametrize("action", [n for n, e in load().actions.items() if e.gone] +
                         ["ips_lookup", "no_such_action"])
def test_retired_and_unknown_actions_print_no_request_and_exit_1(
    capsys: pytest.CaptureFixture[str], action: str
) -> None:
    code, output = translate(capsys, f"a={action}&z=example.com")
    assert code == 1
    assert "curl" not in output
    assert output.startswith("# ")
    assert "no Cloudflare API v4 equivalent (HTTP 410)" in output


def test_a_call_v1_refuses_prints_its_error_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = translate(capsys, "a=sec_lvl&z=example.com&v=bogus")
    assert code == 1
    assert parse_curls(output) == []
    assert output.splitlines()[-1].startswith("# v1 error: Invalid value for v")
    code, output = translate(capsys, "z=example.com")
    assert code == 1 and "# v1 error: No action given." in output


def test_with_credentials_reads_find_real_ids_and_writes_are_never_sent(
    capsys: pytest.CaptureFixture[str], start_proxy: Callable[..., RunningProxy]
) -> None:
    proxy = start_proxy()
    zone_id = proxy.zone_id()
    home = next(r for r in proxy.records() if r["name"] == "home.example.com")
    before = proxy.records()

    upstream = f"{proxy.url}/client/v4"
    # A type change: the real listing shows no conflict, so DELETE + POST.
    call = urlencode({"a": "rec_edit", "z": "example.com", "id": str(v1_number(home["id"])),
                      "type": "CNAME", "content": "origin.example.net"})
    code, output = translate(capsys, "--upstream", upstream, "--email", EMAIL, "--key", KEY,
                             "--answer", call)
    assert code == 0, output
    assert KEY not in output and "reads were sent for real ids" in output
    printed = parse_curls(output)
    records = f"/zones/{zone_id}/dns_records"
    assert [p.shape for p in printed] == [
        ZONE_LOOKUP, f"GET {records}", f"GET {records}", f"DELETE {records}/{home['id']}",
        f"POST {records}"]
    for request in printed:
        assert request.url.startswith(upstream)
        check_v4_request(request.method, request.url, None, request.body)
    assert printed[-1].body == {"type": "CNAME", "name": "home.example.com",
                                "content": "origin.example.net", "ttl": 120, "proxied": False}
    assert proxy.records() == before  # nothing was written


def test_reads_with_a_token(
    capsys: pytest.CaptureFixture[str], start_proxy: Callable[..., RunningProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = base_seed()
    seed["users"][0]["token"] = "translate-token-0123456789"
    proxy = start_proxy(seed)
    monkeypatch.setenv("CF_API_TOKEN", "translate-token-0123456789")
    code, output = translate(capsys, "--upstream", f"{proxy.url}/client/v4",
                             "a=sec_lvl&z=example.com&v=help")
    assert code == 0, output
    printed = parse_curls(output)
    assert [p.shape for p in printed] == [
        ZONE_LOOKUP, f"PATCH /zones/{proxy.zone_id()}/settings/security_level"]
    assert printed[0].headers == ["Authorization: Bearer $CF_API_TOKEN"]
    assert "translate-token" not in output

    code, output = translate(capsys, "--offline", "--upstream", f"{proxy.url}/client/v4",
                             "a=sec_lvl&z=example.com&v=help")
    assert code == 0 and f"/zones/{Z}/settings" in output

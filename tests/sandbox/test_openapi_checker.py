"""The OpenAPI checker itself: it must accept what v4 takes and refuse the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import openapi
from tests.support.openapi import check_v4_request, check_v4_response

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
REC = "372e67954025e0ba6aaa6d586b9e0b59"
RECORDS = f"/zones/{ZONE}/dns_records"
SRV_DATA = {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"}
STAMP = "2026-12-03T10:00:00.000000Z"
RECORD = {"id": REC, "type": "A", "name": "www.example.com", "content": "192.0.2.1",
          "proxiable": True, "proxied": True, "ttl": 1, "settings": {}, "meta": {},
          "comment": None, "tags": [], "created_on": STAMP, "modified_on": STAMP}
INFO = {"page": 1, "per_page": 100, "count": 1, "total_count": 1, "total_pages": 1}


def ok(result: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}


def failure(*codes: int) -> dict[str, Any]:
    errors = [{"code": code, "message": "refused"} for code in codes]
    return {"success": False, "errors": errors, "messages": [], "result": None}


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("GET", "/client/v4/zones", {"name": "example.com", "per_page": "50"}, None),
        ("GET", "/zones?name=example.com&status=active", None, None),
        ("GET", "https://api.cloudflare.com/client/v4/zones?page=2", {"per_page": "5"}, None),
        ("GET", RECORDS, "per_page=1000&page=2&type=A&proxied=true", None),
        ("POST", RECORDS, None, {"type": "A", "name": "www.example.com",
                                 "content": "192.0.2.1", "ttl": 1}),
        # The schema README's first quirk: a valid SRV create trips openapi-core's oneOf.
        ("POST", RECORDS, None, {"type": "SRV", "name": "_sip._tcp.example.com",
                                 "data": SRV_DATA, "ttl": 3600}),
        # The second: a partial PATCH, checked against the type's schema minus `required`.
        ("PATCH", f"{RECORDS}/{REC}", None, {"type": "A", "content": "192.0.2.2"}),
        ("PATCH", f"{RECORDS}/{REC}", None, {"proxied": False}),
        ("DELETE", f"{RECORDS}/{REC}", None, None),
        ("PATCH", f"/zones/{ZONE}/settings/security_level", None, {"value": "high"}),
        ("GET", f"/zones/{ZONE}/settings/development_mode", None, None),
        ("POST", f"/zones/{ZONE}/purge_cache", None, {"files": ["https://example.com/a"]}),
        ("DELETE", f"/user/firewall/access_rules/rules/{REC}", None, {}),
        ("GET", "/user/firewall/access_rules/rules", {"configuration.value": "192.0.2.1"}, None),
    ],
)
def test_requests_v4_accepts_pass(method: str, path: str, query: Any, body: Any) -> None:
    check_v4_request(method, path, query, body)


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "reason"),
    [
        ("GET", "/zones/abc/nothing", None, None, "is not a v4 operation"),
        ("PUT", "/zones", None, None, "is not a v4 operation"),
        ("GET", f"/zones/{ZONE}/settings", None, None, "is retired: bulk zone settings"),
        ("GET", f"/zones/{ZONE}/analytics/dashboard", None, None, "is retired"),
        ("GET", f"/zones/{ZONE}/settings/minify", None, None, "'minify' is retired or unknown"),
        ("GET", "/zones", {"name.contains": "x"}, None, "'name.contains' is not in the schema"),
        ("GET", "/zones", {"per_page": "many"}, None, "query/per_page: 'many' is not of type"),
        ("GET", "/zones", {"per_page": "100"}, None, "query/per_page: 100.0 is greater than"),
        ("GET", "/zones", {"status": "gone"}, None, "query/status: 'gone' is not one of"),
        ("GET", RECORDS, {"proxied": "1"}, None, "query/proxied: '1' is not of type 'boolean'"),
        ("POST", RECORDS, None, {"type": "A", "name": "www.example.com", "content": "192.0.2.1",
                                 "ttl": "1"}, "ttl"),
        ("POST", RECORDS, None, {"type": "SPF", "name": "example.com", "content": "v=spf1"},
         "'SPF' is not a v4 record type"),
        ("POST", RECORDS, None, {"type": "SRV", "name": "_sip._tcp.example.com",
                                 "content": "5 5060 sip.example.com", "data": SRV_DATA},
         "content: Tried to write read-only property"),
        ("POST", RECORDS, None, {"type": "SRV", "name": "_sip._tcp.example.com",
                                 "data": {**SRV_DATA, "service": "_sip"}},
         "data.service is deprecated"),
        ("POST", RECORDS, None, {"type": "MX", "name": "example.com",
                                 "content": "mx.example.net"}, "'priority' is a required"),
        ("POST", RECORDS, None, {"type": "MX", "name": "example.com", "content": "not a host",
                                 "priority": 1}, "is not a 'hostname'"),
        ("PUT", f"{RECORDS}/{REC}", None, {"name": "www.example.com", "content": "192.0.2.1"},
         "type is required"),
        ("PATCH", f"{RECORDS}/{REC}", None, {"type": "A", "content": "nope"},
         "'nope' is not a 'ipv4'"),
        ("PATCH", f"{RECORDS}/{REC}", None, {"zone_name": "example.com"},
         "zone_name was removed"),
        ("PATCH", f"/zones/{ZONE}/settings/security_level", None, {"value": "max"},
         "'max' is not one of"),
        ("PATCH", f"/zones/{ZONE}/settings/ssl", None, {"ssl": "full"}, 'is {"value": …}'),
        ("POST", "/user/firewall/access_rules/rules", None,
         {"mode": "allow", "configuration": {"target": "ip", "value": "192.0.2.1"}},
         "'allow' is not one of"),
        ("DELETE", f"/user/firewall/access_rules/rules/{REC}", None, None,
         "Missing required request body"),
    ],
)
def test_requests_v4_refuses_raise(
    method: str, path: str, query: Any, body: Any, reason: str
) -> None:
    with pytest.raises(AssertionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_v4_request(method, path, query, body)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", f"{RECORDS}/{REC}", 200, ok(RECORD)),
        ("GET", RECORDS, 200, ok([RECORD], result_info=INFO)),
        ("GET", f"/zones/{ZONE}/settings/development_mode", 200,
         ok({"id": "development_mode", "value": "on", "editable": True,
             "modified_on": STAMP, "time_remaining": 10800})),
        ("DELETE", f"{RECORDS}/{REC}", 200, ok({"id": REC})),
        ("GET", f"{RECORDS}/{REC}", 404, failure(81044)),
        ("GET", "/zones", 429, failure(971)),
        ("GET", "/anything/else", 404, failure(7000)),
        ("GET", "/zones", 400, {"success": False, "messages": [], "result": None, "errors": [
            {"code": 6003, "message": "Invalid request headers",
             "error_chain": [{"code": 6103, "message": "Invalid format for X-Auth-Key header"}]},
        ]}),
    ],
)
def test_answers_v4_sends_pass(method: str, path: str, status: int, body: Any) -> None:
    check_v4_response(method, path, status, body)


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "reason"),
    [
        ("GET", f"{RECORDS}/{REC}", 200, ok({**RECORD, "content": "x"}),
         "result/content: 'x' is not a 'ipv4'"),
        ("GET", RECORDS, 200, ok([RECORD, {**RECORD, "type": "SPF"}], result_info=INFO),
         "result/1/type: 'SPF' is not a v4 record type"),
        ("POST", RECORDS, 200, ok({**RECORD, "type": "MX", "content": "mx.example.net",
                                   "proxied": False}),
         "result: 'priority' is a required property"),
        ("POST", RECORDS, 200, ok({**RECORD, "type": "MX", "content": "not a host!",
                                   "priority": 1, "proxied": False}),
         "result/content: 'not a host!' is not a 'hostname'"),
        ("GET", f"{RECORDS}/{REC}", 200, ok({**RECORD, "zone_id": ZONE}),
         "result/zone_id: removed from v4 records"),
        ("GET", RECORDS, 200, ok([RECORD], result_info={**INFO, "total_pages": None}),
         "needs result_info with total_pages"),
        ("GET", f"/zones/{ZONE}", 200, ok({"id": ZONE}), "'name' is a required property"),
        ("GET", f"/zones/{ZONE}/settings/ssl", 200,
         ok({"id": "ssl", "value": "on", "editable": True, "modified_on": None}),
         "'on' is not one of"),
        ("GET", "/zones", 200, {**ok([], result_info=INFO), "success": False},
         "must be an envelope with success true"),
        ("GET", "/zones", 200, ["not", "an", "envelope"], "must be an envelope"),
        ("GET", "/zones", 400, {**failure(1000), "errors": []}, "should be non-empty"),
        ("GET", "/zones", 400, {**failure(1000), "result": {}}, "not a v4 failure envelope"),
        ("GET", "/zones", 400, {"success": False, "errors": [{"code": "9103"}],
                                "messages": [], "result": None}, "'message' is a required"),
        ("GET", "/anything/else", 200, ok(None), "v4 has no such operation"),
    ],
)
def test_answers_v4_never_sends_raise(
    method: str, path: str, status: int, body: Any, reason: str
) -> None:
    with pytest.raises(AssertionError, match=reason):
        check_v4_response(method, path, status, body)


def test_schema_file_can_be_named_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(openapi.ENV_VAR, raising=False)
    default = openapi.spec_file()
    assert default.parts[-3:] == ("shared", "cloudflare-v4-openapi", "openapi-subset.json")
    assert default.parent.parent.parent == Path(openapi.__file__).resolve().parents[3]
    monkeypatch.setenv(openapi.ENV_VAR, str(tmp_path / "other.json"))
    assert openapi.spec_file() == tmp_path / "other.json"

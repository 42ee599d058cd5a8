"""Credentials: v4's answers for missing, malformed and unknown headers, on every route."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import EMAIL, KEY, OTHER_EMAIL, TOKEN, V4, ZONE, codes

MALFORMED_EMAIL = {"code": 6102, "message": "Invalid format for X-Auth-Email header"}
MALFORMED_KEY = {"code": 6103, "message": "Invalid format for X-Auth-Key header"}


def test_key_pair_lists_the_users_zones(v4: V4) -> None:
    zones = v4.ok("GET", "/zones")
    assert [z["name"] for z in zones] == ["example.com", "example.org"]


def test_email_matches_case_insensitively(v4: V4) -> None:
    zones = v4.ok("GET", "/zones", headers={"X-Auth-Email": EMAIL.upper(), "X-Auth-Key": KEY})
    assert len(zones) == 2


def test_bearer_token_reaches_the_same_zones(v4: V4) -> None:
    zones = v4.ok("GET", "/zones", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [z["id"] for z in zones] == ["c" * 32, "d" * 32]


@pytest.mark.parametrize("headers", [{}, {"X-Auth-Email": EMAIL}, {"X-Auth-Key": KEY}])
def test_missing_credentials_answer_9106(v4: V4, headers: dict[str, str]) -> None:
    errors = v4.fail(400, "GET", "/zones", headers=headers)
    assert errors == [{"code": 9106,
                       "message": "Missing X-Auth-Key, X-Auth-Email or Authorization headers"}]


@pytest.mark.parametrize(
    ("email", "key", "chain"),
    [
        ("ops.example.com", KEY, [MALFORMED_EMAIL]),
        ("ops @example.com", KEY, [MALFORMED_EMAIL]),
        ("ops@example.com\t", KEY, [MALFORMED_EMAIL]),
        (EMAIL, "not a key!", [MALFORMED_KEY]),
        (EMAIL, "k" * 129, [MALFORMED_KEY]),
        ("nobody", "", [MALFORMED_EMAIL, MALFORMED_KEY]),
    ],
)
def test_malformed_headers_answer_6003_with_the_header_in_the_chain(
    v4: V4, email: str, key: str, chain: list[dict[str, object]]
) -> None:
    errors = v4.fail(400, "GET", "/zones", headers={"X-Auth-Email": email, "X-Auth-Key": key})
    assert errors == [{"code": 6003, "message": "Invalid request headers", "error_chain": chain}]


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer has space", TOKEN])
def test_malformed_authorization_answers_6003_6111(v4: V4, value: str) -> None:
    errors = v4.fail(400, "GET", "/zones", headers={"Authorization": value})
    assert codes(errors) == [6003]
    assert codes(errors[0]["error_chain"]) == [6111]


def test_both_schemes_at_once_are_refused(v4: V4) -> None:
    headers = {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY, "Authorization": f"Bearer {TOKEN}"}
    errors = v4.fail(400, "GET", "/zones", headers=headers)
    assert codes(errors) == [6003] and codes(errors[0]["error_chain"]) == [6111]


def test_unknown_token_answers_1000(v4: V4) -> None:
    errors = v4.fail(400, "GET", "/zones", headers={"Authorization": "Bearer nope"})
    assert errors == [{"code": 1000, "message": "Invalid API Token"}]


@pytest.mark.parametrize(("email", "key"), [(EMAIL, "f" * 37), (OTHER_EMAIL, KEY)])
def test_wrong_pair_answers_403_9103(v4: V4, email: str, key: str) -> None:
    errors = v4.fail(403, "GET", "/zones", headers={"X-Auth-Email": email, "X-Auth-Key": key})
    assert errors == [{"code": 9103, "message": "Unknown X-Auth-Key or X-Auth-Email"}]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/zones/{ZONE}", None),
        ("GET", f"/zones/{ZONE}/dns_records", None),
        ("POST", f"/zones/{ZONE}/dns_records",
         {"type": "A", "name": "x.example.com", "content": "192.0.2.9"}),
        ("DELETE", f"/zones/{ZONE}/dns_records/{'1' * 32}", None),
        ("PATCH", f"/zones/{ZONE}/settings/ssl", {"value": "full"}),
        ("POST", f"/zones/{ZONE}/purge_cache", {"purge_everything": True}),
        ("GET", "/user/firewall/access_rules/rules", None),
        ("GET", f"/accounts/{'a' * 32}/firewall/access_rules/rules", None),
    ],
)
def test_every_route_wants_credentials_and_changes_nothing_without(
    v4: V4, method: str, path: str, body: object
) -> None:
    before = len(v4.state.zones[ZONE].records)
    errors = v4.fail(400, method, path, body, headers={})
    assert codes(errors) == [9106]
    assert len(v4.state.zones[ZONE].records) == before
    assert v4.state.purges == []

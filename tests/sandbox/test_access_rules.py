"""IP access rules at user and account level, and the seed flag that removes the user level."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from proxy.sandbox.access_rules import MODES
from tests.sandbox.conftest import EMAIL, OTHER_EMAIL, OTHER_KEY, UNKNOWN_ID, V4, base_seed, codes

USER_RULES = "/user/firewall/access_rules/rules"
ACCOUNT = "a" * 32
ACCOUNT_RULES = f"/accounts/{ACCOUNT}/firewall/access_rules/rules"


def rule(mode: str, target: str, value: str, notes: str = "cf-v1-proxy") -> dict[str, Any]:
    return {"mode": mode, "configuration": {"target": target, "value": value}, "notes": notes}


def test_create_answers_the_v4_rule_object(v4: V4) -> None:
    created = v4.ok("POST", USER_RULES, rule("block", "ip", "198.51.100.4"))
    assert created == {
        "id": created["id"],
        "paused": False,
        "mode": "block",
        "allowed_modes": list(MODES),
        "configuration": {"target": "ip", "value": "198.51.100.4"},
        "notes": "cf-v1-proxy",
        "created_on": "2026-12-03T10:00:00.000000Z",
        "modified_on": "2026-12-03T10:00:00.000000Z",
        "scope": {"id": v4.state.users[0].id, "email": EMAIL, "type": "user"},
    }
    assert len(created["id"]) == 32


@pytest.mark.parametrize(
    ("target", "value", "stored"),
    [
        ("ip6", "2001:DB8:0::1", "2001:db8::1"),
        ("ip_range", "198.51.100.0/24", "198.51.100.0/24"),
        ("ip_range", "10.1.0.0/16", "10.1.0.0/16"),
        ("ip_range", "2001:db8:1::/48", "2001:db8:1::/48"),
        ("ip_range", "2001:db8::/32", "2001:db8::/32"),
        ("ip_range", "2001:db8:1:2::/64", "2001:db8:1:2::/64"),
        ("asn", "as13335", "AS13335"),
        ("country", "de", "DE"),
    ],
)
def test_targets_are_normalised(v4: V4, target: str, value: str, stored: str) -> None:
    created = v4.ok("POST", USER_RULES, rule("whitelist", target, value))
    assert created["configuration"] == {"target": target, "value": stored}


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (rule("allow", "ip", "198.51.100.4"), False),
        (rule("block", "ip", "198.51.100.256"), True),
        (rule("block", "ip", "2001:db8::1"), True),
        (rule("block", "ip6", "198.51.100.4"), True),
        (rule("block", "ip_range", "198.51.100.0/20"), True),
        (rule("block", "ip_range", "198.51.100.1/24"), True),
        (rule("block", "ip_range", "2001:db8::/56"), True),
        (rule("block", "hostname", "example.com"), False),
        (rule("block", "asn", "AS-x"), True),
        (rule("block", "country", "Germany"), True),
        ({"mode": "block"}, False),
        ({**rule("block", "ip", "198.51.100.4"), "notes": 7}, False),
    ],
)
def test_invalid_rules_answer_10001(v4: V4, body: dict[str, Any], valid: bool) -> None:
    errors = v4.fail(400, "POST", USER_RULES, body, valid_request=valid)
    assert codes(errors) == [10001]
    assert v4.state.rules_in(v4.state.user_scope(v4.state.users[0], "")) == []


def test_a_second_rule_for_the_same_target_answers_10009(v4: V4) -> None:
    v4.ok("POST", USER_RULES, rule("block", "ip6", "2001:db8::1"))
    errors = v4.fail(400, "POST", USER_RULES, rule("whitelist", "ip6", "2001:DB8::0:1"))
    assert errors == [{"code": 10009, "message": "firewallaccessrules.api.duplicate_of_existing"}]


def test_list_filters_and_pages(v4: V4) -> None:
    for n in range(1, 6):
        mode = "block" if n % 2 else "whitelist"
        v4.ok("POST", USER_RULES, rule(mode, "ip", f"198.51.100.{n}", notes=f"note {n}"))
    v4.ok("POST", USER_RULES, rule("block", "ip6", "2001:db8::1"))

    def values(**query: Any) -> list[str]:
        return [r["configuration"]["value"] for r in v4.page(USER_RULES, **query)[0]]

    assert values(**{"configuration.value": "198.51.100.3"}) == ["198.51.100.3"]
    assert values(**{"configuration.value": "2001:DB8::1"}) == ["2001:db8::1"]
    assert values(mode="whitelist") == ["198.51.100.2", "198.51.100.4"]
    assert values(notes="NOTE 5") == ["198.51.100.5"]
    assert values(**{"configuration.target": "ip", "mode": "whitelist"}) == [
        "198.51.100.2", "198.51.100.4"]
    assert values(**{"mode": "whitelist", "notes": "note 5", "match": "any"}) == [
        "198.51.100.2", "198.51.100.4", "198.51.100.5"]
    assert values(order="configuration.value", direction="desc")[0] == "2001:db8::1"
    page, info = v4.page(USER_RULES, per_page=4, page=2)
    assert len(page) == 2
    assert info == {"page": 2, "per_page": 4, "count": 2, "total_count": 6, "total_pages": 2}


def test_patch_changes_mode_and_notes_only(v4: V4) -> None:
    created = v4.ok("POST", USER_RULES, rule("block", "ip", "198.51.100.4"))
    path = f"{USER_RULES}/{created['id']}"
    v4.clock.advance(1)
    changed = v4.ok("PATCH", path, {"mode": "whitelist", "notes": "now allowed"})
    assert (changed["mode"], changed["notes"], changed["modified_on"]) == (
        "whitelist", "now allowed", "2026-12-03T10:00:01.000000Z")
    errors = v4.fail(400, "PATCH", path,
                     {"configuration": {"target": "ip", "value": "198.51.100.5"}})
    assert codes(errors) == [10001]
    errors = v4.fail(400, "PATCH", path, {"mode": "allow", "notes": "x"}, valid_request=False)
    assert codes(errors) == [10001]
    assert v4.ok("PATCH", path, {})["mode"] == "whitelist"


@pytest.mark.parametrize("body", [{}, None])
def test_delete_answers_the_id_with_or_without_a_body(v4: V4, body: Any) -> None:
    created = v4.ok("POST", USER_RULES, rule("block", "ip", "198.51.100.4"))
    path = f"{USER_RULES}/{created['id']}"
    assert v4.ok("DELETE", path, body, valid_request=body is not None) == {"id": created["id"]}
    assert v4.page(USER_RULES)[0] == []


def test_unknown_and_malformed_rule_ids(v4: V4) -> None:
    errors = v4.fail(404, "PATCH", f"{USER_RULES}/{UNKNOWN_ID}", {"mode": "block"})
    assert errors == [{"code": 10007, "message": "firewallaccessrules.api.not_found"}]
    assert codes(v4.fail(400, "DELETE", f"{USER_RULES}/42", {})) == [7003, 7000]


def test_a_single_user_rule_cannot_be_read(v4: V4) -> None:
    created = v4.ok("POST", USER_RULES, rule("block", "ip", "198.51.100.4"))
    response = v4.call("GET", f"{USER_RULES}/{created['id']}", valid_request=False)
    assert response.status_code == 405
    assert codes(response.json()["errors"]) == [10405]


def test_account_rules_live_apart_from_user_rules(v4: V4) -> None:
    user_rule = v4.ok("POST", USER_RULES, rule("block", "ip", "198.51.100.4"))
    created = v4.ok("POST", ACCOUNT_RULES, rule("block", "ip", "198.51.100.4"))
    assert created["scope"] == {"id": ACCOUNT, "name": "Ops Account", "type": "account"}
    assert v4.ok("GET", f"{ACCOUNT_RULES}/{created['id']}") == created
    assert [r["id"] for r in v4.page(ACCOUNT_RULES)[0]] == [created["id"]]
    assert codes(v4.fail(404, "GET", f"{ACCOUNT_RULES}/{user_rule['id']}")) == [10007]
    changed = v4.ok("PATCH", f"{ACCOUNT_RULES}/{created['id']}",
                    {"mode": "challenge", "configuration": created["configuration"]})
    assert changed["mode"] == "challenge"
    assert v4.ok("DELETE", f"{ACCOUNT_RULES}/{created['id']}", {}) == {"id": created["id"]}


def test_other_accounts_answer_403_10000(v4: V4) -> None:
    other_account = v4.state.users[1].account.id
    path = f"/accounts/{other_account}/firewall/access_rules/rules"
    errors = v4.fail(403, "GET", path)
    assert errors == [{"code": 10000, "message": "Authentication error"}]
    assert codes(v4.fail(403, "POST", path, rule("block", "ip", "198.51.100.4"))) == [10000]
    assert codes(v4.fail(400, "GET", "/accounts/nope/firewall/access_rules/rules")) == [
        7003, 7000]


def test_user_without_user_level_rules_falls_back_to_its_accounts(
    make_v4: Callable[..., V4]
) -> None:
    seed = base_seed()
    seed["users"][1]["user_access_rules"] = False
    seed["users"][1]["zones"].append(
        {"name": "corp.example", "account": {"id": "b" * 32, "name": "Corp"}}
    )
    other = make_v4(seed).as_user(OTHER_EMAIL, OTHER_KEY)
    for method, body in (("GET", None), ("POST", rule("block", "ip", "198.51.100.4"))):
        errors = other.fail(400, method, USER_RULES, body)
        assert errors == [
            {"code": 7003, "message": f"Could not route to {USER_RULES}, perhaps your object "
                                      "identifier is invalid?"},
            {"code": 7000, "message": "No route for that URI"},
        ]
    org_rules = f"/accounts/{'b' * 32}/firewall/access_rules/rules"
    created = other.ok("POST", org_rules, rule("block", "ip", "198.51.100.4"))
    assert created["scope"] == {"id": "b" * 32, "name": "Corp", "type": "account"}
    own = other.state.users[1].account.id
    assert other.page(f"/accounts/{own}/firewall/access_rules/rules")[0] == []

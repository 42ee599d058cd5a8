"""DNS record reads, PATCH (partial), PUT (full replace), DELETE, and retired type changes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import UNKNOWN_ID, V4, WWW_A, ZONE, codes

RECORDS = f"/zones/{ZONE}/dns_records"
WWW = f"{RECORDS}/{WWW_A}"
BLOG = f"{RECORDS}/{'3' * 32}"
MX = f"{RECORDS}/{'4' * 32}"


def stored(v4: V4, record_id: str = WWW_A) -> Any:
    return v4.state.zones[ZONE].records[record_id].fields


def test_patch_changes_only_what_it_sends_and_keeps_proxied(v4: V4) -> None:
    v4.clock.advance(60)
    record = v4.ok("PATCH", WWW, {"content": "192.0.2.99"})
    assert {k: record[k] for k in ("content", "proxied", "ttl", "name", "type")} == {
        "content": "192.0.2.99", "proxied": True, "ttl": 1, "name": "www.example.com",
        "type": "A",
    }
    assert record["created_on"] == "2026-12-03T10:00:00.000000Z"
    assert record["modified_on"] == "2026-12-03T10:01:00.000000Z"


def test_patch_can_turn_proxying_off_alone(v4: V4) -> None:
    record = v4.ok("PATCH", WWW, {"proxied": False})
    assert (record["proxied"], record["content"]) == (False, "192.0.2.1")


def test_patch_with_the_same_type_is_allowed(v4: V4) -> None:
    record = v4.ok("PATCH", MX, {"type": "MX", "priority": 20, "ttl": 300})
    assert (record["priority"], record["ttl"], record["content"]) == (20, 300, "mx1.example.net")


def test_put_replaces_the_record_and_resets_what_it_leaves_out(v4: V4) -> None:
    v4.ok("PATCH", WWW, {"ttl": 300, "comment": "keep?"})
    record = v4.ok("PUT", WWW, {"type": "A", "name": "www.example.com", "content": "192.0.2.7"})
    assert {k: record[k] for k in ("content", "proxied", "ttl", "comment", "id")} == {
        "content": "192.0.2.7", "proxied": False, "ttl": 1, "comment": None, "id": WWW_A,
    }


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_changing_the_type_in_place_is_refused(v4: V4, method: str) -> None:
    body = {"type": "A", "name": "blog.example.com", "content": "192.0.2.5"}
    errors = v4.fail(400, method, BLOG, body)
    assert codes(errors) == [9032]
    assert "delete the record and create a new one" in errors[0]["message"]
    assert stored(v4, "3" * 32).type == "CNAME"


def test_put_without_type_is_refused(v4: V4) -> None:
    errors = v4.fail(400, "PUT", WWW, {"name": "www.example.com", "content": "192.0.2.7"},
                     valid_request=False)
    assert codes(errors) == [1004]


@pytest.mark.parametrize(
    ("body", "code", "valid"),
    [
        ({"type": "A", "ttl": 5}, 9021, False),
        ({"type": "A", "ttl": "120"}, 1004, False),
        ({"type": "A", "content": "not-an-ip"}, 9005, False),
        ({"name": "blog.example.com"}, 81053, True),
        ({"content": "10.0.0.8"}, 9041, True),
    ],
)
def test_a_refused_patch_changes_nothing(
    v4: V4, body: dict[str, Any], code: int, valid: bool
) -> None:
    before = stored(v4)
    assert codes(v4.fail(400, "PATCH", WWW, body, valid_request=valid)) == [code]
    assert stored(v4) == before


def test_patching_into_an_identical_record_answers_81057(v4: V4) -> None:
    other = v4.ok("POST", RECORDS, {"type": "A", "name": "www.example.com",
                                    "content": "192.0.2.2"})
    errors = v4.fail(400, "PATCH", f"{RECORDS}/{other['id']}", {"content": "192.0.2.1"})
    assert codes(errors) == [81057]


def test_srv_data_can_be_patched(v4: V4) -> None:
    data = {"priority": 1, "weight": 2, "port": 5060, "target": "sip.example.com"}
    srv = v4.ok("POST", RECORDS, {"type": "SRV", "name": "_sip._udp.example.com", "data": data})
    record = v4.ok("PATCH", f"{RECORDS}/{srv['id']}", {"data": {**data, "port": 5061}})
    assert (record["content"], record["priority"]) == ("2 5061 sip.example.com", 1)


def test_delete_answers_the_id_and_the_record_is_gone(v4: V4) -> None:
    assert v4.ok("DELETE", WWW) == {"id": WWW_A}
    assert codes(v4.fail(404, "GET", WWW)) == [81044]
    assert WWW_A not in v4.state.zones[ZONE].records


def test_delete_accepts_an_empty_json_body(v4: V4) -> None:
    assert v4.ok("DELETE", BLOG, {}) == {"id": "3" * 32}


def test_unknown_record_answers_404_81044(v4: V4) -> None:
    for method, body in (("GET", None), ("PATCH", {"ttl": 120}), ("DELETE", None)):
        errors = v4.fail(404, method, f"{RECORDS}/{UNKNOWN_ID}", body)
        assert errors == [{"code": 81044, "message": "Record does not exist."}]


def test_a_record_of_another_zone_is_unknown_here(v4: V4) -> None:
    errors = v4.fail(404, "GET", f"/zones/{'d' * 32}/dns_records/{WWW_A}")
    assert codes(errors) == [81044]


@pytest.mark.parametrize("record_id", ["12345", "Z" * 32, "1" * 31])
def test_malformed_record_id_answers_7003_7000(v4: V4, record_id: str) -> None:
    path = f"{RECORDS}/{record_id}"
    errors = v4.fail(400, "GET", path)
    assert errors[0]["message"] == (
        f"Could not route to {path}, perhaps your object identifier is invalid?"
    )
    assert codes(errors) == [7003, 7000]

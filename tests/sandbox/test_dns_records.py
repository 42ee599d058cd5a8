"""DNS records: the v4 record object, listing, and what a create must hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import V4, WWW_A, ZONE, codes

RECORDS = f"/zones/{ZONE}/dns_records"


def test_record_object_has_the_v4_fields_and_none_of_the_removed_ones(v4: V4) -> None:
    assert v4.ok("GET", f"{RECORDS}/{WWW_A}") == {
        "id": WWW_A,
        "name": "www.example.com",
        "type": "A",
        "content": "192.0.2.1",
        "proxiable": True,
        "proxied": True,
        "ttl": 1,
        "settings": {},
        "meta": {},
        "comment": None,
        "tags": [],
        "created_on": "2026-12-03T10:00:00.000000Z",
        "modified_on": "2026-12-03T10:00:00.000000Z",
    }


def test_list_is_ordered_by_type_then_name(v4: V4) -> None:
    v4.ok("POST", RECORDS, {"type": "A", "name": "api.example.com", "content": "192.0.2.5"})
    records, info = v4.page(RECORDS)
    assert [(r["type"], r["name"]) for r in records] == [
        ("A", "api.example.com"), ("A", "www.example.com"), ("AAAA", "www.example.com"),
        ("CNAME", "blog.example.com"), ("MX", "example.com"), ("TXT", "example.com"),
    ]
    assert info == {"page": 1, "per_page": 100, "count": 6, "total_count": 6, "total_pages": 1}
    assert [r.get("priority") for r in records if r["type"] == "MX"] == [10]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({"type": "A"}, ["1"]),
        ({"name": "WWW.example.com."}, ["1", "2"]),
        ({"name": "www"}, []),
        ({"name": "contains:www"}, []),
        ({"content": "2001:DB8:0::1"}, ["2"]),
        ({"content": "WWW.EXAMPLE.COM"}, ["3"]),
        ({"proxied": "true"}, ["1"]),
        ({"type": "MX", "name": "www.example.com"}, []),
        ({"type": "MX", "name": "blog.example.com", "match": "any"}, ["3", "4"]),
        ({"order": "name"}, ["3", "4", "5", "1", "2"]),
        ({"order": "name", "direction": "desc"}, ["2", "1", "5", "4", "3"]),
        ({"order": "ttl", "direction": "desc"}, ["4", "5", "3", "2", "1"]),
    ],
)
def test_record_filters(v4: V4, query: dict[str, str], ids: list[str]) -> None:
    records, info = v4.page(RECORDS, **query)
    assert [r["id"][0] for r in records] == ids
    assert info["total_count"] == len(ids)


def test_records_are_paged(v4: V4) -> None:
    first, info = v4.page(RECORDS, per_page=2)
    assert info == {"page": 1, "per_page": 2, "count": 2, "total_count": 5, "total_pages": 3}
    last, info = v4.page(RECORDS, per_page=2, page=3)
    assert [r["type"] for r in first + last] == ["A", "AAAA", "TXT"]


@pytest.mark.parametrize(
    "query", [{"per_page": "0"}, {"per_page": "5000001"}, {"page": "0"}, {"order": "id"},
              {"proxied": "yes"}, {"match": "some"}],
)
def test_bad_record_listing_is_refused_with_1001(v4: V4, query: dict[str, str]) -> None:
    errors = v4.fail(400, "GET", RECORDS, params=query, valid_request=False)
    assert codes(errors) == [1001]


def test_records_of_an_unreachable_zone_answer_7003(v4: V4) -> None:
    path = f"/zones/{'e' * 32}/dns_records"
    errors = v4.fail(400, "GET", path)
    assert codes(errors) == [7003, 7000]
    assert errors[0]["message"] == (
        f"Could not route to {path}, perhaps your object identifier is invalid?"
    )


def create(v4: V4, body: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = v4.ok("POST", RECORDS, body)
    return record


def test_create_answers_the_stored_record_with_a_new_id(v4: V4) -> None:
    v4.clock.advance(90)
    record = create(v4, {"type": "A", "name": "new.example.com", "content": "192.0.2.44",
                         "ttl": 300, "comment": "made by a test", "tags": ["team:dns"]})
    assert len(record["id"]) == 32 and record["id"] in v4.state.zones[ZONE].records
    assert {k: record[k] for k in ("name", "content", "ttl", "proxied", "comment", "tags")} == {
        "name": "new.example.com", "content": "192.0.2.44", "ttl": 300, "proxied": False,
        "comment": "made by a test", "tags": ["team:dns"],
    }
    assert record["created_on"] == record["modified_on"] == "2026-12-03T10:01:30.000000Z"
    assert v4.ok("GET", f"{RECORDS}/{record['id']}") == record


def test_generated_ids_are_deterministic(make_v4: Callable[..., V4]) -> None:
    def run() -> list[str]:
        v4 = make_v4()
        return [create(v4, {"type": "TXT", "name": f"t{n}.example.com", "content": "x"})["id"]
                for n in range(3)]

    first, second = run(), run()
    assert first == second
    assert len(set(first)) == 3


@pytest.mark.parametrize(
    ("name", "stored"),
    [("@", "example.com"), ("example.com", "example.com"),
     ("Mixed.Example.COM.", "mixed.example.com"),
     ("bücher.example.com", "xn--bcher-kva.example.com"), ("*.example.com", "*.example.com"),
     ("_dmarc.example.com", "_dmarc.example.com")],
)
def test_names_are_stored_as_lowercase_punycode_fqdns(v4: V4, name: str, stored: str) -> None:
    record = create(v4, {"type": "TXT", "name": name, "content": "v=DMARC1; p=none"})
    assert record["name"] == stored


@pytest.mark.parametrize("name", ["www", "www.example.org", "example.com.evil", "a..example.com",
                                  "-bad.example.com"])
def test_names_outside_the_zone_answer_9000(v4: V4, name: str) -> None:
    errors = v4.fail(400, "POST", RECORDS, {"type": "A", "name": name, "content": "192.0.2.8"})
    assert codes(errors) == [9000]


def test_content_is_normalised_per_type(v4: V4) -> None:
    aaaa = create(v4, {"type": "AAAA", "name": "v6.example.com", "content": "2001:0db8:0::0042"})
    cname = create(v4, {"type": "CNAME", "name": "c.example.com",
                        "content": "Target.Example.NET."})
    text = 'v=spf1 "quoted" ünïcødé ✓'
    txt = create(v4, {"type": "TXT", "name": "t.example.com", "content": text})
    assert (aaaa["content"], cname["content"], txt["content"]) == (
        "2001:db8::42", "target.example.net", text
    )


def test_srv_takes_name_and_data_and_builds_content(v4: V4) -> None:
    record = create(v4, {
        "type": "SRV", "name": "_sip._tcp.example.com", "ttl": 3600,
        "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"},
    })
    assert {k: record[k] for k in ("name", "content", "priority", "data", "proxiable")} == {
        "name": "_sip._tcp.example.com", "content": "5 5060 sip.example.com", "priority": 10,
        "data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.com"},
        "proxiable": False,
    }


def test_mx_keeps_its_priority_and_twin_hosts_may_differ_in_it(v4: V4) -> None:
    record = create(v4, {"type": "MX", "name": "example.com", "content": "mx1.example.net",
                         "priority": 20, "ttl": 1})
    assert (record["priority"], record["proxiable"]) == (20, False)


def test_unknown_fields_are_ignored(v4: V4) -> None:
    record = create(v4, {"type": "A", "name": "u.example.com", "content": "192.0.2.3",
                         "favourite_colour": "blue"})
    assert "favourite_colour" not in record


def test_a_private_address_is_not_proxiable(v4: V4) -> None:
    record = create(v4, {"type": "A", "name": "lan.example.com", "content": "10.1.2.3"})
    assert (record["proxiable"], record["proxied"]) == (False, False)


A = {"type": "A", "name": "n.example.com", "content": "192.0.2.9"}
MX = {"type": "MX", "name": "example.com", "content": "mx9.example.net", "priority": 5}
SRV = {"type": "SRV", "name": "_sip._tcp.example.com",
       "data": {"priority": 1, "weight": 1, "port": 5060, "target": "sip.example.com"}}


@pytest.mark.parametrize(
    ("body", "code", "valid"),
    [
        ({**A, "type": "SPF"}, 9020, False),
        ({**A, "type": "a"}, 9020, False),
        ({key: A[key] for key in ("type", "name")}, 1004, False),
        ({**A, "ttl": "300"}, 1004, False),
        ({**A, "ttl": True}, 1004, False),
        ({**A, "ttl": 30}, 9021, True),
        ({**A, "ttl": 0}, 9021, False),
        ({**A, "ttl": 86401}, 9021, False),
        ({**A, "proxied": "true"}, 1004, False),
        ({**A, "content": "192.0.2.300"}, 9005, False),
        ({**A, "type": "AAAA"}, 9006, False),
        ({**A, "type": "CNAME", "content": "192.0.2.9"}, 9007, True),
        ({**A, "type": "NS", "content": "not a host"}, 9007, True),
        ({**MX, "content": "not a host"}, 9007, False),
        ({**A, "content": "10.0.0.1", "proxied": True}, 9041, True),
        ({**MX, "proxied": True}, 9041, True),
        ({key: MX[key] for key in ("type", "name", "content")}, 1004, False),
        ({**MX, "priority": 70000}, 9100, False),
        ({**MX, "priority": "5"}, 1004, False),
        ({**SRV, "name": "sip.example.com"}, 9101, True),
        ({**SRV, "data": {**SRV["data"], "port": 70000}}, 9101, False),
        ({**SRV, "data": {**SRV["data"], "target": "1.2.3.4"}}, 9101, False),
        ({**SRV, "data": None}, 1004, False),
        ({**A, "type": "TXT", "content": "x" * 2049}, 9102, True),
        ({**A, "comment": 5}, 1004, False),
        ({}, 1004, False),
    ],
)
def test_invalid_records_are_refused_with_their_code(
    v4: V4, body: dict[str, Any], code: int, valid: bool
) -> None:
    before = dict(v4.state.zones[ZONE].records)
    errors = v4.fail(400, "POST", RECORDS, body, valid_request=valid)
    assert codes(errors) == [code]
    assert v4.state.zones[ZONE].records == before


def test_ttl_error_has_v4s_message(v4: V4) -> None:
    errors = v4.fail(400, "POST", RECORDS, {**A, "ttl": 30})
    assert errors == [{"code": 9021, "message": "Invalid TTL. Must be between 60 and 86400 "
                                                "seconds, or 1 for Automatic."}]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "A", "name": "www.example.com", "content": "192.0.2.1"}, 81057),
        ({"type": "TXT", "name": "example.com", "content": "v=spf1 -all", "ttl": 300}, 81057),
        ({"type": "A", "name": "blog.example.com", "content": "192.0.2.1"}, 81053),
        ({"type": "CNAME", "name": "www.example.com", "content": "example.com"}, 81053),
        ({"type": "CNAME", "name": "blog.example.com", "content": "example.net"}, 81053),
        ({"type": "TXT", "name": "blog.example.com", "content": "x"}, 81053),
        ({"type": "NS", "name": "www.example.com", "content": "ns1.example.net"}, 81056),
    ],
)
def test_conflicting_records_are_refused(v4: V4, body: dict[str, Any], code: int) -> None:
    errors = v4.fail(400, "POST", RECORDS, body)
    assert codes(errors) == [code]


def test_conflict_messages_are_v4s(v4: V4) -> None:
    duplicate = v4.fail(400, "POST", RECORDS,
                        {"type": "A", "name": "www.example.com", "content": "192.0.2.1"})
    clash = v4.fail(400, "POST", RECORDS,
                    {"type": "A", "name": "blog.example.com", "content": "192.0.2.1"})
    assert duplicate == [{"code": 81057, "message": "Record already exists."}]
    assert clash == [{"code": 81053, "message": "An A, AAAA, or CNAME record with that host "
                                                "already exists."}]


@pytest.mark.parametrize("content", [
    b"{not json", b"[1, 2]", b'{"ttl": NaN}', b"\xff\xfe", b"[" * 100_000,
    b'{"type": "TXT", "name": "example.com", "content": "\\ud800"}',
])
def test_a_body_that_is_not_a_json_object_answers_6007(v4: V4, content: bytes) -> None:
    errors = v4.fail(400, "POST", RECORDS, content=content)
    assert codes(errors) == [6007]

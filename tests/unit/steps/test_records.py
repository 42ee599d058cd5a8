"""DNS record helpers: v1 names as v4 FQDNs, and the listing order (`v1-api.md` §3.10, §6)."""

from __future__ import annotations

import pytest

from proxy.errors import V1Error
from proxy.steps.records import record_fqdn, sort_key

ZONE = "example.com"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("www", "www.example.com"),
        ("a.b", "a.b.example.com"),
        ("@", "example.com"),
        ("", "example.com"),
        ("  ", "example.com"),
        (" @ ", "example.com"),
        ("example.com", "example.com"),
        ("example.com.", "example.com"),
        ("www.example.com", "www.example.com"),
        ("www.example.com.", "www.example.com"),
        ("WWW.Example.COM", "www.example.com"),
        ("Home", "home.example.com"),
        ("_dmarc", "_dmarc.example.com"),
        ("_sip._tcp", "_sip._tcp.example.com"),
        ("*", "*.example.com"),
        ("*.dev", "*.dev.example.com"),
        ("bücher", "xn--bcher-kva.example.com"),
        ("Bücher.example.com", "xn--bcher-kva.example.com"),
        ("xn--bcher-kva", "xn--bcher-kva.example.com"),
        ("notexample.com", "notexample.com.example.com"),
        ("a" * 63, "a" * 63 + ".example.com"),
    ],
)
def test_record_fqdn(name: str, expected: str) -> None:
    assert record_fqdn(name, ZONE) == expected


def test_record_fqdn_in_an_idn_zone() -> None:
    zone = "xn--bcher-kva.de"
    assert record_fqdn("www", zone) == "www.xn--bcher-kva.de"
    assert record_fqdn("www.bücher.de", zone) == "www.xn--bcher-kva.de"
    assert record_fqdn("@", zone) == zone


@pytest.mark.parametrize(
    "name",
    ["bad label", "a..b", ".www", "www.example.com..", "a" * 64, "w/w", "a@b", "☃", "a\x00b"],
)
def test_record_fqdn_refuses_invalid_labels(name: str) -> None:
    with pytest.raises(V1Error) as caught:
        record_fqdn(name, ZONE)
    assert (caught.value.msg, caught.value.err_code) == ("Invalid value for name.", "E_INVLDINPUT")


def test_sort_key_orders_a_before_aaaa_before_cname_before_mx() -> None:
    records = [
        {"type": "MX", "name": "example.com", "content": "mx1.example.net", "id": "4"},
        {"type": "TXT", "name": "example.com", "content": "v=spf1", "id": "5"},
        {"type": "CNAME", "name": "home.example.com", "content": "example.com", "id": "3"},
        {"type": "AAAA", "name": "home.example.com", "content": "2001:db8::1", "id": "2"},
        {"type": "A", "name": "home.example.com", "content": "192.0.2.1", "id": "1"},
    ]
    assert [r["type"] for r in sorted(records, key=sort_key)] == ["A", "AAAA", "CNAME", "MX", "TXT"]


def test_sort_key_breaks_ties_by_name_content_then_id() -> None:
    records = [
        {"type": "A", "name": "b.example.com", "content": "192.0.2.1", "id": "1"},
        {"type": "A", "name": "a.example.com", "content": "192.0.2.9", "id": "2"},
        {"type": "A", "name": "a.example.com", "content": "192.0.2.1", "id": "4"},
        {"type": "A", "name": "a.example.com", "content": "192.0.2.1", "id": "3"},
    ]
    assert [r["id"] for r in sorted(records, key=sort_key)] == ["3", "4", "2", "1"]


def test_sort_key_tolerates_missing_fields() -> None:
    assert sort_key({}) == ("", "", "", "")
    assert sort_key({"type": "A", "id": 7}) == ("A", "", "", "7")

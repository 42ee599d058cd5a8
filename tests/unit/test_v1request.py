"""Stage 1: the four v1 transports, merging, aliases and limits (`v1-api.md` §1.2)."""

from __future__ import annotations

import pytest

from proxy.errors import V1Error
from proxy.v1request import Limits, V1Request, parse

LIMITS = Limits()
URLENCODED = "application/x-www-form-urlencoded"
BOUNDARY = "----v1Boundary7MA4YWxk"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def field(name: str, value: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"\r\n'
        "\r\n"
        f"{value}\r\n"
    ).encode()


def file_part(name: str, filename: str, data: bytes) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
    ).encode() + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post(body: bytes, content_type: str | None = URLENCODED, query: bytes = b"") -> V1Request:
    return parse(query, content_type, body, LIMITS)


# --- the four transports ------------------------------------------------------------------


def test_get_reads_the_query_string() -> None:
    request = parse(b"a=rec_load_all&z=example.com&email=ops%40example.com&tkn=k1", None, b"",
                    LIMITS)
    assert request.params == {
        "a": "rec_load_all",
        "z": "example.com",
        "email": "ops@example.com",
        "tkn": "k1",
    }
    assert request.action == "rec_load_all"


def test_post_urlencoded_reads_the_body() -> None:
    request = post(b"a=rec_delete&z=example.com&id=2000003")
    assert request.params == {"a": "rec_delete", "z": "example.com", "id": "2000003"}


def test_post_urlencoded_with_charset_parameter() -> None:
    request = post(b"a=devmode&v=1", "application/x-www-form-urlencoded; charset=utf-8")
    assert request.params == {"a": "devmode", "v": "1"}


def test_post_multipart_reads_every_field() -> None:
    body = multipart(field("a", "rec_new"), field("z", "example.com"), field("ttl", "1"))
    assert post(body, MULTIPART).params == {"a": "rec_new", "z": "example.com", "ttl": "1"}


def test_multipart_file_part_is_skipped() -> None:
    body = multipart(
        field("a", "rec_new"), file_part("upload", "zone.txt", b"x=1&y=2"), field("z", "e.com")
    )
    request = post(body, MULTIPART)
    assert request.received == {"a": "rec_new", "z": "e.com"}


def test_multipart_quoted_boundary_and_mixed_case_type() -> None:
    body = multipart(field("a", "zone_check"))
    request = post(body, f'Multipart/Form-Data; boundary="{BOUNDARY}"')
    assert request.params == {"a": "zone_check"}


def test_post_empty_body_takes_params_from_query() -> None:
    request = parse(b"a=rec_edit&id=7&content=192.0.2.1", None, b"", LIMITS)
    assert request.params == {"a": "rec_edit", "id": "7", "content": "192.0.2.1"}


def test_post_empty_body_with_content_type_still_reads_query() -> None:
    request = parse(b"a=rec_delete&id=7", URLENCODED, b"", LIMITS)
    assert request.params == {"a": "rec_delete", "id": "7"}


@pytest.mark.parametrize("content_type", [None, "www-form-urlencoded", "text/plain", ""])
def test_body_with_missing_or_unknown_type_is_read_as_urlencoded(content_type: str | None) -> None:
    request = post(b"a=wl&key=198.51.100.7", content_type)
    assert request.params == {"a": "wl", "key": "198.51.100.7"}


# --- merging --------------------------------------------------------------------------------


def test_body_wins_over_query() -> None:
    request = post(b"z=body.example&v=1", query=b"z=query.example&a=devmode")
    assert request.params == {"z": "body.example", "a": "devmode", "v": "1"}


def test_multipart_body_wins_over_query() -> None:
    request = post(multipart(field("ttl", "120")), MULTIPART, query=b"ttl=1&a=rec_new")
    assert request.params == {"ttl": "120", "a": "rec_new"}


def test_last_repeated_key_wins_in_query() -> None:
    assert parse(b"v=0&v=1&v=3", None, b"", LIMITS).params == {"v": "3"}


def test_last_repeated_key_wins_in_body() -> None:
    assert post(b"v=0&a=ipv46&v=3").params == {"v": "3", "a": "ipv46"}


def test_last_repeated_key_wins_in_multipart() -> None:
    body = multipart(field("v", "0"), field("v", "1"))
    assert post(body, MULTIPART).params == {"v": "1"}


def test_bare_key_and_empty_chunks() -> None:
    assert parse(b"&&flag&a=x&", None, b"", LIMITS).params == {"flag": "", "a": "x"}


# --- decoding -------------------------------------------------------------------------------


def test_plus_is_space_in_query() -> None:
    assert parse(b"content=v%3Dspf1+mx+-all", None, b"", LIMITS).params == {
        "content": "v=spf1 mx -all"
    }


def test_plus_is_space_in_urlencoded_body() -> None:
    assert post(b"content=a+b%2Bc").params == {"content": "a b+c"}


def test_plus_is_literal_in_multipart() -> None:
    body = multipart(field("content", "a+b c%20d"))
    assert post(body, MULTIPART).params == {"content": "a+b c%20d"}


def test_percent_escapes_decode_as_utf8() -> None:
    request = parse(b"name=b%C3%BCcher&url=https%3A%2F%2Fx.example%2Fa", None, b"", LIMITS)
    assert request.params == {"name": "bücher", "url": "https://x.example/a"}


def test_invalid_utf8_escape_becomes_replacement_character() -> None:
    assert parse(b"name=%FFx", None, b"", LIMITS).params == {"name": "\ufffdx"}


def test_multipart_utf8_names_and_values() -> None:
    body = multipart(field("näme", "müller"))
    assert post(body, MULTIPART).params == {"näme": "müller"}


# --- aliases and the e-mail repair --------------------------------------------------------


def test_alias_u_becomes_email() -> None:
    request = parse(b"u=ops%40example.com", None, b"", LIMITS)
    assert request.params == {"email": "ops@example.com"}
    assert request.received == {"u": "ops@example.com"}


def test_alias_act_becomes_a() -> None:
    request = parse(b"act=zone_load_multi", None, b"", LIMITS)
    assert request.params == {"a": "zone_load_multi"}
    assert request.action == "zone_load_multi"


def test_alias_zs_becomes_zones() -> None:
    assert parse(b"zs=a.com,b.com", None, b"", LIMITS).params == {"zones": "a.com,b.com"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"u=alias%40x.com&email=canon%40x.com", {"email": "canon@x.com"}),
        (b"email=canon%40x.com&u=alias%40x.com", {"email": "canon@x.com"}),
        (b"act=stats&a=rec_load_all", {"a": "rec_load_all"}),
        (b"a=rec_load_all&act=stats", {"a": "rec_load_all"}),
        (b"zs=alias.com&zones=canon.com", {"zones": "canon.com"}),
    ],
)
def test_canonical_name_wins_over_alias(query: bytes, expected: dict[str, str]) -> None:
    assert parse(query, None, b"", LIMITS).params == expected


def test_canonical_in_query_wins_over_alias_in_body() -> None:
    request = post(b"u=alias%40x.com", query=b"email=canon%40x.com")
    assert request.params == {"email": "canon@x.com"}


def test_raw_plus_in_email_is_repaired() -> None:
    request = parse(b"email=ops+cf@example.com", None, b"", LIMITS)
    assert request.params["email"] == "ops+cf@example.com"
    assert request.received["email"] == "ops cf@example.com"


def test_raw_plus_in_alias_u_is_repaired() -> None:
    assert post(b"u=ops+cf+dns@example.com").params == {"email": "ops+cf+dns@example.com"}


def test_encoded_plus_in_email_is_kept() -> None:
    assert post(b"email=ops%2Bcf%40example.com").params == {"email": "ops+cf@example.com"}


def test_action_is_none_when_missing_or_blank() -> None:
    assert parse(b"z=example.com", None, b"", LIMITS).action is None
    assert parse(b"a=+++", None, b"", LIMITS).action is None
    assert parse(b"a=+zone_check+", None, b"", LIMITS).action == "zone_check"


# --- received: the request echo's source --------------------------------------------------


def test_received_keeps_arrival_order_and_original_names() -> None:
    request = post(b"z=example.com&tkn=k1&u=ops%40example.com", query=b"act=rec_load_all&o=0")
    assert list(request.received.items()) == [
        ("act", "rec_load_all"),
        ("o", "0"),
        ("z", "example.com"),
        ("tkn", "k1"),
        ("u", "ops@example.com"),
    ]


def test_received_keeps_arrival_order_in_multipart() -> None:
    body = multipart(field("tkn", "k1"), field("a", "rec_new"), field("email", "x@y.z"))
    assert list(post(body, MULTIPART).received) == ["tkn", "a", "email"]


# --- limits and malformed bodies ----------------------------------------------------------


def test_max_fields_in_query_is_refused() -> None:
    with pytest.raises(V1Error) as caught:
        parse(b"a=1&b=2&c=3", None, b"", Limits(max_fields=2))
    assert (caught.value.msg, caught.value.err_code) == ("More than 2 parameters.", "E_INVLDINPUT")


def test_max_fields_reached_exactly_is_accepted() -> None:
    assert parse(b"a=1&b=2", None, b"", Limits(max_fields=2)).params == {"a": "1", "b": "2"}


def test_max_fields_in_urlencoded_body_is_refused() -> None:
    with pytest.raises(V1Error) as caught:
        parse(b"", URLENCODED, b"a=1&b=2&c=3", Limits(max_fields=2))
    assert caught.value.err_code == "E_INVLDINPUT"


def test_max_fields_in_multipart_is_refused() -> None:
    body = multipart(field("a", "1"), field("b", "2"), field("c", "3"))
    with pytest.raises(V1Error) as caught:
        parse(b"", MULTIPART, body, Limits(max_fields=2))
    assert caught.value.err_code == "E_INVLDINPUT"


def test_multipart_without_boundary_is_refused() -> None:
    with pytest.raises(V1Error) as caught:
        post(multipart(field("a", "x")), "multipart/form-data")
    assert (caught.value.msg, caught.value.err_code) == (
        "Multipart body without a boundary.",
        "E_INVLDINPUT",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"not a multipart body at all",
        f"--{BOUNDARY}\r\nbroken header line\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        b"--SomeOtherBoundary\r\n",
    ],
    ids=["no-boundary-line", "bad-header", "wrong-boundary"],
)
def test_malformed_multipart_is_invalid_input(body: bytes) -> None:
    with pytest.raises(V1Error) as caught:
        post(body, MULTIPART)
    assert (caught.value.msg, caught.value.err_code) == (
        "Malformed multipart body.",
        "E_INVLDINPUT",
    )


def test_truncated_multipart_is_invalid_input() -> None:
    body = field("a", "rec_edit") + (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"service_mode\"\r\n\r\n1"
    ).encode()
    with pytest.raises(V1Error) as caught:
        post(body, MULTIPART)
    assert caught.value.err_code == "E_INVLDINPUT"

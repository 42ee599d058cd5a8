"""The v1 answer on the wire: key order, compact PHP-style JSON, JSONP (`v1-api.md` §2)."""

from __future__ import annotations

import json

import pytest

from proxy import envelope, errors


def test_encode_is_compact_ascii_with_escaped_slashes() -> None:
    body = {"url": "https://www.example.com/a.css", "n": 1, "ok": True, "none": None}
    assert envelope.encode(body) == (
        b'{"url":"https:\\/\\/www.example.com\\/a.css","n":1,"ok":true,"none":null}'
    )


def test_encode_writes_non_ascii_as_u_escapes() -> None:
    assert envelope.encode({"display_name": "bücher", "snow": "☃"}) == (
        b'{"display_name":"b\\u00fccher","snow":"\\u2603"}'
    )


def test_encode_writes_astral_characters_as_surrogate_pairs() -> None:
    assert envelope.encode({"e": "\U0001f600"}) == b'{"e":"\\ud83d\\ude00"}'


def test_encode_keeps_empty_array_and_object_apart() -> None:
    assert envelope.encode({"ns_vanity_map": [], "confirm_code": {}}) == (
        b'{"ns_vanity_map":[],"confirm_code":{}}'
    )


def test_encoded_slash_round_trips_through_a_json_parser() -> None:
    body = {"msg": 'a/b "q" \\ c'}
    assert json.loads(envelope.encode(body)) == body


def test_success_key_order_with_everything() -> None:
    body = envelope.success({"act": "fpurge_ts"}, {"fpurge_ts": 5}, {"cooldown": 20})
    assert list(body) == ["request", "response", "result", "msg", "attributes"]
    assert envelope.encode(body) == (
        b'{"request":{"act":"fpurge_ts"},"response":{"fpurge_ts":5},"result":"success",'
        b'"msg":null,"attributes":{"cooldown":20}}'
    )


def test_success_without_echo_or_payload() -> None:
    assert envelope.encode(envelope.success(None, None)) == b'{"result":"success","msg":null}'


def test_success_with_echo_and_no_response_like_rec_delete() -> None:
    echo = {"act": "rec_delete", "a": "rec_delete", "id": "2000003"}
    assert envelope.encode(envelope.success(echo, None)) == (
        b'{"request":{"act":"rec_delete","a":"rec_delete","id":"2000003"},'
        b'"result":"success","msg":null}'
    )


def test_success_keeps_an_empty_response_object() -> None:
    assert list(envelope.success(None, {})) == ["response", "result", "msg"]


def test_error_key_order_with_act_and_err_code() -> None:
    body = envelope.error(errors.invalid_input("Invalid value for v."), "sec_lvl")
    assert list(body) == ["request", "result", "msg", "err_code"]
    assert envelope.encode(body) == (
        b'{"request":{"act":"sec_lvl"},"result":"error","msg":"Invalid value for v.",'
        b'"err_code":"E_INVLDINPUT"}'
    )


def test_unauthorized_error_has_no_request() -> None:
    body = envelope.error(errors.unauthorized(), "rec_load_all")
    assert envelope.encode(body) == (
        b'{"result":"error","msg":"Unknown token or email","err_code":"E_UNAUTH"}'
    )


def test_rate_limited_error_has_no_request() -> None:
    assert envelope.encode(envelope.error(errors.rate_limited(), "zone_check")) == (
        b'{"result":"error","msg":"Rate limit reached, retry later.","err_code":"E_MAXAPI"}'
    )


def test_invalid_zone_error_has_no_err_code() -> None:
    assert envelope.encode(envelope.error(errors.invalid_zone(), "rec_load_all")) == (
        b'{"request":{"act":"rec_load_all"},"result":"error","msg":"Invalid zone."}'
    )


def test_error_without_action_has_no_request() -> None:
    assert envelope.encode(envelope.error(errors.invalid_record_id(), None)) == (
        b'{"result":"error","msg":"Invalid record id."}'
    )


def test_gone_error_body() -> None:
    body = envelope.error(errors.Gone("Action stats is retired."), "stats")
    assert envelope.encode(body) == (
        b'{"request":{"act":"stats"},"result":"error","msg":"Action stats is retired."}'
    )


def test_shell_grep_pattern_matches_error_text() -> None:
    raw = envelope.encode(envelope.error(errors.invalid_zone(), "rec_new"))
    assert b'"result":"error","msg":"' in raw


def test_jsonp_wraps_payload() -> None:
    payload = envelope.encode(envelope.success(None, None))
    assert envelope.wrap_jsonp(payload, "jQuery1_2.cb$") == (
        b'jQuery1_2.cb$({"result":"success","msg":null})'
    )


@pytest.mark.parametrize("name", ["cb", "_cb", "$", "jQuery1102_1", "a.b.c", "A$9._"])
def test_jsonp_name_accepted(name: str) -> None:
    assert envelope.JSONP_NAME.fullmatch(name) is not None


@pytest.mark.parametrize(
    "name",
    ["", "1cb", ".cb", "cb()", "alert(1)", "a-b", "a b", "cb;x", "cb\n", "a[0]", "bü", "<x>"],
)
def test_jsonp_name_refused(name: str) -> None:
    assert envelope.JSONP_NAME.fullmatch(name) is None


def test_media_types() -> None:
    assert (envelope.JSON_TYPE, envelope.JSONP_TYPE) == (
        "application/json",
        "application/javascript",
    )

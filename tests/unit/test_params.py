"""Parameter kinds and `validate` (`v1-api.md` §3, `v4-api.md` §14.5-14.6)."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import V1Error
from proxy.params import ParamSpec, validate

TTL_MSG = "Invalid value for ttl: use 1 (automatic) or 60 to 86400 seconds."
ADDRESS_MSG = (
    "Invalid value for key: use an IPv4 or IPv6 address, or a range of /16 or /24 (IPv4) or "
    "/32, /48 or /64 (IPv6)."
)


def one(kind: str, raw: str, name: str = "x", **spec: Any) -> Any:
    return validate({name: ParamSpec(name, kind, **spec)}, {name: raw})[name]


def refused(kind: str, raw: str, name: str = "x", **spec: Any) -> tuple[str, str | None]:
    with pytest.raises(V1Error) as caught:
        one(kind, raw, name, **spec)
    return caught.value.msg, caught.value.err_code


# --- text -----------------------------------------------------------------------------------


def test_text_is_trimmed() -> None:
    assert one("text", "  home \t") == "home"


def test_text_keeps_inner_spaces_and_unicode() -> None:
    assert one("text", "v=spf1 include:bücher.de -all") == "v=spf1 include:bücher.de -all"


@pytest.mark.parametrize("raw", ["a\x00b", "a\nb", "a\x7fb", "a\tb"])
def test_text_refuses_control_characters(raw: str) -> None:
    assert refused("text", raw) == ("Invalid value for x.", "E_INVLDINPUT")


# --- choice ---------------------------------------------------------------------------------

SEC_LVL = {"help": "under_attack", "high": "high", "med": "medium"}
ASYNC_REJECT = {"m": "Rocket Loader has no manual mode."}


def test_choice_maps_v1_value_to_v4_value() -> None:
    assert one("choice", " med ", values=SEC_LVL) == "medium"


def test_choice_refuses_unknown_value() -> None:
    assert refused("choice", "medium", "v", values=SEC_LVL) == (
        "Invalid value for v.",
        "E_INVLDINPUT",
    )


def test_choice_is_case_sensitive() -> None:
    assert refused("choice", "HIGH", "v", values=SEC_LVL)[1] == "E_INVLDINPUT"


def test_choice_reject_gives_its_own_message() -> None:
    values = {"0": "off", "a": "on"}
    assert one("choice", "a", "v", values=values, reject=ASYNC_REJECT) == "on"
    assert refused("choice", "m", "v", values=values, reject=ASYNC_REJECT) == (
        "Rocket Loader has no manual mode.",
        "E_INVLDINPUT",
    )


# --- int ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("10", 10), (" 65535 ", 65535)])
def test_int_within_bounds(raw: str, expected: int) -> None:
    assert one("int", raw, "prio", minimum=0, maximum=65535) == expected


@pytest.mark.parametrize("raw", ["-1", "65536", "abc", "1.5", "+5", "1_000", "12a", "1e3"])
def test_int_out_of_bounds_or_not_a_number(raw: str) -> None:
    spec = ParamSpec("prio", "int", minimum=0, maximum=65535)
    with pytest.raises(V1Error) as caught:
        validate({"prio": spec}, {"prio": raw})
    assert caught.value.err_code == "E_INVLDINPUT"


def test_int_negative_allowed_without_minimum() -> None:
    assert one("int", "-5") == -5


def test_int_double_minus_is_invalid_input() -> None:
    assert refused("int", "--5") == ("Invalid value for x.", "E_INVLDINPUT")


@pytest.mark.parametrize(
    ("kind", "spec"),
    [("int", {}), ("switch", {"values": {"on": 1, "off": 0}}), ("ttl", {}), ("offset", {})],
)
def test_superscript_digit_is_invalid_input(kind: str, spec: dict[str, Any]) -> None:
    assert refused(kind, "²", **spec)[1] == "E_INVLDINPUT"


# --- switch ---------------------------------------------------------------------------------

SWITCH = {"on": "on", "off": "off"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", "off"), ("1", "on"), ("3", "on"), ("true", "on"), ("TRUE", "on"), ("false", "off"),
     (" 1 ", "on"), ("-1", "on")],
)
def test_switch_zero_is_off_anything_else_on(raw: str, expected: str) -> None:
    assert one("switch", raw, "v", values=SWITCH) == expected


def test_switch_maps_to_declared_values() -> None:
    values = {"on": True, "off": False}
    assert one("switch", "1", values=values) is True
    assert one("switch", "0", values=values) is False


@pytest.mark.parametrize("raw", ["on", "yes", "x", "1.0"])
def test_switch_refuses_words_and_fractions(raw: str) -> None:
    assert refused("switch", raw, "v", values=SWITCH) == ("Invalid value for v.", "E_INVLDINPUT")


# --- ttl ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("60", 60), ("120", 120), ("86400", 86400), ("90000", 86400),
     ("4294967295", 86400), (" 300 ", 300)],
)
def test_ttl_accepted_and_capped(raw: str, expected: int) -> None:
    assert one("ttl", raw, "ttl") == expected


@pytest.mark.parametrize("raw", ["0", "2", "59", "abc", "-1", "1.5", "+60"])
def test_ttl_refused(raw: str) -> None:
    assert refused("ttl", raw, "ttl") == (TTL_MSG, "E_INVLDINPUT")


# --- address --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("198.51.100.7", {"target": "ip", "value": "198.51.100.7"}),
        (" 198.51.100.7 ", {"target": "ip", "value": "198.51.100.7"}),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", {"target": "ip6", "value": "2001:db8::1"}),
        ("198.51.100.0/24", {"target": "ip_range", "value": "198.51.100.0/24"}),
        ("198.51.100.77/24", {"target": "ip_range", "value": "198.51.100.0/24"}),
        ("10.1.0.0/16", {"target": "ip_range", "value": "10.1.0.0/16"}),
        ("198.51.100.7/32", {"target": "ip", "value": "198.51.100.7"}),
        ("2001:db8::/48", {"target": "ip_range", "value": "2001:db8::/48"}),
        ("2001:db8:1:2::/64", {"target": "ip_range", "value": "2001:db8:1:2::/64"}),
        ("2001:db8::1/128", {"target": "ip6", "value": "2001:db8::1"}),
    ],
)
def test_address_targets(raw: str, expected: dict[str, str]) -> None:
    assert one("address", raw, "key") == expected


@pytest.mark.parametrize(
    "raw", ["10.0.0.0/20", "10.0.0.0/8", "2001:db8::/56", "198.51.100.256", "example.com", "1.2.3"]
)
def test_address_refused(raw: str) -> None:
    assert refused("address", raw, "key") == (ADDRESS_MSG, "E_INVLDINPUT")


# --- url ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["https://www.example.com/a.css", "http://example.com", "HTTPS://example.com/?q=1"]
)
def test_url_accepted(raw: str) -> None:
    assert one("url", raw, "url") == raw


@pytest.mark.parametrize(
    "raw", ["www.example.com/a.css", "ftp://example.com/a", "https:///a", "/a.css"]
)
def test_url_refused(raw: str) -> None:
    assert refused("url", raw, "url") == (
        "Invalid value for url: give a full URL with http(s)://.",
        "E_INVLDINPUT",
    )


@pytest.mark.parametrize("raw", ["https://x/\x00", "https://x/a\r\nb", "https://x/\ta"])
def test_url_with_control_characters_refused(raw: str) -> None:
    assert refused("url", raw, "url") == (
        "Invalid value for url: control characters are not allowed.",
        "E_INVLDINPUT",
    )


def test_url_space_is_sent_percent_encoded() -> None:
    assert one("url", "https://x/a b.css", "url") == "https://x/a%20b.css"


def test_url_is_trimmed() -> None:
    assert one("url", " https://example.com/a ", "url") == "https://example.com/a"


# --- names ----------------------------------------------------------------------------------


def test_names_skip_empty_items_and_trailing_comma() -> None:
    assert one("names", " a.com, ,b.com,,c.com,", "zones") == ["a.com", "b.com", "c.com"]


def test_names_keep_order_and_case_as_sent() -> None:
    assert one("names", "B.com,a.com", "zones") == ["B.com", "a.com"]


@pytest.mark.parametrize("raw", [",", " , ,", "a.com,b\x00.com"])
def test_names_refused(raw: str) -> None:
    assert refused("names", raw, "zones") == ("Invalid value for zones.", "E_INVLDINPUT")


# --- offset ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("180", 180), (" 360 ", 360)])
def test_offset_accepted(raw: str, expected: int) -> None:
    assert one("offset", raw, "o") == expected


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "1" * 13])
def test_offset_refused(raw: str) -> None:
    assert refused("offset", raw, "o") == (
        "Invalid value for o: give a non-negative integer.",
        "E_INVLDINPUT",
    )


def test_offset_empty_counts_as_absent() -> None:
    assert validate({"o": ParamSpec("o", "offset")}, {"o": ""}) == {}


# --- record_type ----------------------------------------------------------------------------


def test_record_type_is_upper_cased_and_checked() -> None:
    values = {"A": "A", "MX": "MX"}
    reject = {"SPF": "publish SPF as TXT"}
    assert one("record_type", " mx ", "type", values=values, reject=reject) == "MX"
    assert refused("record_type", "spf", "type", values=values, reject=reject) == (
        "publish SPF as TXT",
        "E_INVLDINPUT",
    )
    assert refused("record_type", "LOC", "type", values=values) == (
        "Invalid value for type.",
        "E_INVLDINPUT",
    )


# --- validate -------------------------------------------------------------------------------


def test_validate_missing_required_names_the_parameter() -> None:
    specs = {"url": ParamSpec("url", "url", required=True)}
    with pytest.raises(V1Error) as caught:
        validate(specs, {})
    assert (caught.value.msg, caught.value.err_code) == ("Missing parameter url.", "E_INVLDINPUT")


def test_validate_blank_required_is_missing() -> None:
    specs = {"v": ParamSpec("v", "text", required=True)}
    with pytest.raises(V1Error) as caught:
        validate(specs, {"v": "   "})
    assert caught.value.msg == "Missing parameter v."


def test_validate_uses_default_when_absent_or_blank() -> None:
    specs = {"v": ParamSpec("v", "choice", default="1", values={"1": True})}
    assert validate(specs, {}) == {"v": True}
    assert validate(specs, {"v": ""}) == {"v": True}


def test_validate_default_does_not_hide_a_bad_value() -> None:
    specs = {"v": ParamSpec("v", "choice", default="1", values={"1": True})}
    with pytest.raises(V1Error) as caught:
        validate(specs, {"v": "2"})
    assert caught.value.msg == "Invalid value for v."


def test_validate_leaves_absent_optional_out() -> None:
    specs = {"prio": ParamSpec("prio", "int"), "ttl": ParamSpec("ttl", "ttl")}
    assert validate(specs, {"ttl": "120"}) == {"ttl": 120}


def test_validate_keeps_optional_text_sent_empty() -> None:
    assert validate({"content": ParamSpec("content", "text")}, {"content": ""}) == {"content": ""}


def test_validate_ignores_undeclared_parameters() -> None:
    specs = {"z": ParamSpec("z", "text")}
    assert validate(specs, {"z": "example.com", "tkn": "k", "foo": "bar"}) == {"z": "example.com"}


def test_validate_record_error_missing_is_invalid_record_id() -> None:
    specs = {"id": ParamSpec("id", "text", required=True, error="record")}
    with pytest.raises(V1Error) as caught:
        validate(specs, {})
    assert (caught.value.msg, caught.value.err_code) == ("Invalid record id.", None)


def test_validate_record_error_bad_value_is_invalid_record_id() -> None:
    specs = {"id": ParamSpec("id", "text", required=True, error="record")}
    with pytest.raises(V1Error) as caught:
        validate(specs, {"id": "20\n03"})
    assert (caught.value.msg, caught.value.err_code) == ("Invalid record id.", None)


def test_validate_zone_error_is_invalid_zone() -> None:
    specs = {"z": ParamSpec("z", "text", required=True, error="zone")}
    with pytest.raises(V1Error) as caught:
        validate(specs, {"z": ""})
    assert (caught.value.msg, caught.value.err_code) == ("Invalid zone.", None)

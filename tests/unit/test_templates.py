"""The mapping table's value language: references, filters, `?`, `$null`, `$$`, paths."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.templates import TemplateError, filters_used, references, render, render_path

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
VALUES: dict[str, Any] = {
    "zone": {"id": ZONE_ID, "name": "example.com", "meta": {"step": 4}},
    "v": "medium",
    "count": 7,
    "items": ["a", "b", "c"],
    "nothing": None,
    "zero": 0,
}


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("proxy.templates.time.time", lambda: 1796292000.75)


def test_render_plain_reference() -> None:
    assert render("$v", VALUES) == "medium"


def test_render_dotted_reference_keeps_type() -> None:
    assert render("$zone.meta.step", VALUES) == 4
    assert render("$zone.meta", VALUES) == {"step": 4}


def test_render_tables_and_arrays_member_by_member() -> None:
    template = {"value": "$v", "list": ["$count", "lit", 3, True], "nested": {"z": "$zone.name"}}
    assert render(template, VALUES) == {
        "value": "medium",
        "list": [7, "lit", 3, True],
        "nested": {"z": "example.com"},
    }


def test_render_keeps_key_order() -> None:
    assert list(render({"b": "$v", "a": 1, "c": "$count"}, VALUES)) == ["b", "a", "c"]


def test_text_around_a_reference_is_a_literal() -> None:
    assert render("value $v here", VALUES) == "value $v here"
    assert render("$v.", VALUES) == "$v."


@pytest.mark.parametrize("literal", ["$", "$1abc", "plain", ""])
def test_strings_that_are_not_references_are_literals(literal: str) -> None:
    assert render(literal, VALUES) == literal


def test_non_string_scalars_pass_through() -> None:
    assert render(20, VALUES) == 20
    assert render(False, VALUES) is False
    assert render(1.5, VALUES) == 1.5


def test_filters_apply_left_to_right() -> None:
    assert render("$count|str", VALUES) == "7"
    assert render("$items|len", VALUES) == 3
    assert render("$items|len|str", VALUES) == "3"
    assert render("$zone.meta.step|str|int", VALUES) == 4


def test_str_and_int_filters_keep_null() -> None:
    assert render("$nothing|str", VALUES) is None
    assert render("$nothing|int", VALUES) is None


def test_epoch_after_adds_seconds_to_now(frozen_clock: None) -> None:
    assert render("$count|epoch_after", VALUES) == 1796292007


def test_epoch_after_zero_is_null(frozen_clock: None) -> None:
    assert render("$zero|epoch_after", VALUES) is None


def test_now_is_unix_seconds(frozen_clock: None) -> None:
    assert render({"ts": "$now"}, VALUES) == {"ts": 1796292000}


def test_null_is_json_null() -> None:
    assert render({"vtxt_match": "$null"}, VALUES) == {"vtxt_match": None}


def test_double_dollar_is_a_literal_dollar() -> None:
    assert render("$$v", VALUES) == "$v"
    assert render({"price": "$$5|str"}, VALUES) == {"price": "$5|str"}


def test_optional_missing_key_is_left_out() -> None:
    assert render({"a": "$v", "b": "$missing?", "c": "$zone.nope?"}, VALUES) == {"a": "medium"}


def test_optional_null_key_is_left_out() -> None:
    assert render({"expires_on": "$zero|epoch_after?", "x": "$nothing?"}, VALUES) == {}


def test_optional_present_value_is_kept() -> None:
    assert render({"a": "$zero?", "b": "$count|str?"}, VALUES) == {"a": 0, "b": "7"}


def test_optional_missing_item_is_left_out_of_arrays() -> None:
    assert render(["$v", "$missing?", "$nothing?", "x"], VALUES) == ["medium", "x"]


def test_optional_missing_at_top_level_is_none() -> None:
    assert render("$missing?", VALUES) is None


def test_missing_reference_without_question_mark_is_an_error() -> None:
    with pytest.raises(TemplateError, match="nothing named 'zone.nope' here"):
        render({"a": "$zone.nope"}, VALUES)


def test_reference_through_a_scalar_is_missing() -> None:
    with pytest.raises(TemplateError):
        render("$v.length", VALUES)


def test_render_path_substitutes_v4_ids() -> None:
    values = {"zone": {"id": ZONE_ID}, "record": {"id": "372e67954025e0ba6aaa6d586b9e0b59"}}
    assert render_path("/zones/{zone.id}/dns_records/{record.id}", values) == (
        f"/zones/{ZONE_ID}/dns_records/372e67954025e0ba6aaa6d586b9e0b59"
    )


def test_render_path_without_placeholders_is_unchanged() -> None:
    assert render_path("/user/firewall/access_rules/rules", {}) == (
        "/user/firewall/access_rules/rules"
    )


@pytest.mark.parametrize(
    "value",
    ["../x", "a/b", "a" * 31, "a" * 33, ZONE_ID.upper(), ZONE_ID + "/..", "", 12345, None,
     ["a" * 32]],
)
def test_render_path_refuses_non_id_values(value: Any) -> None:
    with pytest.raises(TemplateError, match="x.id is not a v4 id"):
        render_path("/zones/{x.id}/settings", {"x": {"id": value}})


def test_references_lists_first_path_parts() -> None:
    template = {"a": "$zone.id", "b": ["$v|str?", "$$literal", "text $x"], "c": 3}
    assert references(template) == {"zone", "v"}


def test_filters_used_lists_every_filter() -> None:
    assert filters_used({"a": "$v|str|int", "b": ["$c|len?"], "d": "$e"}) == {"str", "int", "len"}

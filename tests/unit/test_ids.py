"""v1 numbers derived from v4 ids (`v4-api.md` §14.1)."""

from __future__ import annotations

import pytest

from proxy.ids import is_v4_id, parse_v1_number, v1_number

# Computed once from the implementation; a change here renumbers every record clients hold.
KNOWN = {
    "023e105f4ecef8ad9ca31a8372d0c353": 2411716260298033,
    "372e67954025e0ba6aaa6d586b9e0b59": 3989541272174986,
    "ffffffffffffffffffffffffffffffff": 7375997145019761,
}

SAMPLE = [f"{i:032x}" for i in range(200)] + list(KNOWN)


@pytest.mark.parametrize(("v4_id", "number"), KNOWN.items())
def test_v1_number_is_stable(v4_id: str, number: int) -> None:
    assert v1_number(v4_id) == number


@pytest.mark.parametrize("v4_id", SAMPLE[:20] + list(KNOWN))
def test_v1_number_fits_53_bits_and_is_positive_decimal(v4_id: str) -> None:
    number = v1_number(v4_id)
    assert 0 < number < 2**53
    assert str(number).isdigit()
    assert parse_v1_number(str(number)) == number


def test_v1_number_distinct_for_different_ids() -> None:
    assert len({v1_number(v4_id) for v4_id in SAMPLE}) == len(SAMPLE)


def test_v1_number_same_on_every_call() -> None:
    assert [v1_number(v4_id) for v4_id in SAMPLE] == [v1_number(v4_id) for v4_id in SAMPLE]


@pytest.mark.parametrize(
    "value", ["0" * 32, "023e105f4ecef8ad9ca31a8372d0c353", "abcdef" + "9" * 26]
)
def test_is_v4_id_accepts_32_lowercase_hex(value: str) -> None:
    assert is_v4_id(value)


@pytest.mark.parametrize(
    "value",
    ["", "a" * 31, "a" * 33, "A" * 32, "g" * 32, "023e105f4ecef8ad9ca31a8372d0c35 ",
     "023e105f-4ecef8ad9ca31a8372d0c35", "../" + "a" * 29, "a" * 32 + "\n"],
)
def test_is_v4_id_refuses_anything_else(value: str) -> None:
    assert not is_v4_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("2000003", 2000003),
        ("0007", 7),
        (str(2**53 - 1), 2**53 - 1),
        ("2411716260298033", 2411716260298033),
    ],
)
def test_parse_v1_number_accepts(value: str, expected: int) -> None:
    assert parse_v1_number(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "0", "000", "-1", "+1", " 1", "1 ", "1.0", "1e3", "abc", str(2**53), "9" * 20,
     "9" * 21, "٣", "²", "023e105f4ecef8ad9ca31a8372d0c353"],
)
def test_parse_v1_number_refuses(value: str) -> None:
    assert parse_v1_number(value) is None

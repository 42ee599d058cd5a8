"""`z` as v4 wants it (bugs B7, B25)."""

from __future__ import annotations

import pytest

from proxy.errors import V1Error
from proxy.steps.zones import normalise_zone_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        (" Example.Com. ", "example.com"),
        ("sub.example.co.uk", "sub.example.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("my-site.example", "my-site.example"),
    ],
)
def test_normalise_zone_name(raw: str, expected: str) -> None:
    assert normalise_zone_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "023e105f4ecef8ad9ca31a8372d0c353",
        "localhost",
        "",
        "   ",
        ".",
        None,
        "example..com",
        "example.com..",
        ".example.com",
        "exa mple.com",
        "ex/ample.com",
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "☃.com",
    ],
)
def test_normalise_zone_name_refuses_as_invalid_zone(raw: str | None) -> None:
    with pytest.raises(V1Error) as caught:
        normalise_zone_name(raw)
    assert (caught.value.msg, caught.value.err_code) == ("Invalid zone.", None)

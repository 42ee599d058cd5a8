"""Cache purge: everything or 1-30 full URLs, kept in the sandbox's purge log."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.sandbox.state import Purge
from tests.sandbox.conftest import START, V4, ZONE, codes

PURGE = f"/zones/{ZONE}/purge_cache"


def test_purge_everything_answers_the_zone_id_and_is_logged(v4: V4) -> None:
    assert v4.ok("POST", PURGE, {"purge_everything": True}) == {"id": ZONE}
    assert v4.state.purges == [Purge(ZONE, True, (), START)]


def test_purge_by_url_logs_every_url(v4: V4) -> None:
    files = ["https://www.example.com/a.css", "http://example.com/b.js?v=2",
             {"url": "https://www.example.com/c.png", "headers": {"CF-IPCountry": "DE"}}]
    assert v4.ok("POST", PURGE, {"files": files}) == {"id": ZONE}
    assert v4.state.purges == [Purge(ZONE, False, (
        "https://www.example.com/a.css", "http://example.com/b.js?v=2",
        "https://www.example.com/c.png",
    ), START)]


def test_thirty_urls_are_allowed(v4: V4) -> None:
    files = [f"https://www.example.com/{n}.css" for n in range(30)]
    v4.ok("POST", PURGE, {"files": files})
    assert len(v4.state.purges[0].files) == 30


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 1012),
        ({"purge_everything": False}, 1012),
        ({"purge_everything": True, "files": ["https://www.example.com/"]}, 1012),
        ({"tags": ["a"]}, 1012),
        ({"hosts": ["www.example.com"]}, 1012),
        ({"files": []}, 1015),
        ({"files": [f"https://www.example.com/{n}" for n in range(31)]}, 1015),
        ({"files": "https://www.example.com/"}, 1015),
        ({"files": ["ftp://www.example.com/a"]}, 1016),
        ({"files": ["/a.css"]}, 1016),
        ({"files": ["https:///a.css"]}, 1016),
        ({"files": [{"headers": {}}]}, 1016),
    ],
)
def test_bad_purges_are_refused_and_not_logged(v4: V4, body: dict[str, Any], code: int) -> None:
    assert codes(v4.fail(400, "POST", PURGE, body)) == [code]
    assert v4.state.purges == []


def test_purging_an_unreachable_zone_answers_7003(v4: V4) -> None:
    errors = v4.fail(400, "POST", f"/zones/{'e' * 32}/purge_cache", {"purge_everything": True})
    assert codes(errors) == [7003, 7000]
    assert v4.state.purges == []

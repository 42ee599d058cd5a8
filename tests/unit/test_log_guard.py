"""The session-wide log guard of tests/conftest.py recognises what it must."""

from __future__ import annotations

import pytest

from tests.conftest import SECRET_SHAPES


@pytest.mark.parametrize("line", [
    "user ops+cf@example.com did x",
    "email=ops%2Bcf%40example.com",
    "key 0123456789abcdef0123456789abcdef01234 seen",
])
def test_guard_spots_credentials(line: str) -> None:
    assert SECRET_SHAPES.search(line)


@pytest.mark.parametrize("line", [
    "action=rec_edit zone=example.com cred=2ead334ee0c4 v4_calls=2 result=success",
    "v4 GET /zones/5bc4d03d5b48e1896f78decbf4e99356/dns_records -> 200",
])
def test_guard_lets_ordinary_lines_pass(line: str) -> None:
    assert not SECRET_SHAPES.search(line)

"""HTTP behaviour: unknown routes, methods, rate limits, and v4 envelopes whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from proxy.sandbox import create_sandbox_app
from tests.sandbox.conftest import (
    EMAIL,
    KEY,
    OTHER_EMAIL,
    OTHER_KEY,
    V4,
    ZONE,
    FakeClock,
    base_seed,
    codes,
)

RATE_LIMITED = "Rate limited. Please wait and consider throttling your request speed"


@pytest.mark.parametrize("path", ["/nothing", "/zones/", f"/zones/{ZONE}/dns_records/a/b",
                                  f"/zones/{ZONE}/analytics/dashboard"])
def test_unknown_paths_answer_404_7000_as_json(v4: V4, path: str) -> None:
    errors = v4.fail(404, "GET", path, valid_request=False)
    assert errors == [{"code": 7000, "message": "No route for that URI"}]


def test_unknown_paths_answer_404_even_without_credentials(v4: V4) -> None:
    assert codes(v4.fail(404, "GET", "/nothing", headers={}, valid_request=False)) == [7000]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("DELETE", "/zones", "GET, HEAD"),
    ("POST", f"/zones/{ZONE}/settings/ssl", "GET, HEAD, PATCH"),
])
def test_wrong_methods_answer_405_10405(v4: V4, method: str, path: str, allow: str) -> None:
    response = v4.call(method, path, valid_request=False)
    assert response.status_code == 405
    assert codes(response.json()["errors"]) == [10405]
    assert sorted(response.headers["allow"].split(", ")) == allow.split(", ")


def limited_seed(calls: int, seconds: float) -> dict[str, object]:
    return {**base_seed(), "rate_limit": {"calls": calls, "seconds": seconds}}


def test_rate_limit_answers_429_971_with_retry_after(make_v4: Callable[..., V4]) -> None:
    v4 = make_v4(limited_seed(3, 10))
    for _ in range(3):
        v4.ok("GET", "/zones")
        v4.clock.advance(1)
    response = v4.call("GET", "/zones")
    assert response.status_code == 429
    assert response.json()["errors"] == [{"code": 971, "message": RATE_LIMITED}]
    assert response.headers["retry-after"] == "7"

    v4.clock.advance(6.5)  # the first call leaves the window 0.5 s later
    assert v4.call("GET", "/zones").headers["retry-after"] == "1"
    v4.clock.advance(0.5)
    v4.ok("GET", "/zones")


def test_rate_limit_counts_per_user_and_counts_refusals_of_nothing(
    make_v4: Callable[..., V4]
) -> None:
    v4 = make_v4(limited_seed(2, 300))
    v4.ok("GET", "/zones")
    v4.fail(400, "GET", f"/zones/{'e' * 32}")  # answered calls count, even refusals
    assert codes(v4.fail(429, "GET", "/zones")) == [971]
    other = v4.as_user(OTHER_EMAIL, OTHER_KEY)
    assert [z["name"] for z in other.ok("GET", "/zones")] == ["example.net"]
    # Unauthenticated calls belong to nobody and never count.
    assert codes(v4.fail(400, "GET", "/zones", headers={})) == [9106]


def test_no_rate_limit_without_one_in_the_seed(v4: V4) -> None:
    for _ in range(50):
        v4.ok("GET", f"/zones/{ZONE}")


def _direct(app: Starlette, method: str, path: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://v4.test") as client:
            return await client.request(
                method, path, headers={"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
            )

    return asyncio.run(send())


def test_unmounted_app_serves_the_same_routes(clock: FakeClock) -> None:
    """The CLI also calls the sandbox directly through an ASGI transport, without the prefix."""
    app = create_sandbox_app(base_seed(), clock=clock)
    response = _direct(app, "GET", "/zones/nope")
    assert response.json()["errors"][0]["message"] == (
        "Could not route to /zones/nope, perhaps your object identifier is invalid?"
    )
    assert _direct(app, "GET", f"/zones/{ZONE}").json()["result"]["id"] == ZONE


def test_a_sandbox_bug_still_answers_a_json_envelope(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_sandbox_app(base_seed(), clock=clock)

    def broken(user: object) -> list[object]:
        raise RuntimeError("bug")

    monkeypatch.setattr(app.state.sandbox, "zones_of", broken)
    response = _direct(app, "GET", "/zones")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"success": False, "messages": [], "result": None,
                               "errors": [{"code": 10500, "message": "Internal sandbox error"}]}

"""Drives the sandbox in-process, mounted at /client/v4 as the CLI mounts it.

Every call goes through `V4.call`, which checks the request against the v4 OpenAPI schema
(each test says whether its request is one v4's schema accepts) and every answer against the
schema too, so no test can pass on an answer real clients would not get.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from proxy.sandbox import create_sandbox_app
from proxy.sandbox.state import SandboxState
from tests.support.openapi import check_v4_request, check_v4_response

EMAIL = "ops@example.com"
KEY = "0123456789abcdef0123456789abcdef01234"
TOKEN = "tok_0123456789abcdefghijklmnopqrstuvwxyzAB"
OTHER_EMAIL = "other@example.net"
OTHER_KEY = "fedcba9876543210fedcba9876543210fedcb"
START = 1796292000.0  # 2026-12-03T10:00:00Z
UNKNOWN_ID = "0" * 32
_NO_BODY = object()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def base_seed() -> dict[str, Any]:
    """The test user (key and token) with example.com and example.org; a second user."""
    return {
        "users": [
            {
                "email": EMAIL, "key": KEY, "token": TOKEN,
                "account": {"id": "a" * 32, "name": "Ops Account"},
                "zones": [
                    {"name": "example.com", "id": "c" * 32, "records": [
                        {"type": "A", "name": "www.example.com", "content": "192.0.2.1",
                         "ttl": 1, "proxied": True, "id": "1" * 32},
                        {"type": "AAAA", "name": "www.example.com", "content": "2001:db8::1",
                         "ttl": 1, "id": "2" * 32},
                        {"type": "CNAME", "name": "blog.example.com",
                         "content": "www.example.com", "ttl": 1, "id": "3" * 32},
                        {"type": "MX", "name": "example.com", "content": "mx1.example.net",
                         "priority": 10, "ttl": 3600, "id": "4" * 32},
                        {"type": "TXT", "name": "example.com", "content": "v=spf1 -all",
                         "ttl": 1, "id": "5" * 32},
                    ]},
                    {"name": "example.org", "id": "d" * 32, "status": "pending"},
                ],
            },
            {
                "email": OTHER_EMAIL, "key": OTHER_KEY,
                "zones": [{"name": "example.net", "id": "e" * 32}],
            },
        ]
    }


ZONE = "c" * 32
WWW_A = "1" * 32


@dataclass
class V4:
    """A v4 client for one sandbox; credentials default to the test user's key."""

    app: Starlette
    clock: FakeClock
    email: str | None = EMAIL
    key: str | None = KEY
    seen: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def state(self) -> SandboxState:
        state: SandboxState = self.app.state.sandbox
        return state

    def as_user(self, email: str | None, key: str | None) -> V4:
        return V4(self.app, self.clock, email, key)

    def call(
        self,
        method: str,
        path: str,
        json: Any = _NO_BODY,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        valid_request: bool | None = True,
    ) -> httpx.Response:
        """One call; `valid_request` says whether v4's schema accepts the request (a test that
        sends a request the schema refuses must say so, and the checker must agree); None
        only for generated input, where nobody knows."""
        body = None if json is _NO_BODY else json
        if content is None and valid_request is not None:
            query = {k: str(v) for k, v in (params or {}).items()}
            try:
                check_v4_request(method, path, query, body)
            except AssertionError:
                if valid_request:
                    raise
            else:
                assert valid_request, f"the schema accepts {method} {path} {body!r}"
        sent = dict(headers or {})
        if headers is None and self.email is not None and self.key is not None:
            sent = {"X-Auth-Email": self.email, "X-Auth-Key": self.key}
        if content is None and body is not None:
            content = jsonlib.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        response = asyncio.run(self._send(method, path, params, sent, content))

        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        check_v4_response(method, path, response.status_code, answer)
        self.seen.append((method, path, response.status_code))
        return response

    async def _send(self, method: str, path: str, params: dict[str, Any] | None,
                    headers: dict[str, str], content: bytes | None) -> httpx.Response:
        outer = Starlette(routes=[Mount("/client/v4", app=self.app)])
        transport = httpx.ASGITransport(app=outer)
        async with httpx.AsyncClient(transport=transport, base_url="http://v4.test") as client:
            return await client.request(
                method, "/client/v4" + path, params=params, headers=headers, content=content
            )

    def ok(self, method: str, path: str, json: Any = _NO_BODY, **kwargs: Any) -> Any:
        """The result of a call that must succeed."""
        response = self.call(method, path, json, **kwargs)
        body = response.json()
        assert response.status_code == 200, body
        assert body["success"] is True and body["errors"] == []
        return body["result"]

    def page(self, path: str, **params: Any) -> tuple[list[Any], dict[str, int]]:
        response = self.call("GET", path, params=params)
        body = response.json()
        assert response.status_code == 200, body
        return body["result"], body["result_info"]

    def fail(self, status: int, method: str, path: str, json: Any = _NO_BODY, **kwargs: Any
             ) -> list[dict[str, Any]]:
        """The error items of a call that must be refused with `status`."""
        response = self.call(method, path, json, **kwargs)
        body = response.json()
        assert response.status_code == status, body
        assert body["success"] is False and body["result"] is None
        errors: list[dict[str, Any]] = body["errors"]
        return errors


def codes(errors: list[dict[str, Any]]) -> list[int]:
    return [error["code"] for error in errors]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_v4(clock: FakeClock) -> Callable[..., V4]:
    """`make_v4(seed=None)` → a client of a fresh sandbox (None = `base_seed()`)."""

    def make(seed: dict[str, Any] | None = None) -> V4:
        app = create_sandbox_app(base_seed() if seed is None else seed, clock=clock)
        return V4(app, clock)

    return make


@pytest.fixture
def v4(make_v4: Callable[..., V4]) -> V4:
    return make_v4()

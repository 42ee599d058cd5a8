"""End-to-end harness: the real CLI wiring on a real uvicorn server on a free loopback port.

Each test gets a proxy started exactly as `cf-v1-proxy serve --sandbox SEED.json` starts it,
with one addition: every v4 request on its way to the sandbox, and every sandbox answer, is
recorded and validated against Cloudflare's OpenAPI schema. A test that made the proxy send
anything the schema refuses fails at teardown.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
import uvicorn

from proxy.cli import assemble
from proxy.mapping import load
from proxy.server import config as server_config
from proxy.settings import Settings
from tests.support.openapi import check_v4_request, check_v4_response
from tests.support.processes import start_in_thread

EMAIL = "ops+cf@example.com"
KEY = "0123456789abcdef0123456789abcdef01234"  # the shape of a Global API key: 37 hex
OTHER_EMAIL = "other@example.net"
OTHER_KEY = "fedcba9876543210fedcba9876543210fedcb"


def base_seed() -> dict[str, Any]:
    """One user with example.com (a handful of records) and example.org; a second user."""
    return {
        "users": [
            {
                "email": EMAIL,
                "key": KEY,
                "zones": [
                    {
                        "name": "example.com",
                        "records": [
                            {"type": "A", "name": "www.example.com", "content": "192.0.2.1",
                             "ttl": 1, "proxied": True},
                            {"type": "A", "name": "home.example.com", "content": "192.0.2.7",
                             "ttl": 120, "proxied": False},
                            {"type": "AAAA", "name": "www.example.com",
                             "content": "2001:db8::1", "ttl": 1, "proxied": True},
                            {"type": "CNAME", "name": "blog.example.com",
                             "content": "www.example.com", "ttl": 1, "proxied": True},
                            {"type": "MX", "name": "example.com", "content": "mx1.example.net",
                             "ttl": 3600, "priority": 10},
                            {"type": "TXT", "name": "example.com", "content": "v=spf1 -all",
                             "ttl": 1},
                        ],
                        "settings": {"security_level": "medium"},
                    },
                    {"name": "example.org", "records": [
                        {"type": "A", "name": "example.org", "content": "192.0.2.20", "ttl": 1},
                    ]},
                ],
            },
            {
                "email": OTHER_EMAIL,
                "key": OTHER_KEY,
                "zones": [{"name": "example.net", "records": []}],
            },
        ]
    }


@dataclass
class V4Exchange:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    answer: Any
    # Names in lower case; what the proxy sent, for tests of what reaches Cloudflare.
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes v4 requests to the sandbox, keeping and checking each request and answer."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[V4Exchange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        body = json.loads(content) if content else None
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        path = request.url.path
        try:
            check_v4_request(request.method, path, query, body)
        except AssertionError as exc:
            self.problems.append(f"request {request.method} {path}: {exc}")

        response = await self.inner.handle_async_request(request)
        raw = await response.aread()
        answer = json.loads(raw) if raw else None
        try:
            check_v4_response(request.method, path, response.status_code, answer)
        except AssertionError as exc:
            self.problems.append(f"answer {request.method} {path}: {exc}")
        self.exchanges.append(
            V4Exchange(request.method, path, query, body, response.status_code, answer,
                       dict(request.headers))
        )
        return httpx.Response(response.status_code, headers=response.headers, content=raw)


@dataclass
class RunningProxy:
    url: str
    recorder: RecordingTransport
    app: Any

    @property
    def v4_calls(self) -> list[tuple[str, str]]:
        return [(x.method, x.path) for x in self.recorder.exchanges]

    def forget_calls(self) -> None:
        self.recorder.exchanges.clear()

    def v1(self, method: str = "GET", **params: Any) -> httpx.Response:
        """A v1 call with the test user's credentials unless the test gives its own."""
        params.setdefault("email", EMAIL)
        params.setdefault("tkn", KEY)
        params = {k: v for k, v in params.items() if v is not None}
        if method == "GET":
            return httpx.get(f"{self.url}/api_json.html", params=params, timeout=10)
        return httpx.post(f"{self.url}/api_json.html", data=params, timeout=10)

    def v4(self, method: str, path: str, *, email: str = EMAIL, key: str = KEY,
           **kwargs: Any) -> Any:
        """The sandbox's own v4 API, as a user would read it back with curl."""
        response = httpx.request(
            method, f"{self.url}/client/v4{path}", timeout=10,
            headers={"X-Auth-Email": email, "X-Auth-Key": key}, **kwargs,
        )
        return response.json()

    def zone_id(self, name: str = "example.com") -> str:
        return str(self.v4("GET", "/zones", params={"name": name})["result"][0]["id"])

    def records(self, zone: str = "example.com", **filters: str) -> list[dict[str, Any]]:
        result = self.v4("GET", f"/zones/{self.zone_id(zone)}/dns_records",
                         params={"per_page": 5000, **filters})["result"]
        return list(result)

    def setting(self, name: str, zone: str = "example.com") -> Any:
        return self.v4("GET", f"/zones/{self.zone_id(zone)}/settings/{name}")["result"]["value"]

    def access_rules(self) -> list[tuple[str, str, str]]:
        """Every user-level rule as (target, value, mode), sorted."""
        rules = self.v4("GET", "/user/firewall/access_rules/rules",
                        params={"per_page": 1000})["result"]
        return sorted((r["configuration"]["target"], r["configuration"]["value"], r["mode"])
                      for r in rules)

    def v4_writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.v4_calls if m != "GET"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Callable[..., RunningProxy]]:
    """`start_proxy(seed=None, **settings)` → a RunningProxy; stopped after the test."""
    servers: list[tuple[uvicorn.Server, threading.Thread, RunningProxy]] = []

    def start(seed: dict[str, Any] | None = None, **overrides: Any) -> RunningProxy:
        seed_path = tmp_path / f"seed{len(servers)}.json"
        seed_path.write_text(json.dumps(seed if seed is not None else base_seed()))
        port = free_port()
        # With an `upstream` given, the proxy runs without a sandbox of its own.
        sandbox = None if "upstream" in overrides else str(seed_path)
        # The migration report stays in memory unless a test gives it a file.
        overrides.setdefault("migration_db", "")
        settings = replace(Settings(), sandbox=sandbox, port=port, **overrides)
        holder: dict[str, RecordingTransport] = {"recorder": RecordingTransport(
            httpx.AsyncHTTPTransport())}

        def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
            holder["recorder"] = RecordingTransport(inner)
            return holder["recorder"]

        app = assemble(settings, load(), wrap_transport=wrap)
        # The same server set-up `cf-v1-proxy serve` runs (hardened httptools, no access log).
        server = uvicorn.Server(server_config(app, replace(settings, log_level="warning")))
        thread = start_in_thread(server)
        running = RunningProxy(f"http://127.0.0.1:{port}", holder["recorder"], app)
        servers.append((server, thread, running))
        return running

    yield start

    for server, thread, running in servers:
        server.should_exit = True
        thread.join(timeout=10)
        assert not running.recorder.problems, "\n".join(running.recorder.problems)


@pytest.fixture
def proxy(start_proxy: Callable[..., RunningProxy]) -> RunningProxy:
    return start_proxy()


def form_query(**params: Any) -> str:
    return urlencode(params)

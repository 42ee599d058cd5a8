"""Reliability and security suites: a proxy in front of a misbehaving v4 on a real socket.

Every test here runs under a log watch: any log record (DEBUG and up, from any thread) whose
formatted text holds a test credential, plain or URL-encoded, fails the test. The proxy may
only ever show a credential's fingerprint.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from proxy import envelope
from proxy.settings import Settings
from tests.e2e.conftest import EMAIL, KEY, OTHER_EMAIL, OTHER_KEY, base_seed
from tests.support.faulty_upstream import FaultyUpstream, proxy_in_thread


def fast_settings(upstream_url: str) -> Settings:
    """Small timeouts keep every fault quick; the defaults (5 / 15 / 25 s) act the same, slower."""
    return Settings(upstream=upstream_url, connect_timeout=0.5, read_timeout=0.5,
                    call_deadline=3.0)

ZONE = "example.com"


def secret_forms() -> set[str]:
    """Every spelling of the test credentials a leak could take."""
    forms: set[str] = set()
    for secret in (EMAIL, KEY, OTHER_EMAIL, OTHER_KEY):
        forms |= {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms.add(EMAIL.replace("+", " "))  # a "+" decoded as a space
    return forms


class CredentialWatch(logging.Handler):
    """Keeps every log record whose formatted text carries a credential."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.secrets = sorted(secret_forms(), key=len, reverse=True)
        self.leaks: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        text = self.format(record)
        if any(secret.lower() in text.lower() for secret in self.secrets):
            self.leaks.append(text[:300])


@pytest.fixture(autouse=True)
def no_credential_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[CredentialWatch]:
    caplog.set_level(logging.DEBUG)
    # The tests' own v1 clients put credentials in query strings, and httpx prints whole URLs
    # at INFO; `cf-v1-proxy serve` silences it the same way.
    caplog.set_level(logging.WARNING, logger="httpx")
    # httpcore traces every socket event at DEBUG (no header values): thousands of records
    # in a soak, and nothing a credential could be in.
    caplog.set_level(logging.INFO, logger="httpcore")
    watch = CredentialWatch()
    logging.getLogger().addHandler(watch)
    try:
        yield watch
    finally:
        logging.getLogger().removeHandler(watch)
    assert not watch.leaks, "log lines carry a credential:\n" + "\n".join(watch.leaks[:10])


def v1_http_client() -> httpx.Client:
    """One pooled client per proxy: building an httpx.Client (its TLS context) takes ~30 ms.
    Idle connections go before the proxy's 5 s keep-alive timeout can race a new call."""
    return httpx.Client(timeout=30, limits=httpx.Limits(keepalive_expiry=2.0))


@dataclass
class V1:
    """A v1 client for one proxy: every answer must be HTTP 200 (or `status`) and JSON."""

    url: str
    http: httpx.Client = field(default_factory=v1_http_client)

    def raw(self, a: str | None, *, email: str | None = EMAIL, tkn: str | None = KEY,
            **params: Any) -> httpx.Response:
        data = {"a": a, "email": email, "tkn": tkn, **params}
        return self.http.post(f"{self.url}/api_json.html",
                              data={k: v for k, v in data.items() if v is not None})

    def __call__(self, a: str | None, *, status: int = 200, **params: Any) -> dict[str, Any]:
        """The answer as an OrderedDict: compared with another, key order counts too."""
        response = self.raw(a, **params)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        body: dict[str, Any] = json.loads(response.text, object_pairs_hook=OrderedDict)
        # Compact, ASCII, "/" as "\/": the bytes v1 clients grep.
        assert envelope.encode(body) == response.content
        return body


def ordered(**items: Any) -> OrderedDict[str, Any]:
    """An expected v1 answer whose key order is part of the comparison."""
    return OrderedDict(items)


@dataclass
class Rig:
    upstream: FaultyUpstream
    v1: V1


@pytest.fixture
def upstream() -> Iterator[FaultyUpstream]:
    with FaultyUpstream(base_seed()) as faulty:
        yield faulty
    assert not faulty.violations, "\n".join(faulty.violations[:20])


@pytest.fixture
def start_proxy(upstream: FaultyUpstream) -> Iterator[Callable[..., V1]]:
    """`start_proxy(**settings)` → a V1 client of a proxy in front of `upstream`."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> V1:
            settings = replace(fast_settings(upstream.url), **overrides)
            v1 = V1(stack.enter_context(proxy_in_thread(settings)))
            stack.callback(v1.http.close)
            return v1

        yield start


@pytest.fixture(scope="module")
def shared_rig() -> Iterator[Rig]:
    """One upstream and one proxy for a module's tests (each test cleans up after itself)."""
    with FaultyUpstream(base_seed()) as faulty, proxy_in_thread(
        fast_settings(faulty.url)
    ) as url, v1_http_client() as http:
        yield Rig(faulty, V1(url, http))


@pytest.fixture
def rig(shared_rig: Rig) -> Iterator[Rig]:
    """The module's rig with no plan, no requests seen, and a warm zone cache."""
    faulty = shared_rig.upstream
    faulty.clear()
    assert shared_rig.v1("rec_load_all", z=ZONE)["result"] == "success"
    faulty.forget()
    yield shared_rig
    faulty.settle()
    faulty.clear()
    violations, faulty.violations[:] = list(faulty.violations), []
    assert not violations, "\n".join(violations[:20])

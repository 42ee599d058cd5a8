"""Generated input: whatever a client sends, the sandbox answers a v4 envelope, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.sandbox import create_sandbox_app
from tests.sandbox.conftest import V4, WWW_A, ZONE, FakeClock, base_seed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA", "NS", "LOC"])
    | st.text(max_size=5),
    "name": st.sampled_from(["@", "www.example.com", "_x._tcp.example.com", "*.example.com"])
    | st.text(max_size=30),
    "content": st.sampled_from(["192.0.2.1", "2001:db8::1", "host.example.net"]) | JSON,
    "ttl": st.integers(-5, 100000) | JSON,
    "proxied": st.booleans() | JSON,
    "priority": st.integers(-1, 70000) | JSON,
    "data": st.fixed_dictionaries({}, optional={
        k: st.integers(-1, 70000) | JSON for k in ("priority", "weight", "port", "flags")
    }) | JSON,
    "comment": JSON,
    "tags": JSON,
})
PATHS = [
    ("POST", f"/zones/{ZONE}/dns_records"),
    ("PATCH", f"/zones/{ZONE}/dns_records/{WWW_A}"),
    ("PUT", f"/zones/{ZONE}/dns_records/{WWW_A}"),
    ("PATCH", f"/zones/{ZONE}/settings/security_header"),
    ("PATCH", f"/zones/{ZONE}/settings/challenge_ttl"),
    ("POST", f"/zones/{ZONE}/purge_cache"),
    ("POST", "/user/firewall/access_rules/rules"),
]
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def fresh() -> V4:
    clock = FakeClock()
    return V4(create_sandbox_app(base_seed(), clock=clock), clock)


@FAST
@given(body=FIELDS | JSON, target=st.sampled_from(PATHS))
def test_generated_bodies_get_v4_answers(body: Any, target: tuple[str, str]) -> None:
    method, path = target
    payload = {"value": body} if "/settings/" in path else body
    response = fresh().call(method, path, payload, valid_request=None)
    assert response.status_code in (200, 400), response.json()


@FAST
@given(content=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_generated_bytes_get_v4_answers(content: bytes) -> None:
    response = fresh().call("POST", f"/zones/{ZONE}/dns_records", content=content)
    assert response.status_code == 400


@FAST
@given(query=st.dictionaries(
    st.sampled_from(["page", "per_page", "name", "type", "content", "proxied", "order",
                     "direction", "match", "status", "account.id", "mode", "notes",
                     "configuration.value", "configuration.target"]),
    st.text(max_size=12), max_size=4,
), path=st.sampled_from(["/zones", f"/zones/{ZONE}/dns_records",
                         "/user/firewall/access_rules/rules"]))
def test_generated_queries_get_v4_answers(query: dict[str, str], path: str) -> None:
    response = fresh().call("GET", path, params=query, valid_request=None)
    assert response.status_code in (200, 400), response.json()

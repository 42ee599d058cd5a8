"""Generated v1 requests: whatever arrives, the answer is v1 JSON (or JSONP), never a 500.

The app is the one `cf-v1-proxy serve --sandbox SEED` runs, called in-process. Hypothesis
draws parameter names (known ones and any text), values (valid ones, any text without
surrogates, control characters included, raw bytes), the transport (query string,
urlencoded, multipart, or a body of arbitrary bytes under an arbitrary content type), and the
HTTP method.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.cli import assemble
from proxy.mapping import load
from proxy.settings import Settings
from tests.e2e.conftest import EMAIL, KEY, base_seed

KNOWN_KEYS = ["a", "act", "z", "id", "email", "u", "tkn", "type", "name", "content", "ttl",
              "prio", "service_mode", "v", "o", "zones", "zs", "callback", "key", "url",
              "service", "protocol", "srvname", "weight", "port", "target"]
ACTIONS = ["rec_load_all", "rec_new", "rec_edit", "rec_delete", "zone_load_multi", "zone_check",
           "sec_lvl", "cache_lvl", "devmode", "ipv46", "async", "zone_settings", "fpurge_ts",
           "zone_file_purge", "wl", "ban", "nul", "stats", "ip_lkup", "no_such_action"]
VALID_VALUES = ["example.com", "example.org", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPF",
                "www", "@", "192.0.2.9", "2001:db8::9", "mail.example.net", "1", "0", "120",
                "med", "agg", "cb", "_sip", "_tcp", "http://example.com/a", "198.51.100.0/24",
                "0123456789abcdef0123456789abcdef", "12345", ""]
METHODS_ALLOWED = ("GET", "POST")
JSONP = re.compile(rb"([A-Za-z_$][A-Za-z0-9_$.]*)\((.*)\)", re.DOTALL)

text = st.text(st.characters(codec="utf-8"), max_size=40)  # all but surrogates
keys = st.one_of(st.sampled_from(KNOWN_KEYS), text)
values = st.one_of(st.sampled_from(VALID_VALUES), st.sampled_from(ACTIONS), text)
pairs = st.lists(st.tuples(keys, values), max_size=8)
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class InProcess:
    """The assembled app on an in-process transport, driven from one event loop."""

    def __init__(self, seed_path: Path) -> None:
        app = assemble(Settings(sandbox=str(seed_path), rate_budget=(1_000_000, 1.0)), load())
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://proxy.test")

    def request(self, method: str, query: str, body: bytes | None,
                content_type: str | None) -> httpx.Response:
        headers = {"content-type": content_type} if content_type is not None else {}
        url = "/api_json.html" + (f"?{query}" if query else "")
        return self.loop.run_until_complete(
            self.client.request(method, url, content=body, headers=headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    seed = tmp_path_factory.mktemp("seed") / "seed.json"
    seed.write_text(json.dumps(base_seed()))
    running = InProcess(seed)
    yield running
    running.close()


def encode_pairs(items: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)


def multipart(items: list[tuple[str, str]], boundary: str) -> bytes:
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
        + v.encode() + b"\r\n"
        for k, v in items
    )
    return parts + f"--{boundary}--\r\n".encode()


def assert_v1_answer(response: httpx.Response, method: str) -> dict[str, Any]:
    """HTTP 200/405/410, Content-Length exact, and a v1 body with a `result`."""
    assert response.status_code in (200, 405, 410), response.text[:500]
    if response.status_code == 405:
        assert method not in METHODS_ALLOWED
    assert int(response.headers["content-length"]) == len(response.content)
    assert "transfer-encoding" not in response.headers
    content = response.content
    if response.headers["content-type"] == "application/javascript":
        wrapped = JSONP.fullmatch(content)
        assert wrapped is not None, content[:200]
        content = wrapped.group(2)
    else:
        assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(content)
    assert body["result"] in ("success", "error"), body
    if body["result"] == "error":
        assert isinstance(body["msg"], str) and body["msg"]
        assert body.get("err_code") in (None, "E_UNAUTH", "E_INVLDINPUT", "E_MAXAPI")
    return body


@PROPERTY_SETTINGS
@given(
    action=st.sampled_from(ACTIONS),
    items=pairs,
    credentials=st.booleans(),
    transport=st.sampled_from(["query", "urlencoded", "multipart", "query+body"]),
    method=st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "PATCH"]),
)
def test_any_parameters_by_any_transport_get_a_v1_answer(
    proxy: InProcess, action: str, items: list[tuple[str, str]], credentials: bool,
    transport: str, method: str,
) -> None:
    items = [("a", action), ("z", "example.com"), *items]
    if credentials:
        items += [("email", EMAIL), ("tkn", KEY)]
    half = len(items) // 2

    if transport == "query":
        response = proxy.request(method, encode_pairs(items), None, None)
    elif transport == "urlencoded":
        response = proxy.request(method, "", encode_pairs(items).encode(),
                                 "application/x-www-form-urlencoded")
    elif transport == "multipart":
        response = proxy.request(method, "", multipart(items, "b0undary"),
                                 "multipart/form-data; boundary=b0undary")
    else:
        response = proxy.request(method, encode_pairs(items[:half]),
                                 encode_pairs(items[half:]).encode(),
                                 "application/x-www-form-urlencoded")

    assert_v1_answer(response, method)


@PROPERTY_SETTINGS
@given(
    query=st.binary(max_size=200),
    body=st.one_of(st.none(), st.binary(max_size=400)),
    content_type=st.one_of(
        st.none(),
        st.sampled_from([
            "application/x-www-form-urlencoded", "www-form-urlencoded",
            "multipart/form-data", "multipart/form-data; boundary=x",
            "multipart/form-data; boundary=\"", "multipart/form-data; boundary=" + "b" * 80,
            "application/json", "text/plain; charset=utf-16", "*/*", "",
        ]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60),
    ),
    method=st.sampled_from(["GET", "POST", "POST", "PUT"]),
)
def test_raw_bytes_under_any_content_type_get_a_v1_answer(
    proxy: InProcess, query: bytes, body: bytes | None, content_type: str | None, method: str
) -> None:
    # Every byte percent-encoded except the separators, so the bytes decide the structure.
    response = proxy.request(method, quote_from_bytes(query, safe="=&"), body, content_type)

    assert_v1_answer(response, method)


@PROPERTY_SETTINGS
@given(
    items=pairs,
    boundary=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e,
                                   exclude_characters='";\\'), min_size=1, max_size=70),
    cut=st.integers(min_value=0, max_value=400),
)
def test_multipart_bodies_cut_anywhere_get_a_v1_answer(
    proxy: InProcess, items: list[tuple[str, str]], boundary: str, cut: int
) -> None:
    # The fixed fields come last, so they win over drawn ones: whole, this call succeeds.
    items = [*items, ("a", "zone_check"), ("zones", "example.com"), ("email", EMAIL),
             ("tkn", KEY)]
    body = multipart(items, boundary)

    response = proxy.request("POST", "", body[: max(0, len(body) - cut)],
                             f"multipart/form-data; boundary={boundary}")

    answer = assert_v1_answer(response, "POST")
    if cut > len("--\r\n"):  # an unfinished body is refused whole, never half-read
        assert answer["result"] == "error", answer

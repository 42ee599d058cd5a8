"""Token mode: the proxy holds a v4 API token; listed v1 pairs reach what it reaches."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.credentials import credentials_line
from proxy.sandbox import DEMO_EMAIL, DEMO_KEY, DEMO_TOKEN
from tests.e2e.conftest import (
    EMAIL,
    KEY,
    OTHER_EMAIL,
    OTHER_KEY,
    RunningProxy,
    base_seed,
    free_port,
)
from tests.support.processes import serve_process

TOKEN = "proxy-held_v4-token_0123456789ABCDEFabcdef"
LEGACY_EMAIL = "legacy-app@example.net"
LEGACY_KEY = "the-old-key-of-a-legacy-app"


def token_seed() -> dict[str, Any]:
    seed = base_seed()
    seed["users"][0]["token"] = TOKEN
    return seed


@pytest.fixture(scope="module")
def credentials_text() -> str:
    # The account's own Global API key may stay in an old app's config: it is accepted here,
    # and then never travels to Cloudflare.
    return "\n".join([
        "# accepted v1 pairs (cf-v1-proxy hash-key EMAIL)",
        credentials_line(LEGACY_EMAIL, LEGACY_KEY),
        "",
        credentials_line(EMAIL, KEY),
    ]) + "\n"


@pytest.fixture
def token_proxy(
    start_proxy: Callable[..., RunningProxy], tmp_path: Path, credentials_text: str
) -> RunningProxy:
    path = tmp_path / "v1-credentials"
    path.write_text(credentials_text)
    return start_proxy(token_seed(), v4_token=TOKEN, v1_credentials=str(path))


def sent_text(proxy: RunningProxy) -> str:
    return json.dumps([(x.path, x.query, x.body, x.headers) for x in proxy.recorder.exchanges])


def test_a_listed_pair_works_end_to_end_and_v4_sees_only_the_token(
    token_proxy: RunningProxy,
) -> None:
    listing = token_proxy.v1(a="rec_load_all", z="example.com", email=LEGACY_EMAIL,
                             tkn=LEGACY_KEY).json()
    assert listing["result"] == "success"
    assert listing["response"]["recs"]["count"] == 6

    created = token_proxy.v1("POST", a="rec_new", z="example.com", type="A", name="app",
                             content="192.0.2.77", email=LEGACY_EMAIL, tkn=LEGACY_KEY).json()
    assert created["result"] == "success"
    assert [r["content"] for r in token_proxy.records(name="app.example.com")] == ["192.0.2.77"]

    exchanges = token_proxy.recorder.exchanges
    assert exchanges
    for exchange in exchanges:
        assert exchange.headers.get("authorization") == f"Bearer {TOKEN}"
        assert "x-auth-key" not in exchange.headers
        assert "x-auth-email" not in exchange.headers
    assert LEGACY_KEY not in sent_text(token_proxy)
    assert LEGACY_EMAIL not in sent_text(token_proxy)


def test_the_accounts_own_key_as_a_v1_key_never_reaches_cloudflare(
    token_proxy: RunningProxy,
) -> None:
    answer = token_proxy.v1(a="zone_load_multi").json()  # EMAIL + KEY, both listed
    assert answer["result"] == "success"
    assert token_proxy.recorder.exchanges
    assert KEY not in sent_text(token_proxy)
    assert all("x-auth-key" not in x.headers for x in token_proxy.recorder.exchanges)


@pytest.mark.parametrize(
    ("email", "key"),
    [
        (OTHER_EMAIL, OTHER_KEY),  # a real Cloudflare pair, but not listed
        (LEGACY_EMAIL, KEY),  # a listed e-mail with another pair's key
        (LEGACY_EMAIL, LEGACY_KEY + "x"),
        (EMAIL, LEGACY_KEY),
    ],
)
def test_an_unlisted_pair_gets_e_unauth_without_a_v4_call(
    token_proxy: RunningProxy, email: str, key: str
) -> None:
    answer = token_proxy.v1(a="rec_load_all", z="example.com", email=email, tkn=key).json()
    assert answer == {"result": "error", "msg": "Unknown token or email", "err_code": "E_UNAUTH"}
    assert token_proxy.v4_calls == []


def test_listed_pairs_share_the_tokens_zone_cache(token_proxy: RunningProxy) -> None:
    first = token_proxy.v1(a="rec_load_all", z="example.com", email=LEGACY_EMAIL,
                           tkn=LEGACY_KEY).json()
    assert first["result"] == "success"
    assert ("GET", "/zones") in token_proxy.v4_calls
    token_proxy.forget_calls()

    second = token_proxy.v1(a="rec_load_all", z="example.com").json()  # the other pair
    assert second["result"] == "success"
    assert ("GET", "/zones") not in token_proxy.v4_calls
    assert token_proxy.v4_calls == [("GET", f"/zones/{token_proxy.zone_id()}/dns_records")]


def test_without_token_mode_pairs_keep_caches_of_their_own(proxy: RunningProxy) -> None:
    assert proxy.v1(a="rec_load_all", z="example.com").json()["result"] == "success"
    proxy.forget_calls()
    # The other pair asks for the same zone: v4 is asked again, with that pair, and says no.
    other = proxy.v1(a="rec_load_all", z="example.com", email=OTHER_EMAIL,
                     tkn=OTHER_KEY).json()
    assert other["msg"] == "Invalid zone."
    assert ("GET", "/zones") in proxy.v4_calls
    assert all(x.headers.get("x-auth-email") == OTHER_EMAIL for x in proxy.recorder.exchanges)


def test_serve_refuses_a_bad_credentials_file_naming_each_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "v1-credentials"
    good = credentials_line(LEGACY_EMAIL, LEGACY_KEY)
    path.write_text(f"# comment\n{good}\nops@example.com {LEGACY_KEY}\n\nnot-an-email "
                    f"{good.split()[1]}\n")
    result = subprocess.run(
        [sys.executable, "-m", "proxy", "serve", "--v4-token", TOKEN,
         "--v1-credentials", str(path)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "bad token mode settings" in result.stderr
    assert f"{path} line 3: not `EMAIL scrypt" in result.stderr
    assert f"{path} line 5: the first field is not an e-mail address" in result.stderr
    assert "line 2" not in result.stderr
    assert LEGACY_KEY not in result.stderr  # a key pasted by mistake is not repeated


def test_hash_key_prints_a_line_that_token_mode_accepts(
    start_proxy: Callable[..., RunningProxy], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proxy", "hash-key", LEGACY_EMAIL],
        input=LEGACY_KEY + "\n", capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"{LEGACY_EMAIL} scrypt$") and LEGACY_KEY not in line

    path = tmp_path / "v1-credentials"
    path.write_text(line + "\n")
    proxy = start_proxy(token_seed(), v4_token=TOKEN, v1_credentials=str(path))
    answer = proxy.v1(a="zone_load_multi", email=LEGACY_EMAIL, tkn=LEGACY_KEY).json()
    assert answer["result"] == "success"
    assert answer["response"]["zones"]["count"] == 2


def test_token_mode_on_the_embedded_sandbox_as_the_readme_shows(tmp_path: Path) -> None:
    hashed = subprocess.run(
        [sys.executable, "-m", "proxy", "hash-key", LEGACY_EMAIL],
        input=LEGACY_KEY + "\n", capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    (tmp_path / "v1-credentials").write_text(hashed)
    port = free_port()
    args = ("--sandbox", "--v4-token", DEMO_TOKEN,
            "--v1-credentials", str(tmp_path / "v1-credentials"))

    with serve_process(port, tmp_path / "proxy.log", *args):
        def v1(email: str, key: str) -> Any:
            return httpx.post(f"http://127.0.0.1:{port}/api_json.html", timeout=10, data={
                "a": "rec_load_all", "z": "example.com", "email": email, "tkn": key}).json()

        listed = v1(LEGACY_EMAIL, LEGACY_KEY)
        assert listed["result"] == "success", listed
        assert listed["response"]["recs"]["count"] == 6
        assert v1(DEMO_EMAIL, DEMO_KEY) == {
            "result": "error", "msg": "Unknown token or email", "err_code": "E_UNAUTH"}

"""Actions with no v4 equivalent, and unknown ones: HTTP 410 with a v1 error body."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import RunningProxy

RETIRED = {
    "stats": "GraphQL Analytics API",
    "zone_ips": "no Cloudflare API v4 equivalent",
    "ip_lkup": "no Cloudflare API v4 equivalent",
    "ips_lookup": "no Cloudflare API v4 equivalent",
    "zone_grab": "no Cloudflare API v4 equivalent",
    "minify": "Auto Minify reached end of life",
    "mirage2": "Polish",
    "rec_set": "rec_new",
    "rec_del": "rec_delete",
    "DIUP": "rec_edit",
    "pre_purge": "purge_cache",
}


@pytest.mark.parametrize("action", sorted(RETIRED))
def test_retired_action_answers_410_naming_the_replacement(
    proxy: RunningProxy, action: str
) -> None:
    response = proxy.v1(a=action, z="example.com")
    assert response.status_code == 410
    body = response.json()
    assert list(body) == ["request", "result", "msg"]
    assert body["result"] == "error"
    assert RETIRED[action] in body["msg"]
    assert proxy.v4_calls == []


def test_unknown_action_answers_410_without_credentials_or_v4_calls(proxy: RunningProxy) -> None:
    response = proxy.v1(a="no_such_action", email=None, tkn=None)
    assert response.status_code == 410
    assert response.content.startswith(
        b'{"request":{"act":"no_such_action"},"result":"error","msg":"Action no_such_action '
    )
    assert proxy.v4_calls == []


def test_missing_action_is_an_input_error(proxy: RunningProxy) -> None:
    response = proxy.v1()
    assert response.status_code == 200
    assert response.content == (
        b'{"result":"error","msg":"No action given.","err_code":"E_INVLDINPUT"}'
    )


def test_legacy_api_html_path_is_410(proxy: RunningProxy) -> None:
    import httpx

    response = httpx.get(f"{proxy.url}/api.html", params={"a": "DIUP"})
    assert response.status_code == 410
    assert response.json()["result"] == "error"

"""The four transports real v1 clients use, each driving list/create/edit/delete."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import EMAIL, KEY, RunningProxy


def send(proxy: RunningProxy, transport: str, params: dict[str, Any]) -> dict[str, Any]:
    params = {"email": EMAIL, "tkn": KEY, **params}
    url = f"{proxy.url}/api_json.html"
    if transport == "get":
        response = httpx.get(url, params=params)
    elif transport == "urlencoded":
        response = httpx.post(url, data=params)
    elif transport == "multipart":
        boundary = uuid.uuid4().hex
        parts = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in params.items()
        ) + f"--{boundary}--\r\n".encode()
        response = httpx.post(
            url, content=parts,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    else:  # query string on a POST with an empty body, as a Go library sends writes
        response = httpx.post(url, params=params, content=b"")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = json.loads(response.content)
    return body


TRANSPORTS = ["get", "urlencoded", "multipart", "empty-post"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_record_life_cycle_through_each_transport(proxy: RunningProxy, transport: str) -> None:
    listed = send(proxy, transport, {"a": "rec_load_all", "z": "example.com"})
    assert listed["result"] == "success"
    assert listed["response"]["recs"]["count"] == 6

    created = send(proxy, transport, {"a": "rec_new", "z": "example.com", "type": "A",
                                      "name": "dyn", "content": "198.51.100.4", "ttl": "120"})
    assert created["result"] == "success", created
    obj = created["response"]["rec"]["obj"]
    assert (obj["name"], obj["type"], obj["content"], obj["ttl"]) == (
        "dyn.example.com", "A", "198.51.100.4", "120")
    [stored] = proxy.records(name="dyn.example.com")
    assert (stored["content"], stored["ttl"], stored["proxied"]) == ("198.51.100.4", 120, False)
    assert obj["rec_tag"] == stored["id"]

    edited = send(proxy, transport, {"a": "rec_edit", "z": "example.com", "id": obj["rec_id"],
                                     "type": "A", "name": "dyn", "content": "198.51.100.5",
                                     "ttl": "1", "service_mode": "1"})
    assert edited["result"] == "success", edited
    assert edited["response"]["rec"]["obj"]["rec_id"] == obj["rec_id"]
    [stored] = proxy.records(name="dyn.example.com")
    assert (stored["content"], stored["ttl"], stored["proxied"]) == ("198.51.100.5", 1, True)

    deleted = send(proxy, transport, {"a": "rec_delete", "z": "example.com",
                                      "id": obj["rec_id"]})
    assert deleted["result"] == "success", deleted
    assert "response" not in deleted
    assert proxy.records(name="dyn.example.com") == []


def test_body_wins_over_query(proxy: RunningProxy) -> None:
    response = httpx.post(
        f"{proxy.url}/api_json.html",
        params={"a": "rec_load_all", "z": "nowhere.example", "email": EMAIL, "tkn": KEY},
        data={"z": "example.com"},
    )
    assert response.json()["result"] == "success"
    assert response.json()["request"]["z"] == "example.com"


def test_raw_plus_in_email_is_repaired(proxy: RunningProxy) -> None:
    # A Perl DDNS client pastes the address unencoded: `+` arrives as a space.
    raw = f"a=zone_load_multi&email=ops+cf@example.com&tkn={KEY}"
    response = httpx.get(f"{proxy.url}/api_json.html?{raw}")
    assert response.json()["result"] == "success"


def test_aliases_u_act_zs(proxy: RunningProxy) -> None:
    response = httpx.post(f"{proxy.url}/api_json.html",
                          data={"act": "zone_check", "zs": "example.com,unknown.test,",
                                "u": EMAIL, "tkn": KEY})
    body = response.json()
    assert body["result"] == "success"
    assert list(body["response"]["zones"]) == ["example.com", "unknown.test"]
    assert body["response"]["zones"]["unknown.test"] == 0
    assert isinstance(body["response"]["zones"]["example.com"], int)


def test_unknown_content_type_is_read_as_urlencoded(proxy: RunningProxy) -> None:
    body = f"a=zone_load_multi&email={EMAIL.replace('+', '%2B')}&tkn={KEY}".encode()
    response = httpx.post(f"{proxy.url}/api_json.html", content=body,
                          headers={"Content-Type": "www-form-urlencoded"})
    assert response.json()["result"] == "success"


def test_oversized_body_is_refused_with_a_v1_error(proxy: RunningProxy) -> None:
    response = httpx.post(f"{proxy.url}/api_json.html",
                          content=b"a=zone_load_multi&x=" + b"y" * (1024 * 1024 + 10),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json() == {"result": "error", "msg": "Request body larger than 1048576 "
                               "bytes.", "err_code": "E_INVLDINPUT"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_with_a_v1_body(proxy: RunningProxy, method: str) -> None:
    response = httpx.request(method, f"{proxy.url}/api_json.html", content=b"")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.content == b'{"result":"error","msg":"Use GET or POST."}'


@pytest.mark.parametrize("path", ["/", "/API_JSON.HTML", "/api_json.html/", "//api_json.html"])
def test_unknown_paths_get_404_with_a_v1_body(proxy: RunningProxy, path: str) -> None:
    response = httpx.get(f"{proxy.url}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["result"] == "error"


def test_a_body_that_never_arrives_gets_an_answer(
    start_proxy: Callable[..., RunningProxy],
) -> None:
    proxy = start_proxy(header_timeout=0.5)
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /api_json.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\na=1")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"result":"error","msg":"The request body did not arrive in '
                           b'time.","err_code":"E_INVLDINPUT"}')

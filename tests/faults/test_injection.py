"""Path, query and header injection through every v1 parameter, by every v1 transport.

Each hostile value goes into one parameter of an otherwise valid call (raw, and appended to a
valid value), sent as a GET query, a urlencoded body and a multipart body. Whatever it is:
the answer is HTTP 200 (410 for an unknown action) with a v1 JSON body; the v4 side saw only
paths the mapping table may call, no header with CR/LF or an injected `X-Injected`, nothing
the v4 schema refuses; and a refused call left no write behind.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.conftest import EMAIL, KEY
from tests.faults.conftest import V1, ZONE, Rig, ordered

HOSTILE = [
    "../",
    "..%2F",
    "%2F",
    "%252F",
    "a/b",
    "/zones/../user",
    "?x=1",
    "&a=rec_delete",
    "#frag",
    "\r\nX-Injected: 1",
    "\nX-Injected: 1",
    "\x00",
    "\uff0f",  # fullwidth solidus
    "\u2024",  # one dot leader
    "\u3002",  # ideographic full stop (IDNA maps it to ".")
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\ufeff",  # byte order mark
    "x" * 5000,
]

# Each parameter, in an action that reads it, beside valid values for the rest.
VALID = {"z": ZONE, "key": "192.0.2.55", "url": "http://example.com/x", "email": EMAIL,
         "tkn": KEY, "type": "A", "name": "inj", "content": "192.0.2.60", "v": "med", "o": "0",
         "zones": ZONE, "callback": "cb", "a": "rec_load_all"}
CALLS: dict[str, dict[str, str]] = {
    "z": {"a": "rec_load_all"},
    "id": {"a": "rec_edit", "z": ZONE, "content": "192.0.2.61"},
    "key": {"a": "wl", "z": ZONE},
    "url": {"a": "zone_file_purge", "z": ZONE},
    "email": {"a": "rec_load_all", "z": ZONE},
    "tkn": {"a": "rec_load_all", "z": ZONE},
    "type": {"a": "rec_new", "z": ZONE, "name": "inj-type", "content": "192.0.2.62"},
    "name": {"a": "rec_new", "z": ZONE, "type": "A", "content": "192.0.2.63"},
    "content": {"a": "rec_new", "z": ZONE, "type": "TXT", "name": "inj-content"},
    "v": {"a": "sec_lvl", "z": ZONE},
    "o": {"a": "rec_load_all", "z": ZONE},
    "zones": {"a": "zone_check"},
    "callback": {"a": "rec_load_all", "z": ZONE},
    "a": {"z": ZONE},
}
TRANSPORTS = ("query", "urlencoded", "multipart")


def send(v1: V1, transport: str, params: dict[str, str]) -> httpx.Response:
    """One v1 call; every value arrives exactly as given, however it is encoded."""
    endpoint = f"{v1.url}/api_json.html"
    if transport == "query":
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
        return v1.http.get(f"{endpoint}?{query}")
    if transport == "urlencoded":
        return v1.http.post(endpoint, data=params)
    boundary = uuid.uuid4().hex
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
        + v.encode() + b"\r\n"
        for k, v in params.items()
    )
    return v1.http.post(endpoint, content=parts + f"--{boundary}--\r\n".encode(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def hostile_values(param: str, record_id: str) -> Iterator[str]:
    valid = record_id if param == "id" else VALID[param]
    for value in HOSTILE:
        yield value
        yield valid + value
        yield value + valid


def v1_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON (or JSONP `NAME(...)`) body of a v1 answer."""
    text = response.text
    if response.headers["content-type"] == "application/javascript":
        text = text[text.index("(") + 1 : -1]
    else:
        assert response.headers["content-type"] == "application/json", response.headers
    body: dict[str, Any] = json.loads(text)
    return body


@pytest.fixture
def record_id(rig: Rig) -> str:
    found = rig.v1("rec_load_all", z=ZONE)["response"]["recs"]["objs"][0]
    rig.upstream.forget()
    return str(found["rec_id"])


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("param", sorted(CALLS))
def test_a_hostile_value_reaches_no_other_v4_route_and_no_header(
    rig: Rig, record_id: str, param: str, transport: str
) -> None:
    for value in hostile_values(param, record_id):
        params = {**CALLS[param], "email": EMAIL, "tkn": KEY}
        if param == "id" or CALLS[param].get("a") == "rec_edit":
            params["id"] = record_id
        params[param] = value
        rig.upstream.forget()

        response = send(rig.v1, transport, params)

        where = f"{param}={value[:40]!r} by {transport}"
        assert response.status_code == (410 if param == "a" and value.strip() else 200), where
        assert not any("injected" in f"{k}{v}".lower() for k, v in response.headers.items())
        body = v1_body(response)
        assert body["result"] in ("success", "error"), where
        if body["result"] == "error":
            landed = [str(s) for s in rig.upstream.seen() if s.is_write() and s.landed]
            assert not landed, f"{where}: refused, yet v4 carried out {landed}"
        assert not rig.upstream.violations, f"{where}: {rig.upstream.violations[:3]}"


# --- the three refusals that must happen before any v4 call -------------------------------

UNSAFE_CREDENTIALS = ["\r\nX-Injected: 1", "\n", "\r", "\t", "\x00", "\x7f", "\u00e9", "\uff0f",
                      "\u202e", "\ufeff", "\u2028"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("which", ["email", "tkn"])
def test_a_credential_with_control_or_non_ascii_characters_is_refused_before_v4(
    rig: Rig, which: str, transport: str
) -> None:
    for bad in UNSAFE_CREDENTIALS:
        params = {"a": "rec_load_all", "z": ZONE, "email": EMAIL, "tkn": KEY}
        params[which] = params[which][:5] + bad + params[which][5:]

        response = send(rig.v1, transport, params)

        assert response.status_code == 200
        assert json.loads(response.text, object_pairs_hook=OrderedDict) == ordered(
            result="error", msg="Unknown token or email", err_code="E_UNAUTH"), repr(bad)
        assert not rig.upstream.seen(), repr(bad)


BAD_ZONES = ["../", "example.com/../user", "example.com%2F..", "a/b", "example.com?x=1",
             "example.com#frag", "example.com\r\nX-Injected: 1", "example.com\x00",
             "example\uff0fcom", "example.com\u202e", "0123456789abcdef0123456789abcdef",
             "x" * 300 + ".com", "a" * 64 + ".com", "example..com", "..", ".", "example .com"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_z_that_is_no_dns_name_is_an_invalid_zone_without_a_v4_call(
    rig: Rig, transport: str
) -> None:
    for bad in BAD_ZONES:
        response = send(rig.v1, transport, {"a": "rec_load_all", "z": bad, "email": EMAIL,
                                                 "tkn": KEY})

        assert response.status_code == 200
        assert v1_body(response) == {"request": {"act": "rec_load_all"}, "result": "error",
                                     "msg": "Invalid zone."}, repr(bad)
        assert not rig.upstream.seen(), repr(bad)


BAD_IDS = ["../", "12/34", "0123456789abcdef0123456789abcde/", "0123456789ABCDEF0123456789abcdeg",
           "\uff11\uff12\uff13", "\u0661\u0662", "\u00b2", "1e5", "-1", "0x10", "12 34",
           "0123456789abcdef0123456789abcdef/../x", "123\x00", "%31%32"]


@pytest.mark.parametrize("action", ["rec_edit", "rec_delete", "rec_load_all"])
def test_an_id_that_is_neither_digits_nor_32_hex_is_refused_without_a_v4_call(
    rig: Rig, action: str
) -> None:
    for bad in BAD_IDS:
        body = rig.v1(action, z=ZONE, id=bad, content="192.0.2.64")

        if action == "rec_load_all":  # `id` only filters the listing there
            assert body["result"] == "success" and body["response"]["recs"]["count"] == 0 or \
                body == ordered(request=ordered(act=action), result="error",
                                msg="Invalid value for id.", err_code="E_INVLDINPUT"), repr(bad)
            rig.upstream.forget()
            continue
        assert body == ordered(request=ordered(act=action), result="error",
                               msg="Invalid record id."), repr(bad)
        assert not rig.upstream.seen(), repr(bad)


def test_the_request_echo_hides_the_key_whatever_its_transport(rig: Rig) -> None:
    for transport in TRANSPORTS:
        response = send(rig.v1, transport, {"a": "rec_load_all", "z": ZONE,
                                                "email": EMAIL, "tkn": KEY})
        echo = v1_body(response)["request"]
        assert echo["tkn"] == "[redacted]" and KEY not in response.text


@pytest.mark.parametrize("bad", ["-bad-.com", "bad-.com", "under_score.com"])
def test_a_zone_label_that_is_no_host_name_is_refused_without_a_v4_call(
    rig: Rig, bad: str
) -> None:
    body = rig.v1("rec_load_all", z=bad)

    assert body == ordered(request=ordered(act="rec_load_all"), result="error",
                           msg="Invalid zone.")
    assert not rig.upstream.seen()

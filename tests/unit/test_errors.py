"""`from_v4`: refused v4 calls as the v1 errors clients match on (`v1-api.md` §2.3-2.4)."""

from __future__ import annotations

import pytest

from proxy import errors
from proxy.errors import V1Error, V4Error, from_v4


def v1(err: V1Error) -> tuple[str, str | None, bool, int]:
    return err.msg, err.err_code, err.echo_action, err.status


UNAUTH = ("Unknown token or email", "E_UNAUTH", False, 200)
MAXAPI = ("Rate limit reached, retry later.", "E_MAXAPI", False, 200)
INVALID_ZONE = ("Invalid zone.", None, True, 200)
INVALID_RECORD = ("Invalid record id.", None, True, 200)


@pytest.mark.parametrize("target", ["zone", "record", "input"])
def test_http_429_is_e_maxapi(target: errors.Target) -> None:
    assert v1(from_v4(V4Error(429), target)) == MAXAPI


def test_code_971_is_e_maxapi_whatever_the_status() -> None:
    err = V4Error(400, [971], ["Please wait and consider throttling your request speed"])
    assert v1(from_v4(err, "record")) == MAXAPI


@pytest.mark.parametrize("code", [9103, 9106, 6003, 10000])
def test_auth_codes_are_e_unauth(code: int) -> None:
    err = V4Error(400, [code], ["Unknown X-Auth-Key or X-Auth-Email"])
    assert v1(from_v4(err, "zone")) == UNAUTH


@pytest.mark.parametrize("status", [401, 403])
def test_auth_status_without_codes_is_e_unauth(status: int) -> None:
    assert v1(from_v4(V4Error(status), "input")) == UNAUTH


def test_auth_wins_over_not_found() -> None:
    assert v1(from_v4(V4Error(404, [9106], ["Missing X-Auth-Key"]), "zone")) == UNAUTH


def test_code_7003_on_zone_is_invalid_zone() -> None:
    err = V4Error(400, [7003], ["Could not route to /zones/x, perhaps your object identifier"])
    assert v1(from_v4(err, "zone")) == INVALID_ZONE


def test_http_404_on_zone_is_invalid_zone() -> None:
    assert v1(from_v4(V4Error(404), "zone")) == INVALID_ZONE


def test_code_7003_on_record_is_invalid_record_id() -> None:
    assert v1(from_v4(V4Error(400, [7003], ["Could not route"]), "record")) == INVALID_RECORD


def test_http_404_on_record_is_invalid_record_id() -> None:
    assert v1(from_v4(V4Error(404, [81044], ["Record not found"]), "record")) == INVALID_RECORD


def test_http_404_on_input_is_invalid_input_with_v4_message() -> None:
    err = V4Error(404, [], ["Not found"])
    assert v1(from_v4(err, "input")) == ("Not found", "E_INVLDINPUT", True, 200)


def test_81057_is_invalid_input_with_v4_message() -> None:
    err = V4Error(400, [81057], ["Record already exists."])
    assert v1(from_v4(err, "input")) == ("Record already exists.", "E_INVLDINPUT", True, 200)


def test_several_v4_messages_are_joined() -> None:
    messages = ["DNS Validation Error", "", "Content for A record is invalid"]
    err = V4Error(400, [1004, 9005], messages)
    assert from_v4(err, "input").msg == "DNS Validation Error; Content for A record is invalid"


def test_v4_error_without_messages_names_the_status() -> None:
    assert from_v4(V4Error(400), "input").msg == "Cloudflare API v4 error 400."


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_has_no_err_code(status: int) -> None:
    err = V4Error(status, [], ["Internal Server Error"])
    assert v1(from_v4(err, "record")) == (
        "Cloudflare API v4 failed: Internal Server Error",
        None,
        True,
        200,
    )


def test_v4_error_text_lists_codes_and_messages() -> None:
    assert str(V4Error(400, [81057, 1004], ["exists", "bad"])) == (
        "v4 HTTP 400 (81057: exists, 1004: bad)"
    )
    assert str(V4Error(502)) == "v4 HTTP 502 (no error items)"


def test_gone_is_http_410_without_err_code() -> None:
    assert v1(errors.Gone("retired")) == ("retired", None, True, 410)


def test_only_the_three_v1_err_codes_are_produced() -> None:
    cases = [
        V4Error(429), V4Error(401), V4Error(404), V4Error(400, [81057], ["x"]),
        V4Error(500), V4Error(400, [7003]), V4Error(418, [12345], ["teapot"]),
    ]
    produced = {from_v4(err, target).err_code for err in cases for target in
                ("zone", "record", "input")}
    assert produced <= {None, "E_UNAUTH", "E_INVLDINPUT", "E_MAXAPI"}

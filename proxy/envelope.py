"""The v1 answer on the wire: key order, compact JSON, PHP-style escaping, JSONP.

Shell clients grep the raw text for `"result":"error","msg":"`, so the keys come in exactly
the order `request`, `response`, `result`, `msg`, then `err_code` or `attributes`, with no
spaces (`v1-api.md` §2.1–2.2).
"""

from __future__ import annotations

import json
import re
from typing import Any

from proxy.errors import V1Error

JSONP_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]*")

JSON_TYPE = "application/json"
JSONP_TYPE = "application/javascript"


def encode(body: dict[str, Any]) -> bytes:
    """Compact JSON as PHP's json_encode wrote it: ASCII only, `/` escaped as `\\/`.

    `/` only ever occurs inside JSON strings, so replacing it in the text is exact.
    """
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def success(
    echo: dict[str, str] | None,
    response: Any | None,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if echo is not None:
        body["request"] = echo
    if response is not None:
        body["response"] = response
    body["result"] = "success"
    body["msg"] = None
    if attributes is not None:
        body["attributes"] = attributes
    return body


def error(err: V1Error, action: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if err.echo_action and action:
        body["request"] = {"act": action}
    body["result"] = "error"
    body["msg"] = err.msg
    if err.err_code:
        body["err_code"] = err.err_code
    return body


def wrap_jsonp(payload: bytes, callback: str) -> bytes:
    """`NAME(<json>)`; the name was checked against JSONP_NAME before."""
    return callback.encode("ascii") + b"(" + payload + b")"

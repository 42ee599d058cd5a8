"""The sandbox's errors, and the v4 error items each one becomes.

Every refusal is an `ApiError`: an HTTP status plus one or more v4 error items
(`{"code", "message"}`, optionally an `error_chain`). Cloudflare publishes no complete catalogue
of error codes; the codes below follow what v4 is known to send (see
`shared/reference/v4-api.md` §4) and, where nothing is known, a plausible code of the same
family. `proxy/sandbox/README.md` lists them all.

    ApiError
    ├── auth: 9106 missing, 6003 (+ chain 6102/6103/6111) malformed, 9103 / 1000 unknown,
    │         10000 no permission on an account
    ├── routing: 7003 + 7000 unknown or unreachable object, 7000 no route, 10405 method
    ├── requests: 6007 body not JSON, 1001 bad query parameter, 1018 retired endpoint
    ├── DNS: 1004 field missing or of the wrong JSON type, 9000-9102 semantic, 81044 not found,
    │        81053 / 81056 / 81057 conflicts
    ├── settings: 1006 unknown setting, 1007 bad value
    ├── purge: 1012 bad purge request
    ├── access rules: 10001 invalid, 10007 not found, 10009 duplicate
    └── 971 rate limited (HTTP 429, with retry-after)
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A v4 refusal: raised anywhere in the sandbox, turned into an envelope by the HTTP layer."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        chain: list[dict[str, Any]] | None = None,
        more: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        first: dict[str, Any] = {"code": code, "message": message}
        if chain:
            first["error_chain"] = chain
        self.errors: list[dict[str, Any]] = [first, *(more or [])]
        self.headers = headers or {}


def not_routable(path: str) -> ApiError:
    """v4's answer to an id that is malformed, unknown or not reachable with these credentials.

    v4 does not tell "no such zone" from "not yours": both are a routing failure.
    """
    return ApiError(
        400,
        7003,
        f"Could not route to {path}, perhaps your object identifier is invalid?",
        more=[{"code": 7000, "message": "No route for that URI"}],
    )


def dns_field_error(detail: str) -> ApiError:
    """A record field that is missing or has the wrong JSON type (e.g. a string `ttl`)."""
    return ApiError(400, 1004, f"DNS Validation Error: {detail}")


def bad_query(detail: str) -> ApiError:
    """A query parameter (paging, filter, order) v4 would refuse."""
    return ApiError(400, 1001, f"Invalid request: {detail}")

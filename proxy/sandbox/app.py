"""The HTTP face of the sandbox: v4 routes, credentials, bodies and envelopes.

Every answer is a v4 JSON envelope, whatever goes wrong: unknown paths and methods, malformed
JSON, even a sandbox bug (a 500 envelope, never an HTML page). Routes are relative to where the
app is mounted (`/client/v4` in the CLI).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import queries, settings
from .errors import ApiError
from .render import record_object, rule_object, setting_object, zone_object
from .state import Page, RuleScope, SandboxState, User, Zone

_EMAIL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_BEARER = re.compile(r"^[Bb]earer ([A-Za-z0-9_-]{1,128})$")
BULK_SETTINGS_RETIRED = (
    "Bulk zone settings reached end of life on 2026-09-15: "
    "use GET/PATCH /zones/{zone_id}/settings/{setting_id}"
)


def _malformed(code: int, message: str) -> ApiError:
    chain = [{"code": code, "message": message}]
    return ApiError(400, 6003, "Invalid request headers", chain=chain)


def authenticate(state: SandboxState, request: Request) -> User:
    """The user behind the credentials: Global API key pair or API token, never both."""
    email = request.headers.get("x-auth-email")
    key = request.headers.get("x-auth-key")
    authorization = request.headers.get("authorization")
    if authorization is not None:
        if email is not None or key is not None:
            raise _malformed(
                6111, "Send either Authorization or X-Auth-Email/X-Auth-Key, not both"
            )
        bearer = _BEARER.match(authorization)
        if bearer is None:
            raise _malformed(6111, "Invalid format for Authorization header")
        user = state.user_by_token(bearer.group(1))
        if user is None:
            raise ApiError(400, 1000, "Invalid API Token")
        return user
    if email is None or key is None:
        raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
    chain = []
    if "@" not in email or _EMAIL_FORBIDDEN.search(email):
        chain.append({"code": 6102, "message": "Invalid format for X-Auth-Email header"})
    if not _KEY.match(key):
        chain.append({"code": 6103, "message": "Invalid format for X-Auth-Key header"})
    if chain:
        raise ApiError(400, 6003, "Invalid request headers", chain=chain)
    found = state.user_by_key(email, key)
    if found is None:
        raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
    return found


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(slots=True)
class Call:
    """One authenticated call, as the handlers see it."""

    request: Request
    state: SandboxState
    user: User
    body: bytes

    @property
    def path(self) -> str:
        """The path below the mount point, as v4 quotes it in 7003 messages."""
        path: str = self.request.scope["path"]
        root: str = self.request.scope.get("root_path", "")
        return path[len(root) :] if root and path.startswith(root) else path

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; no body counts as `{}` (DELETE sends none or `{}`)."""
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body, parse_constant=_strict_constant)
            # A lone surrogate ("\ud800") parses, but could never be sent back as UTF-8.
            json.dumps(parsed, ensure_ascii=False).encode()
        except (ValueError, RecursionError):  # ValueError covers the Unicode errors
            raise ApiError(400, 6007, "Malformed JSON in request body") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, 6007, "Malformed JSON in request body: expected an object")
        return parsed

    def zone(self) -> Zone:
        return self.state.zone_for(self.user, self.param("zone_id"), self.path)

    def user_scope(self) -> RuleScope:
        return self.state.user_scope(self.user, self.path)

    def account_scope(self) -> RuleScope:
        return self.state.account_scope(self.user, self.param("account_id"), self.path)


Handler = Callable[[Call], Any]
RouteRow = tuple[str, str, Handler]


def envelope(result: Any, result_info: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def error_response(error: ApiError) -> JSONResponse:
    body = {"success": False, "errors": error.errors, "messages": [], "result": None}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def endpoint(handlers: dict[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
    """One path's handlers by method: credentials, rate limit, then the result in an envelope.

    A single route per path keeps Starlette's 405 `Allow` header complete.
    """

    async def run(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        handler = handlers["GET" if request.method == "HEAD" else request.method]
        try:
            user = authenticate(state, request)
            state.admit(user)
            result = handler(Call(request, state, user, await request.body()))
        except ApiError as error:
            return error_response(error)
        if isinstance(result, Page):
            return JSONResponse(envelope(result.items, result.result_info))
        return JSONResponse(envelope(result))

    return run


# -- handlers: one per v4 operation ----------------------------------------------------------


def _rendered(page: Page, render: Callable[[Any], Any]) -> Page:
    return Page([render(item) for item in page.items], page.page, page.per_page, page.total_count)


def list_zones(call: Call) -> Page:
    now = call.state.clock()
    page = queries.list_zones(call.state.zones_of(call.user), call.query)
    return _rendered(page, lambda zone: zone_object(zone, now))


def get_zone(call: Call) -> Any:
    return zone_object(call.zone(), call.state.clock())


def bulk_settings(call: Call) -> Any:
    call.zone()
    raise ApiError(400, 1018, BULK_SETTINGS_RETIRED)


def get_setting(call: Call) -> Any:
    zone, setting_id = call.zone(), call.param("setting_id")
    return setting_object(call.state, zone, setting_id)


def patch_setting(call: Call) -> Any:
    zone, setting_id = call.zone(), call.param("setting_id")
    settings.check_setting_id(setting_id)
    body = call.json()
    if "value" not in body:
        raise settings.invalid_value(setting_id)
    call.state.set_setting(zone, setting_id, body["value"])
    return setting_object(call.state, zone, setting_id)


def list_records(call: Call) -> Page:
    return _rendered(queries.list_records(call.zone(), call.query), record_object)


def create_record(call: Call) -> Any:
    zone = call.zone()
    return record_object(call.state.create_record(zone, call.json()))


def get_record(call: Call) -> Any:
    return record_object(call.state.record(call.zone(), call.param("record_id"), call.path))


def patch_record(call: Call) -> Any:
    return _update_record(call, partial=True)


def put_record(call: Call) -> Any:
    return _update_record(call, partial=False)


def _update_record(call: Call, *, partial: bool) -> Any:
    zone = call.zone()
    record = call.state.update_record(
        zone, call.param("record_id"), call.json(), call.path, partial=partial
    )
    return record_object(record)


def delete_record(call: Call) -> Any:
    zone = call.zone()
    call.json()
    return {"id": call.state.delete_record(zone, call.param("record_id"), call.path)}


def purge_cache(call: Call) -> Any:
    zone = call.zone()
    call.state.purge(zone, call.json())
    return {"id": zone.id}


def _rule_routes(base: str, scope_of: Callable[[Call], RuleScope], *, read_one: bool
                 ) -> list[RouteRow]:
    """The same operations for the user-level and the account-level rule lists; v4 has no
    GET of a single user-level rule."""

    def listing(call: Call) -> Page:
        rules = call.state.rules_in(scope_of(call))
        return _rendered(queries.list_rules(rules, call.query), rule_object)

    def create(call: Call) -> Any:
        scope = scope_of(call)
        return rule_object(call.state.create_rule(scope, call.json()))

    def read(call: Call) -> Any:
        return rule_object(call.state.rule(scope_of(call), call.param("rule_id"), call.path))

    def patch(call: Call) -> Any:
        scope = scope_of(call)
        rule = call.state.update_rule(scope, call.param("rule_id"), call.json(), call.path)
        return rule_object(rule)

    def delete(call: Call) -> Any:
        scope = scope_of(call)
        call.json()
        return {"id": call.state.delete_rule(scope, call.param("rule_id"), call.path)}

    one = base + "/{rule_id}"
    rows: list[RouteRow] = [
        (base, "GET", listing), (base, "POST", create), (one, "PATCH", patch),
        (one, "DELETE", delete),
    ]
    return rows + [(one, "GET", read)] if read_one else rows


def _routes() -> list[Route]:
    zone = "/zones/{zone_id}"
    record = zone + "/dns_records/{record_id}"
    table: list[RouteRow] = [
        ("/zones", "GET", list_zones),
        (zone, "GET", get_zone),
        (zone + "/settings", "GET", bulk_settings),
        (zone + "/settings", "PATCH", bulk_settings),
        (zone + "/settings/{setting_id}", "GET", get_setting),
        (zone + "/settings/{setting_id}", "PATCH", patch_setting),
        (zone + "/dns_records", "GET", list_records),
        (zone + "/dns_records", "POST", create_record),
        (record, "GET", get_record),
        (record, "PATCH", patch_record),
        (record, "PUT", put_record),
        (record, "DELETE", delete_record),
        (zone + "/purge_cache", "POST", purge_cache),
        *_rule_routes("/user/firewall/access_rules/rules", Call.user_scope, read_one=False),
        *_rule_routes(
            "/accounts/{account_id}/firewall/access_rules/rules", Call.account_scope,
            read_one=True,
        ),
    ]
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler in table:
        by_path.setdefault(path, {})[method] = handler
    return [Route(path, endpoint(handlers), methods=list(handlers))
            for path, handlers in by_path.items()]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 answers, reshaped as v4 envelopes."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        error = ApiError(405, 10405, "Method not allowed", headers=dict(exc.headers or {}))
    else:  # routing raises only 404 and 405
        error = ApiError(exc.status_code, 7000, "No route for that URI")
    return error_response(error)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A sandbox bug: still a v4 envelope, so the client under test sees JSON."""
    return error_response(ApiError(500, 10500, "Internal sandbox error"))


def build_app(state: SandboxState) -> Starlette:
    app = Starlette(
        routes=_routes(),
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # "/zones/" must not redirect: a redirect answer has no v4 envelope.
    app.router.redirect_slashes = False
    app.state.sandbox = state
    return app

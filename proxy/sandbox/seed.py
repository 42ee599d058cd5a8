"""Seeds: the JSON that says which users, zones, records and rules a sandbox starts with.

`build_state` is the only reader: it checks every field as it builds, so `load_seed` validates
a file simply by building a throwaway state. Records and rules go through the same rules as
the API, so a seed can never hold what v4 would refuse. The format is in the README.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from . import settings
from .errors import ApiError
from .records import to_ascii_host
from .state import HEX32, Account, RuleScope, SandboxState, User, Zone

DEMO_EMAIL = "demo@example.com"
# A Global API key has 37 lowercase hex characters; this one is fixed so docs can quote it.
DEMO_KEY = "3de40ebe055346922454bfbfa5464f1e9dd4e"
# The demo user's v4 API token, so that token mode (--v4-token) can be tried on the sandbox.
DEMO_TOKEN = "sandbox-demo-v4-token"
DEFAULT_NAME_SERVERS = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MISSING = object()

_TOP_FIELDS = {"users", "rate_limit"}
_USER_FIELDS = {
    "email", "key", "token", "id", "account", "user_access_rules", "access_rules", "zones",
}
_ACCOUNT_FIELDS = {"id", "name", "access_rules"}
_ZONE_FIELDS = {
    "name", "id", "status", "paused", "type", "plan", "development_mode", "name_servers",
    "original_name_servers", "original_registrar", "original_dnshost", "account", "records",
    "settings",
}
_CHOICES = {
    "status": ("initializing", "pending", "active", "moved"),
    "type": ("full", "partial", "secondary"),
    "plan": ("free", "pro", "business", "enterprise"),
}


class SeedError(ValueError):
    """A seed the sandbox cannot start from; the message names the field at fault."""


def demo_seed() -> dict[str, Any]:
    """The fixed demo: one user with zones example.com (a few records) and example.org."""
    return {
        "users": [{
            "email": DEMO_EMAIL,
            "key": DEMO_KEY,
            "token": DEMO_TOKEN,
            "account": {"name": "Demo Account"},
            "zones": [
                {"name": "example.com", "records": [
                    {"type": "A", "name": "www.example.com", "content": "192.0.2.1",
                     "ttl": 1, "proxied": True},
                    {"type": "A", "name": "example.com", "content": "192.0.2.10",
                     "ttl": 1, "proxied": True},
                    {"type": "AAAA", "name": "www.example.com", "content": "2001:db8::1",
                     "ttl": 1},
                    {"type": "CNAME", "name": "blog.example.com", "content": "www.example.com",
                     "ttl": 1},
                    {"type": "MX", "name": "example.com", "content": "mx1.example.net",
                     "priority": 10, "ttl": 3600},
                    {"type": "TXT", "name": "example.com", "content": "v=spf1 -all", "ttl": 1},
                ]},
                {"name": "example.org", "records": [
                    {"type": "A", "name": "example.org", "content": "192.0.2.20", "ttl": 1},
                ]},
            ],
        }],
    }


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a JSON seed file and check it by building a sandbox from it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from None
    try:
        seed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path} is not JSON: {exc}") from None
    build_state(seed, lambda: 0.0)  # refuses anything but a valid seed object
    return cast(dict[str, Any], seed)


def _object(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SeedError(f"{where}.{unknown[0]}: unknown field")
    return value


def _field(obj: Mapping[str, Any], name: str, where: str, kind: type | tuple[type, ...],
           default: Any = _MISSING) -> Any:
    """A typed field; `bool` never passes for `int` (JSON true is not a number)."""
    if name not in obj or (obj[name] is None and default is None):
        if default is _MISSING:
            raise SeedError(f"{where}.{name}: is required")
        return default
    value = obj[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise SeedError(f"{where}.{name}: has the wrong type")
    return value


def _choice(obj: Mapping[str, Any], name: str, where: str, default: str) -> str:
    value = _field(obj, name, where, str, default)
    if value not in _CHOICES[name]:
        raise SeedError(f"{where}.{name}: must be one of {', '.join(_CHOICES[name])}")
    return str(value)


def _id(obj: Mapping[str, Any], where: str) -> str | None:
    value: str | None = _field(obj, "id", where, str, None)
    if value is not None and not HEX32.match(value):
        raise SeedError(f"{where}.id: must be 32 lowercase hex characters")
    return value


def build_state(seed: Any, clock: Callable[[], float]) -> SandboxState:
    """A sandbox state from a seed, or SeedError naming the first bad field."""
    top = _object(seed, "seed", _TOP_FIELDS)
    state = SandboxState(clock, _rate_limit(top))
    users = _field(top, "users", "seed", list)
    if not users:
        raise SeedError("seed.users: needs at least one user")
    for index, raw in enumerate(users):
        _add_user(state, raw, f"users[{index}]")
    return state


def _rate_limit(top: Mapping[str, Any]) -> tuple[int, float] | None:
    raw = top.get("rate_limit")
    if raw is None:
        return None
    limit = _object(raw, "rate_limit", {"calls", "seconds"})
    calls = _field(limit, "calls", "rate_limit", int)
    seconds = _field(limit, "seconds", "rate_limit", (int, float))
    if calls < 1 or seconds <= 0:
        raise SeedError("rate_limit: calls and seconds must be positive")
    return calls, float(seconds)


def _add_user(state: SandboxState, raw: Any, where: str) -> None:
    spec = _object(raw, where, _USER_FIELDS)
    email = _field(spec, "email", where, str)
    key = _field(spec, "key", where, str)
    token = _field(spec, "token", where, str, None)
    if "@" not in email or any(u.email.lower() == email.lower() for u in state.users):
        raise SeedError(f"{where}.email: must be an e-mail address not used by another user")
    if not _KEY.match(key) or (token is not None and not _KEY.match(token)):
        raise SeedError(f"{where}: key and token must match [A-Za-z0-9_-]{{1,128}}")
    if token is not None and state.user_by_token(token) is not None:
        raise SeedError(f"{where}.token: already used by another user")
    user_id = _claim(state, _id(spec, where), "user", where)
    account_spec = _object(spec.get("account") or {}, f"{where}.account", _ACCOUNT_FIELDS)
    account = _account(state, account_spec, f"{where}.account", f"{email}'s Account")
    user = User(
        user_id, email, key, token, account, {account.id: account},
        user_access_rules=_field(spec, "user_access_rules", where, bool, True),
    )
    state.users.append(user)
    for index, rule in enumerate(_field(spec, "access_rules", where, list, [])):
        _add_rule(state, RuleScope("user", user.id, email), rule, f"{where}.access_rules[{index}]")
    for index, zone in enumerate(_field(spec, "zones", where, list, [])):
        _add_zone(state, user, zone, f"{where}.zones[{index}]")


def _claim(state: SandboxState, wanted: str | None, kind: str, where: str) -> str:
    try:
        return state.claim_id(wanted, kind)
    except ValueError as exc:
        raise SeedError(f"{where}.id: {exc}") from None


def _account(state: SandboxState, spec: Mapping[str, Any], where: str, default_name: str
             ) -> Account:
    """The account a seed names: found by id, else by name, else created."""
    wanted = _id(spec, where)
    name = _field(spec, "name", where, str, None)
    found = state.accounts.get(wanted) if wanted else next(
        (a for a in state.accounts.values() if name is not None and a.name == name), None
    )
    if found is None:
        found = Account(_claim(state, wanted, "account", where), name or default_name)
        state.accounts[found.id] = found
    scope = RuleScope("account", found.id, found.name)
    for index, rule in enumerate(_field(spec, "access_rules", where, list, [])):
        _add_rule(state, scope, rule, f"{where}.access_rules[{index}]")
    return found


def _add_rule(state: SandboxState, scope: RuleScope, raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        raise SeedError(f"{where}: must be an object")
    try:
        state.create_rule(scope, raw)
    except ApiError as exc:
        raise SeedError(f"{where}: {exc.errors[0]['message']}") from None


def _add_zone(state: SandboxState, user: User, raw: Any, where: str) -> None:
    spec = _object(raw, where, _ZONE_FIELDS)
    name = to_ascii_host(_field(spec, "name", where, str))
    if name is None or "." not in name:
        raise SeedError(f"{where}.name: must be a domain name such as example.com")
    if "account" in spec:
        account = _account(state, _object(spec["account"], f"{where}.account", _ACCOUNT_FIELDS),
                           f"{where}.account", f"{name} organisation")
        user.accounts[account.id] = account
    else:
        account = user.account
    now = state.clock()
    status = _choice(spec, "status", where, "active")
    zone = Zone(
        id=_claim(state, _id(spec, where), "zone", where), name=name, account=account,
        owner=user, created_on=now, modified_on=now, status=status,
        paused=_field(spec, "paused", where, bool, False),
        type=_choice(spec, "type", where, "full"), plan=_choice(spec, "plan", where, "free"),
        name_servers=_hosts(spec, "name_servers", where, DEFAULT_NAME_SERVERS) or [],
        original_name_servers=_hosts(spec, "original_name_servers", where, None),
        original_registrar=_field(spec, "original_registrar", where, str, None),
        original_dnshost=_field(spec, "original_dnshost", where, str, None),
        activated_on=now if status == "active" else None,
    )
    seconds = _field(spec, "development_mode", where, int, 0)
    zone.dev_mode_until = now + seconds if seconds else None
    _apply_settings(zone, _field(spec, "settings", where, dict, {}), now, f"{where}.settings")
    state.zones[zone.id] = zone
    user.zone_ids.append(zone.id)
    for index, record in enumerate(_field(spec, "records", where, list, [])):
        _add_record(state, zone, record, f"{where}.records[{index}]")


def _hosts(spec: Mapping[str, Any], name: str, where: str, default: list[str] | None
           ) -> list[str] | None:
    value = _field(spec, name, where, list, default)
    if value is not None and not all(isinstance(host, str) for host in value):
        raise SeedError(f"{where}.{name}: must be a list of host names")
    return None if value is None else list(value)


def _apply_settings(zone: Zone, values: Mapping[str, Any], now: float, where: str) -> None:
    """Seeded values are the zone's starting point: they leave `modified_on` null."""
    for setting_id, value in values.items():
        try:
            stored = settings.new_value(setting_id, value, zone.settings.get(setting_id))
        except ApiError as exc:
            raise SeedError(f"{where}.{setting_id}: {exc.errors[0]['message']}") from None
        if setting_id == "development_mode":
            zone.dev_mode_until = now + settings.DEV_MODE_SECONDS if stored == "on" else None
        else:
            zone.settings[setting_id] = stored


def _add_record(state: SandboxState, zone: Zone, raw: Any, where: str) -> None:
    if not isinstance(raw, dict):
        raise SeedError(f"{where}: must be an object")
    wanted = _id(raw, where)
    try:
        state.create_record(zone, raw, wanted)
    except ApiError as exc:
        raise SeedError(f"{where}: {exc.errors[0]['message']}") from None
    except ValueError as exc:
        raise SeedError(f"{where}.id: {exc}") from None

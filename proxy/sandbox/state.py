"""The sandbox's data and every operation on it, with no HTTP in sight.

One `SandboxState` holds the users, accounts, zones (with their records and settings), access
rules and a log of cache purges. Operations take already-parsed arguments and raise `ApiError`
for anything v4 would refuse; `app.py` turns both outcomes into envelopes. Ids come from a
counter, so the same seed and the same calls give the same ids (golden tests rely on it).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from . import access_rules, settings
from .errors import ApiError, not_routable
from .records import WRITABLE_FIELDS, RecordFields, conflict, type_change_error, validate_record

T = TypeVar("T")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_PURGE_FILES = 30
RATE_LIMITED = "Rate limited. Please wait and consider throttling your request speed"


@dataclass(slots=True)
class Account:
    id: str
    name: str


@dataclass(slots=True)
class User:
    id: str
    email: str
    key: str
    token: str | None
    account: Account
    # The user's own account and every organisation account one of their zones belongs to.
    accounts: dict[str, Account]
    zone_ids: list[str] = field(default_factory=list)
    user_access_rules: bool = True
    calls: deque[float] = field(default_factory=deque)


@dataclass(slots=True)
class Record:
    id: str
    fields: RecordFields
    created_on: float
    modified_on: float


@dataclass(slots=True)
class Zone:
    id: str
    name: str
    account: Account
    owner: User
    created_on: float
    status: str = "active"
    paused: bool = False
    type: str = "full"
    plan: str = "free"
    name_servers: list[str] = field(default_factory=list)
    original_name_servers: list[str] | None = None
    original_registrar: str | None = None
    original_dnshost: str | None = None
    activated_on: float | None = None
    modified_on: float = 0.0
    # When development mode ends (or ended); None = never switched on.
    dev_mode_until: float | None = None
    settings: dict[str, Any] = field(default_factory=settings.default_values)
    settings_modified: dict[str, float] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)

    def development_mode(self, now: float) -> int:
        """v4's zone field: seconds left, negative seconds since it ended, 0 if never used."""
        return 0 if self.dev_mode_until is None else int(self.dev_mode_until - now)


@dataclass(frozen=True, slots=True)
class RuleScope:
    """Where an access rule lives: one user's list, or one account's."""

    kind: str  # "user" | "account"
    id: str
    label: str  # the user's email or the account's name


@dataclass(slots=True)
class AccessRule:
    id: str
    scope: RuleScope
    mode: str
    target: str
    value: str
    notes: str
    created_on: float
    modified_on: float


@dataclass(frozen=True, slots=True)
class Purge:
    """One accepted cache purge, kept for tests to inspect."""

    zone_id: str
    everything: bool
    files: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing, with what v4 puts in `result_info`."""

    items: list[Any]
    page: int
    per_page: int
    total_count: int

    @property
    def result_info(self) -> dict[str, int]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "count": len(self.items),
            "total_count": self.total_count,
            "total_pages": math.ceil(self.total_count / self.per_page),
        }


def paginate(items: list[T], page: int, per_page: int) -> Page:
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], page, per_page, len(items))


def select(items: Iterable[T], tests: list[Callable[[T], bool]], match_any: bool) -> list[T]:
    """v4's filter semantics: every filter must hold (`match=all`), or one of them (`any`)."""
    if not tests:
        return list(items)
    combine = any if match_any else all
    return [item for item in items if combine(test(item) for test in tests)]


class SandboxState:
    """Everything the sandbox knows. Built by `seed.build_state`, reachable as
    `app.state.sandbox` so tests can look inside."""

    def __init__(
        self, clock: Callable[[], float], rate_limit: tuple[int, float] | None = None
    ) -> None:
        self.clock = clock
        self.rate_limit = rate_limit
        self.users: list[User] = []
        self.accounts: dict[str, Account] = {}
        self.zones: dict[str, Zone] = {}
        self.rules: dict[RuleScope, dict[str, AccessRule]] = {}
        self.purges: list[Purge] = []
        self._ids: set[str] = set()
        self._counter = 0

    # -- ids and credentials --------------------------------------------------------------

    def new_id(self, kind: str) -> str:
        """The next deterministic id: md5 of kind and counter, skipping any already taken."""
        while True:
            self._counter += 1
            seed = f"{kind}:{self._counter}".encode()
            candidate = hashlib.md5(seed, usedforsecurity=False).hexdigest()
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def claim_id(self, wanted: str | None, kind: str) -> str:
        """An explicit id from a seed (refused if taken), or a new one."""
        if wanted is None:
            return self.new_id(kind)
        if wanted in self._ids:
            raise ValueError(f"id {wanted} is used twice")
        self._ids.add(wanted)
        return wanted

    def user_by_key(self, email: str, key: str) -> User | None:
        email = email.lower()
        return next((u for u in self.users if u.email.lower() == email and u.key == key), None)

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users if u.token is not None and u.token == token), None)

    def admit(self, user: User) -> None:
        """Count one call against the user's sliding window, or refuse it with 971.

        Refused calls are not counted, so a client that waits `retry-after` gets through.
        """
        if self.rate_limit is None:
            return
        calls, seconds = self.rate_limit
        now = self.clock()
        while user.calls and user.calls[0] <= now - seconds:
            user.calls.popleft()
        if len(user.calls) >= calls:
            wait = max(1, math.ceil(user.calls[0] + seconds - now))
            raise ApiError(429, 971, RATE_LIMITED, headers={"retry-after": str(wait)})
        user.calls.append(now)

    # -- zones ------------------------------------------------------------------------------

    def zones_of(self, user: User) -> list[Zone]:
        return [self.zones[zone_id] for zone_id in user.zone_ids]

    def zone_for(self, user: User, zone_id: str, path: str) -> Zone:
        """The zone if this user may reach it; v4 answers 7003 alike for malformed and foreign."""
        if not HEX32.match(zone_id) or zone_id not in user.zone_ids:
            raise not_routable(path)
        return self.zones[zone_id]

    # -- DNS records --------------------------------------------------------------------------

    def record(self, zone: Zone, record_id: str, path: str) -> Record:
        if not HEX32.match(record_id):
            raise not_routable(path)
        found = zone.records.get(record_id)
        if found is None:
            raise ApiError(404, 81044, "Record does not exist.")
        return found

    def create_record(self, zone: Zone, body: Mapping[str, Any], wanted_id: str | None = None
                      ) -> Record:
        fields = validate_record(body, zone.name)
        self._refuse_conflict(zone, fields, None)
        now = self.clock()
        record = Record(self.claim_id(wanted_id, "record"), fields, now, now)
        zone.records[record.id] = record
        return record

    def update_record(
        self, zone: Zone, record_id: str, body: Mapping[str, Any], path: str, *, partial: bool
    ) -> Record:
        """PATCH (`partial`: fields left out stay) or PUT (fields left out take defaults)."""
        record = self.record(zone, record_id, path)
        if "type" in body and body["type"] != record.fields.type:
            raise type_change_error(record.fields.type, body["type"])
        sent = {name: body[name] for name in WRITABLE_FIELDS if name in body}
        merged = {**record.fields.as_body(), **sent} if partial else sent
        fields = validate_record(merged, zone.name)
        self._refuse_conflict(zone, fields, record.id)
        record.fields = fields
        record.modified_on = self.clock()
        return record

    def delete_record(self, zone: Zone, record_id: str, path: str) -> str:
        record = self.record(zone, record_id, path)
        del zone.records[record.id]
        return record.id

    def _refuse_conflict(self, zone: Zone, fields: RecordFields, own_id: str | None) -> None:
        others = [r.fields for r in zone.records.values() if r.id != own_id]
        error = conflict(fields, others)
        if error is not None:
            raise error

    # -- settings -------------------------------------------------------------------------------

    def set_setting(self, zone: Zone, setting_id: str, value: Any) -> None:
        """Store a validated value; development mode also moves the zone's countdown."""
        stored = settings.new_value(setting_id, value, zone.settings.get(setting_id))
        now = self.clock()
        if setting_id == "development_mode":
            if stored == "on":
                zone.dev_mode_until = now + settings.DEV_MODE_SECONDS
            elif zone.dev_mode_until is not None and zone.dev_mode_until > now:
                zone.dev_mode_until = now
            zone.modified_on = now
        else:
            zone.settings[setting_id] = stored
        zone.settings_modified[setting_id] = now

    def setting_value(self, zone: Zone, setting_id: str) -> Any:
        settings.check_setting_id(setting_id)
        if setting_id == "development_mode":
            return "on" if zone.development_mode(self.clock()) > 0 else "off"
        return zone.settings[setting_id]

    # -- cache purge ----------------------------------------------------------------------------

    def purge(self, zone: Zone, body: Mapping[str, Any]) -> None:
        """Accept `{"purge_everything": true}` or `{"files": [1-30 http(s) URLs]}`; log it."""
        if any(kind in body for kind in ("tags", "hosts", "prefixes")):
            raise ApiError(400, 1012, "Purge by tags, hosts or prefixes needs an Enterprise plan")
        everything, files = body.get("purge_everything"), body.get("files")
        if (everything is None) == (files is None):
            raise ApiError(
                400, 1012, 'Request must contain exactly one of "purge_everything" or "files"'
            )
        if everything is not None:
            if everything is not True:
                raise ApiError(400, 1012, '"purge_everything" must be true')
            self.purges.append(Purge(zone.id, True, (), self.clock()))
            return
        if not isinstance(files, list) or not 1 <= len(files) <= MAX_PURGE_FILES:
            raise ApiError(
                400, 1015, f'"files" must be a list of 1 to {MAX_PURGE_FILES} URLs'
            )
        urls = tuple(_purge_url(entry) for entry in files)
        self.purges.append(Purge(zone.id, False, urls, self.clock()))

    # -- IP access rules ------------------------------------------------------------------------

    def user_scope(self, user: User, path: str) -> RuleScope:
        """The user-level list; a seed can make it unroutable, as for users who lost it."""
        if not user.user_access_rules:
            raise not_routable(path)
        return RuleScope("user", user.id, user.email)

    def account_scope(self, user: User, account_id: str, path: str) -> RuleScope:
        if not HEX32.match(account_id):
            raise not_routable(path)
        account = user.accounts.get(account_id)
        if account is None:
            raise ApiError(403, 10000, "Authentication error")
        return RuleScope("account", account.id, account.name)

    def rules_in(self, scope: RuleScope) -> list[AccessRule]:
        return list(self.rules.get(scope, {}).values())

    def rule(self, scope: RuleScope, rule_id: str, path: str) -> AccessRule:
        if not HEX32.match(rule_id):
            raise not_routable(path)
        found = self.rules.get(scope, {}).get(rule_id)
        if found is None:
            raise ApiError(404, 10007, "firewallaccessrules.api.not_found")
        return found

    def create_rule(self, scope: RuleScope, body: Mapping[str, Any]) -> AccessRule:
        mode = access_rules.check_mode(body.get("mode"))
        target, value = access_rules.configuration(body.get("configuration"))
        notes = access_rules.check_notes(body.get("notes"))
        rules = self.rules.setdefault(scope, {})
        if any(r.target == target and r.value == value for r in rules.values()):
            raise ApiError(400, 10009, "firewallaccessrules.api.duplicate_of_existing")
        now = self.clock()
        rule = AccessRule(self.new_id("rule"), scope, mode, target, value, notes, now, now)
        rules[rule.id] = rule
        return rule

    def update_rule(
        self, scope: RuleScope, rule_id: str, body: Mapping[str, Any], path: str
    ) -> AccessRule:
        """Only `mode` and `notes` can change; a different configuration is refused."""
        rule = self.rule(scope, rule_id, path)
        if "configuration" in body and access_rules.configuration(body["configuration"]) != (
            rule.target, rule.value
        ):
            raise access_rules.rule_error("only mode and notes can be changed")
        mode = access_rules.check_mode(body["mode"]) if "mode" in body else rule.mode
        notes = access_rules.check_notes(body["notes"]) if "notes" in body else rule.notes
        rule.mode, rule.notes, rule.modified_on = mode, notes, self.clock()
        return rule

    def delete_rule(self, scope: RuleScope, rule_id: str, path: str) -> str:
        rule = self.rule(scope, rule_id, path)
        del self.rules[scope][rule.id]
        return rule.id


def _purge_url(entry: Any) -> str:
    """One `files` entry: a URL, or `{"url": …, "headers": …}`; scheme http(s) and a host."""
    url = entry.get("url") if isinstance(entry, dict) else entry
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(400, 1016, f"Invalid URL in files: {url!r} (needs http(s) and a host)")
    return str(url)

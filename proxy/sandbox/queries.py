"""Listings: v4's filters, ordering and paging for zones, DNS records and access rules.

Each function takes the query parameters as sent and answers one `Page`, or raises 1001 for a
parameter v4 would refuse (a `per_page` out of range, an unknown `order`, …). Unknown
parameters are ignored, as v4 does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .access_rules import search_value
from .errors import bad_query
from .records import to_ascii_host
from .state import AccessRule, Page, Record, Zone, paginate, select

T = TypeVar("T")
Query = Mapping[str, str]

# v4's text filter operators (`name=contains:.org`); a value without one means `equal`.
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equal": lambda have, want: have == want,
    "not_equal": lambda have, want: have != want,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
    "contains": lambda have, want: want in have,
}


def _number(query: Query, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_query(f"{name} must be a number") from None


def _page(query: Query, items: list[T], default: int, low: int, high: int) -> Page:
    page = _number(query, "page", 1)
    if page < 1:
        raise bad_query("page must be a number of at least 1")
    per_page = _number(query, "per_page", default)
    if not low <= per_page <= high:
        raise bad_query(f"per_page must be a number between {low} and {high}")
    return paginate(items, page, per_page)


def _match_any(query: Query) -> bool:
    match = query.get("match", "all")
    if match not in ("all", "any"):
        raise bad_query("match must be all or any")
    return match == "any"


def _ordered(
    query: Query, items: list[T], keys: Mapping[str, Callable[[T], Any]], default: str | None
) -> list[T]:
    """Items sorted by `order` (then by the default key, then as stored) in `direction`."""
    order = query.get("order", default)
    direction = query.get("direction", "asc")
    if order is not None and order not in keys:
        raise bad_query(f"order must be one of {', '.join(keys)}")
    if direction not in ("asc", "desc"):
        raise bad_query("direction must be asc or desc")
    if order is None:
        return items[::-1] if direction == "desc" else items
    first, then = keys[order], keys[default] if default else keys[order]
    ranked = sorted(enumerate(items), key=lambda pair: (first(pair[1]), then(pair[1]), pair[0]))
    return [item for _, item in (ranked[::-1] if direction == "desc" else ranked)]


def text_matches(spec: str, have: str, *, host: bool = False) -> bool:
    """v4's `op:value` text filter; case-insensitive unless the operator says otherwise."""
    operator, sep, want = spec.partition(":")
    base = operator.removesuffix("_case_sensitive")
    if not sep or base not in _OPERATORS:
        operator, base, want = "equal", "equal", spec
    if host:
        want = to_ascii_host(want) or want
    if not operator.endswith("_case_sensitive"):
        have, want = have.lower(), want.lower()
    return _OPERATORS[base](have, want)


def list_zones(zones: list[Zone], query: Query) -> Page:
    tests: list[Callable[[Zone], bool]] = []
    if "name" in query:
        tests.append(lambda z: text_matches(query["name"], z.name, host=True))
    if "status" in query:
        tests.append(lambda z: z.status == query["status"])
    if "account.id" in query:
        tests.append(lambda z: z.account.id == query["account.id"])
    if "account.name" in query:
        tests.append(lambda z: text_matches(query["account.name"], z.account.name))
    selected = select(zones, tests, _match_any(query))
    keys: dict[str, Callable[[Zone], Any]] = {
        "name": lambda z: z.name,
        "status": lambda z: z.status,
        "account.id": lambda z: z.account.id,
        "account.name": lambda z: z.account.name,
    }
    return _page(query, _ordered(query, selected, keys, "name"), 20, 5, 50)


def _content_key(value: str) -> str:
    """Content compared as v4 stores it: IPv6 compressed, case-insensitive."""
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return value.lower()


def list_records(zone: Zone, query: Query) -> Page:
    tests: list[Callable[[Record], bool]] = []
    if "type" in query:
        tests.append(lambda r: r.fields.type == query["type"])
    if "name" in query:
        name = to_ascii_host(query["name"], wildcard=True) or query["name"]
        tests.append(lambda r: r.fields.name == name)
    if "content" in query:
        content = _content_key(query["content"])
        tests.append(lambda r: _content_key(r.fields.content) == content)
    if "proxied" in query:
        if query["proxied"] not in ("true", "false"):
            raise bad_query("proxied must be true or false")
        proxied = query["proxied"] == "true"
        tests.append(lambda r: r.fields.proxied is proxied)
    selected = select(zone.records.values(), tests, _match_any(query))
    keys: dict[str, Callable[[Record], Any]] = {
        "type": lambda r: (r.fields.type, r.fields.name),
        "name": lambda r: r.fields.name,
        "content": lambda r: r.fields.content,
        "ttl": lambda r: r.fields.ttl,
        "proxied": lambda r: r.fields.proxied,
    }
    return _page(query, _ordered(query, selected, keys, "type"), 100, 1, 5_000_000)


def list_rules(rules: list[AccessRule], query: Query) -> Page:
    tests: list[Callable[[AccessRule], bool]] = []
    if "mode" in query:
        tests.append(lambda r: r.mode == query["mode"])
    if "configuration.target" in query:
        tests.append(lambda r: r.target == query["configuration.target"])
    if "configuration.value" in query:
        value = search_value(query["configuration.value"])
        tests.append(lambda r: r.value == value)
    if "notes" in query:
        tests.append(lambda r: query["notes"].lower() in r.notes.lower())
    selected = select(rules, tests, _match_any(query))
    keys: dict[str, Callable[[AccessRule], Any]] = {
        "configuration.target": lambda r: r.target,
        "configuration.value": lambda r: r.value,
        "mode": lambda r: r.mode,
    }
    return _page(query, _ordered(query, selected, keys, None), 20, 1, 1000)

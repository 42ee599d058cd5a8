"""Zones: a v1 zone *name* resolved to the v4 zone, zone listings, and the v1 zone object."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import idna

from proxy import errors, templates
from proxy.exchange import Exchange
from proxy.ids import v1_number
from proxy.steps import step
from proxy.v1objects import zone_obj

log = logging.getLogger("proxy.engine")

ZONES_PER_PAGE = 50  # the most v4 gives per page of /zones
_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")  # the name is lower case by then


@lru_cache(maxsize=4096)  # checked on every zone call; the same few names recur
def normalise_zone_name(raw: str | None) -> str:
    """`z` as v4 wants it: trimmed, lower case, no final dot, punycode (bug B7).

    Anything that cannot be a zone name answers `Invalid zone.` without calling v4; that
    includes a 32-hex v4 id given by mistake (bug B25), which has no dot.
    """
    name = (raw or "").strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if "." not in name or len(name) > 253:
        raise errors.invalid_zone()
    try:
        name = name if name.isascii() else idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise errors.invalid_zone() from None
    labels = name.split(".")
    if not all(label and len(label) <= 63 and _label_ok(label) for label in labels):
        raise errors.invalid_zone()
    return name


def _label_ok(label: str) -> bool:
    """A host-name label: ASCII letters, digits and inner hyphens (a zone is always one)."""
    return _LDH.fullmatch(label) is not None


async def resolve_zone(ex: Exchange, raw_name: str | None) -> dict[str, Any]:
    """The v4 zone for `z`, cached per credential (v4-api.md §6)."""
    name = normalise_zone_name(raw_name)
    key = ex.cache_key("zone", name)
    cached = await ex.store.get(key)
    if ex.metrics is not None:
        ex.metrics.zone_lookup(hit=cached is not None)
    if cached is not None:
        zone: dict[str, Any] = cached
        return zone

    try:
        answer = await ex.v4.get("/zones", {"name": name, "per_page": ZONES_PER_PAGE})
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "zone") from exc
    matches = [z for z in answer.result or [] if str(z.get("name", "")).lower() == name]
    if len(matches) > 1:
        # Zones of several accounts: an active one is the one in use.
        active = [z for z in matches if z.get("status") == "active"]
        matches = active or matches
    if not matches:
        raise errors.invalid_zone()
    if len(matches) > 1:
        log.warning("%s: zone %s is held by %d accounts", ex.action, name, len(matches))
        raise errors.invalid_input(f"Zone {name} exists in several accounts of this key.")

    zone = matches[0]
    await ex.store.set(key, zone, ex.settings.zone_cache_seconds)
    return zone


async def all_zones(ex: Exchange) -> list[dict[str, Any]]:
    try:
        zones = await ex.v4.get_all("/zones", per_page=ZONES_PER_PAGE)
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "input") from exc
    for zone in zones:
        await ex.store.set(
            ex.cache_key("zone", str(zone.get("name", "")).lower()),
            zone,
            ex.settings.zone_cache_seconds,
        )
    return zones


@step("list_zones", args=("save",), required=("save",))
async def list_zones(ex: Exchange, args: Mapping[str, Any]) -> None:
    ex.values[args["save"]] = await all_zones(ex)


@step("zone_ids", args=("names", "save"), required=("names", "save"), templated=("names",))
async def zone_ids(ex: Exchange, args: Mapping[str, Any]) -> None:
    """zone_check: each name as sent → its v1 zone id as an int, 0 when not on the account."""
    names: list[str] = templates.render(args["names"], ex.values)
    found: dict[str, int] = {}

    if len(names) > 3:
        # One listing costs fewer v4 calls than a lookup per name.
        by_name = {str(z.get("name", "")).lower(): z for z in await all_zones(ex)}
        for name in names:
            try:
                zone = by_name.get(normalise_zone_name(name))
            except errors.V1Error:
                zone = None
            found[name] = v1_number(zone["id"]) if zone else 0
    else:
        for name in names:
            try:
                found[name] = v1_number((await resolve_zone(ex, name))["id"])
            except errors.V1Error as exc:
                if exc.msg != errors.MSG_INVALID_ZONE:
                    raise
                found[name] = 0
    ex.values[args["save"]] = found


templates.FILTERS["v1_zone"] = lambda zone, _: zone_obj(zone)
templates.FILTERS["v1_zones"] = lambda zones, _: [zone_obj(zone) for zone in zones]

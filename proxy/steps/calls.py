"""Plain v4 calls declared in the table, and values the proxy remembers between calls."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from proxy import errors, templates
from proxy.exchange import Exchange
from proxy.steps import step

log = logging.getLogger("proxy.engine")

# Remembered values (the time of the last full purge, for zone_settings' `fpurge_ts`) live
# for a week; v4 has no record of them, so a restart forgets them and zone_settings says "0".
REMEMBER_SECONDS = 7 * 24 * 3600.0


async def run_call(ex: Exchange, args: Mapping[str, Any]) -> None:
    """`{call = "PATCH /zones/{zone.id}/settings/x", body = {…}, save = "setting"}`."""
    path = templates.render_path(args["path"], ex.values)
    query = templates.render(args.get("query"), ex.values)
    body = templates.render(args.get("body"), ex.values)
    target = args.get("target", "zone")

    try:
        answer = await ex.v4.request(
            args["method"], path, query=query, body=body, idempotent=args.get("idempotent")
        )
    except errors.V4Error as exc:
        if target == "zone" and (exc.status == 404 or 7003 in exc.codes):
            await forget_zone(ex)
        raise errors.from_v4(exc, target) from exc

    if "save" in args:
        ex.values[args["save"]] = answer.result
    for dotted, template in (args.get("set") or {}).items():
        assign(ex.values, dotted, templates.render(template, ex.values))


async def create_once(
    ex: Exchange, path: str, body: Mapping[str, Any], find: Callable[[], Awaitable[Any]]
) -> Any:
    """POST a create once, as far as v4 can tell; the created object, or what `find` finds.

    After a broken answer or a 5xx the object may exist all the same. Had it existed before,
    v4 would have refused the create as a duplicate, so an identical one found now means
    this call made it; only when `find` finds none is the create sent again, and if v4 calls
    that one a duplicate, the first landed meanwhile. A POST that went out and was never
    answered is not looked into: it may land later still (`V4Session.request`).
    """
    try:
        return (await ex.v4.request("POST", path, body=dict(body))).result
    except (errors.V4Error, errors.UpstreamError) as exc:
        if not errors.ambiguous(exc) or errors.pending(exc):
            raise

    found = await find()
    if found is None:
        try:
            return (await ex.v4.request("POST", path, body=dict(body))).result
        except errors.V4Error as exc:
            found = await find() if errors.duplicate(exc) else None
            if found is None:
                raise
    log.info("%s: a create answered badly had landed", ex.action)
    return found


def assign(values: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `zone.development_mode`-style paths, copying each table on the way.

    Values may be shared with a cache, so nothing is changed in place.
    """
    head, _, rest = dotted.partition(".")
    if not rest:
        values[head] = value
        return
    inner = dict(values.get(head) or {})
    assign(inner, rest, value)
    values[head] = inner


async def forget_zone(ex: Exchange) -> None:
    """A zone path said "no such zone": the cached lookup is stale."""
    zone = ex.values.get("zone")
    if isinstance(zone, dict) and zone.get("name"):
        await ex.store.delete(ex.cache_key("zone", zone["name"]))


def remembered_key(zone_id: str, key: str) -> str:
    return f"remember:{zone_id}:{key}"


@step("remember", args=("key", "value"), required=("key", "value"), needs=("zone",),
      templated=("value",))
async def remember(ex: Exchange, args: Mapping[str, Any]) -> None:
    value = templates.render(args["value"], ex.values)
    await ex.store.set(remembered_key(ex.zone["id"], args["key"]), value, REMEMBER_SECONDS)

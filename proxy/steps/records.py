"""DNS records: listing, paging, id resolution, and writes that keep v1's meaning.

The rules that matter most to real clients (`v4-api.md` §7, §14):
- a listing always reads every v4 page (bug B24) and is sorted A before AAAA before the
  other types, as a DDNS client takes the first record whose name matches;
- an edit without `service_mode` never touches `proxied` (bugs B13–B15): PATCH, never PUT;
- a type change is DELETE + POST (in-place change reached end of life on 2026-06-30), with
  the old record put back if the POST is refused;
- v1 ids are derived from v4 ids and resolved through a cache, then a listing (§14.1).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any

import idna

from proxy import errors, templates
from proxy.exchange import Exchange
from proxy.ids import is_v4_id, parse_v1_number, v1_number
from proxy.steps import step
from proxy.steps.calls import create_once
from proxy.v1objects import PROXIABLE_TYPES, record_obj

log = logging.getLogger("proxy.engine")

RECORDS_PER_PAGE = 1000
FALLBACK_PER_PAGE = 100  # if v4 refuses large pages (v4-api.md §3)
ID_MAP_SECONDS = 24 * 3600.0

# What a restored record keeps when a type change has to be rolled back.
_SNAPSHOT_FIELDS = ("type", "name", "content", "ttl", "proxied", "priority", "data", "comment",
                    "tags")


def records_path(ex: Exchange, record_id: str | None = None) -> str:
    path = templates.render_path("/zones/{zone.id}/dns_records", ex.values)
    if record_id is not None:
        if not is_v4_id(record_id):
            raise errors.invalid_record_id()
        path += "/" + record_id
    return path


def _listing_key(ex: Exchange) -> str:
    return ex.cache_key("listing", ex.zone["id"])


def _id_map_key(ex: Exchange) -> str:
    # Derived data only (numbers of ids): safe to share between credentials, since every use
    # is followed by a v4 call made with the caller's own credential.
    return f"ids:{ex.zone['id']}"


def sort_key(record: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(record.get("type", "")),
        str(record.get("name", "")),
        str(record.get("content", "")),
        str(record.get("id", "")),
    )


async def fetch_records(ex: Exchange) -> list[dict[str, Any]]:
    """Every record of the zone, sorted, with their v1 numbers remembered.

    Within `V4Client.listings`: the gate opens to the next listing only when this one's
    caller next waits, which is once its answer is encoded and being written.
    """
    async with ex.v4.client.listings:
        return await _fetch_records(ex)


async def _fetch_records(ex: Exchange) -> list[dict[str, Any]]:
    path = records_path(ex)
    try:
        try:
            records = await ex.v4.get_all(path, per_page=RECORDS_PER_PAGE)
        except errors.V4Error as exc:
            if exc.status != 400 or 7003 in exc.codes:
                raise
            records = await ex.v4.get_all(path, per_page=FALLBACK_PER_PAGE)
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "zone") from exc

    records.sort(key=sort_key)
    await ex.store.set(_listing_key(ex), records, ex.settings.listing_cache_seconds)
    await ex.store.set(
        _id_map_key(ex), {v1_number(r["id"]): r["id"] for r in records}, ID_MAP_SECONDS
    )
    return records


async def _note_id(ex: Exchange, record: Mapping[str, Any]) -> None:
    ids = dict(await ex.store.get(_id_map_key(ex)) or {})
    ids[v1_number(record["id"])] = record["id"]
    await ex.store.set(_id_map_key(ex), ids, ID_MAP_SECONDS)


@step("list_records", args=("save", "continuing"), required=("save",), needs=("zone",),
      templated=("continuing",))
async def list_records(ex: Exchange, args: Mapping[str, Any]) -> None:
    """The zone's records; a paging loop past its first page reuses the listing it started.

    `continuing` is true-ish for a later page (`o` > 0): that page must come from the same
    list as the first, or records would be skipped or seen twice. A new loop reads afresh.
    Writes leave the kept listing alone for the same reason: a client that adds or deletes
    records while it pages (a "delete every record" loop) must still walk the list it began.
    """
    records = None
    if templates.render(args.get("continuing", False), ex.values):
        records = await ex.store.get(_listing_key(ex))
    ex.values[args["save"]] = records if records is not None else await fetch_records(ex)


@step("page_records", args=("records", "offset", "only", "save"),
      required=("records", "save"), needs=("zone",), templated=("records", "offset", "only"))
async def page_records(ex: Exchange, args: Mapping[str, Any]) -> None:
    """`{has_more, count, objs}` for one rec_load_all answer (`v1-api.md` §6)."""
    records: list[dict[str, Any]] = templates.render(args["records"], ex.values)
    only = templates.render(args.get("only", "$null"), ex.values)
    offset = templates.render(args.get("offset", 0), ex.values) or 0

    if only:
        records = [r for r in records if only in (r["id"], str(v1_number(r["id"])))]
    size = ex.settings.rec_page_size or len(records)
    page = records[offset : offset + size]
    zone_name = ex.zone["name"]
    ex.values[args["save"]] = {
        "has_more": offset + len(page) < len(records),
        "count": len(page),
        "objs": [record_obj(record, zone_name) for record in page],
    }


@step("find_record", args=("id", "save"), required=("id", "save"), needs=("zone",),
      templated=("id",))
async def find_record(ex: Exchange, args: Mapping[str, Any]) -> None:
    """The v4 record behind a client's `id`: a v1 number or a 32-hex v4 id (bugs B9, B10)."""
    given = str(templates.render(args["id"], ex.values)).strip().lower()
    if is_v4_id(given):
        ex.values[args["save"]] = await _get_record(ex, given)
        return

    number = parse_v1_number(given)
    if number is None:
        raise errors.invalid_record_id()
    known = (await ex.store.get(_id_map_key(ex)) or {}).get(number)
    if known:
        try:
            ex.values[args["save"]] = await _get_record(ex, known)
            return
        except errors.V1Error as exc:
            if exc.msg != errors.MSG_INVALID_RECORD:
                raise

    # A cache miss or a stale entry: the zone's listing settles it.
    matches = [r for r in await fetch_records(ex) if v1_number(r["id"]) == number]
    if len(matches) > 1:
        log.warning("%s: zone %s has %d records for one v1 id; touching none",
                    ex.action, ex.zone["name"], len(matches))
    if len(matches) != 1:
        raise errors.invalid_record_id()
    ex.values[args["save"]] = matches[0]


async def _get_record(ex: Exchange, record_id: str) -> dict[str, Any]:
    try:
        answer = await ex.v4.get(records_path(ex, record_id))
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "record") from exc
    record: dict[str, Any] = answer.result
    return record


# --- writes ---------------------------------------------------------------------------------


def record_fqdn(raw: str, zone_name: str) -> str:
    """A v1 record name as v4 wants it (`v1-api.md` §3.10): `@`, label, apex or FQDN → FQDN."""
    name = raw.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if name in ("", "@"):
        return zone_name
    try:
        labels = [
            label if label.isascii() else idna.encode(label, uts46=True).decode("ascii")
            for label in name.split(".")
        ]
    except idna.IDNAError:
        raise errors.invalid_input("Invalid value for name.") from None
    if not all(label and len(label) <= 63 and _record_label_ok(label) for label in labels):
        raise errors.invalid_input("Invalid value for name.")
    name = ".".join(labels)
    if name == zone_name or name.endswith("." + zone_name):
        return name
    return f"{name}.{zone_name}"


def _record_label_ok(label: str) -> bool:
    # DNS allows more in record names than in host names: `_dmarc`, `_sip._tcp`, `*`.
    return label == "*" or all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in label)


def _srv_fields(ex: Exchange, old: Mapping[str, Any] | None) -> dict[str, Any]:
    """v1's SRV parts → v4's `name` + `data` (`v4-api.md` §14.5)."""
    p = ex.values
    zone_name = ex.zone["name"]
    old_data = dict(old.get("data") or {}) if old else {}
    old_parts = str(old.get("name", "")).split(".", 2) if old else []

    def part(key: str, index: int) -> str | None:
        value = p.get(key)
        if value:
            value = str(value).strip().lower()
            return value if value.startswith("_") else "_" + value
        return old_parts[index] if len(old_parts) == 3 else None

    service, protocol = part("service", 0), part("protocol", 1)
    host = p.get("srvname") or (p.get("name") if not str(p.get("name", "")).startswith("_")
                                else None)
    if host is None and len(old_parts) == 3:
        host = old_parts[2]
    if old is None or any(k in p for k in ("service", "protocol", "srvname", "name")):
        if str(p.get("name", "")).startswith("_") and not (p.get("service") or p.get("protocol")):
            name = record_fqdn(str(p["name"]), zone_name)
        elif service and protocol:
            name = f"{service}.{protocol}.{record_fqdn(host or '@', zone_name)}"
            name = record_fqdn(name, zone_name)
        else:
            raise errors.invalid_input("Missing parameter service or protocol for SRV.")
    else:
        name = str(old["name"])

    data = {}
    for v1_key, v4_key in (("prio", "priority"), ("weight", "weight"), ("port", "port"),
                           ("target", "target")):
        value = p.get(v1_key, old_data.get(v4_key))
        if value is None or value == "":
            raise errors.invalid_input(f"Missing parameter {v1_key} for SRV.")
        data[v4_key] = value if v4_key == "target" else int(value)
    data["target"] = str(data["target"]).strip().rstrip(".") or "."
    return {"name": name, "data": data}


def record_fields(ex: Exchange, rtype: str, old: Mapping[str, Any] | None) -> dict[str, Any]:
    """The v4 fields a rec_new (old None) or rec_edit sends; absent v1 fields stay out."""
    p = ex.values
    body: dict[str, Any] = {"type": rtype}

    if rtype == "SRV":
        body.update(_srv_fields(ex, old if old and old.get("type") == "SRV" else None))
    else:
        if "name" in p:
            body["name"] = record_fqdn(str(p["name"]), ex.zone["name"])
        elif old is None:
            raise errors.invalid_input("Missing parameter name.")
        if "content" in p:
            if not str(p["content"]).strip():
                raise errors.invalid_input("Missing parameter content.")
            body["content"] = str(p["content"]) if rtype == "TXT" else str(p["content"]).strip()
            _check_content(rtype, body["content"])
        elif old is None:
            raise errors.invalid_input("Missing parameter content.")
        if rtype == "MX":
            if "prio" in p:
                body["priority"] = p["prio"]
            elif old is None or old.get("priority") is None:
                raise errors.invalid_input("Missing parameter prio for MX.")

    if "ttl" in p:
        body["ttl"] = p["ttl"]
    elif old is None:
        body["ttl"] = 1
    return body


def _check_content(rtype: str, content: str) -> None:
    """Refuse content of the wrong kind here, before a type change has deleted anything."""
    try:
        version: int | None = ipaddress.ip_address(content).version
    except ValueError:
        version = None
    wanted = {"A": 4, "AAAA": 6}.get(rtype)
    if wanted is not None and version != wanted:
        kind = "IPv4" if wanted == 4 else "IPv6"
        raise errors.invalid_input(f"Invalid value for content: an {rtype} record needs an "
                                   f"{kind} address.")
    if rtype in ("CNAME", "MX", "NS") and version is not None:
        raise errors.invalid_input(f"Invalid value for content: a {rtype} record needs a host "
                                   "name, not an address.")


def _proxied_wanted(ex: Exchange, rtype: str, creating: bool) -> bool | None:
    """`service_mode` as `proxied`, or None to leave it alone (`v4-api.md` §14.3)."""
    if rtype not in PROXIABLE_TYPES or "service_mode" not in ex.values:
        return None
    if creating and ex.settings.rec_new_service_mode != "honour":
        # Live v1 created every record grey; clients that always send 1 would otherwise
        # proxy mail hosts by surprise (bugs B11, B12).
        return None
    return bool(ex.values["service_mode"])


async def _post(ex: Exchange, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a record once (`calls.create_once`), and remember its v1 number."""
    record: dict[str, Any] = await create_once(
        ex, records_path(ex), body, lambda: _landed(ex, body)
    )
    await _note_id(ex, record)
    return record


async def _landed(ex: Exchange, body: Mapping[str, Any]) -> dict[str, Any] | None:
    query: dict[str, str | int] = {"type": str(body["type"]), "name": str(body["name"])}
    if "content" in body:
        query["content"] = str(body["content"])
    found = await ex.v4.get_all(records_path(ex), query, per_page=100)
    for record in found:
        if body.get("data") and record.get("data") != body["data"]:
            continue
        if "content" in body and record.get("content") != body["content"]:
            continue
        return dict(record)
    return None


@step("create_record", args=("save",), required=("save",), needs=("zone", "type"))
async def create_record(ex: Exchange, args: Mapping[str, Any]) -> None:
    rtype = ex.values["type"]
    body = record_fields(ex, rtype, None)
    proxied = _proxied_wanted(ex, rtype, creating=True)
    if proxied is not None:
        body["proxied"] = proxied

    try:
        ex.values[args["save"]] = await _post(ex, body)
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "input") from exc


@step("update_record", args=("record", "save"), required=("record", "save"),
      needs=("zone",), templated=("record",))
async def update_record(ex: Exchange, args: Mapping[str, Any]) -> None:
    old: dict[str, Any] = templates.render(args["record"], ex.values)
    rtype = ex.values.get("type") or old["type"]

    if rtype == old["type"]:
        body = record_fields(ex, rtype, old)
        proxied = _proxied_wanted(ex, rtype, creating=False)
        if proxied is not None:
            body["proxied"] = proxied
        try:
            answer = await ex.v4.request("PATCH", records_path(ex, old["id"]), body=body)
        except errors.V4Error as exc:
            raise errors.from_v4(exc, "record") from exc
        ex.values[args["save"]] = answer.result
        return

    ex.values[args["save"]] = await _change_type(ex, old, rtype)


async def _change_type(ex: Exchange, old: dict[str, Any], rtype: str) -> dict[str, Any]:
    """DELETE + POST, the old record put back if v4 refuses the new one (`v4-api.md` §14.4)."""
    body = record_fields(ex, rtype, old)
    body.setdefault("name", old["name"])
    body.setdefault("ttl", old.get("ttl", 1))
    if rtype != "SRV" and "content" not in body:
        body["content"] = old.get("content", "")
    if rtype == "MX" and "priority" not in body:
        body["priority"] = old.get("priority")
    proxied = _proxied_wanted(ex, rtype, creating=False)
    if proxied is None and rtype in PROXIABLE_TYPES:
        proxied = bool(old.get("proxied"))
    if proxied is not None:
        body["proxied"] = proxied

    await _refuse_conflicts(ex, old, body)
    # The old record goes first: A/AAAA and CNAME cannot share a name.
    try:
        await ex.v4.request("DELETE", records_path(ex, old["id"]))
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "record") from exc
    try:
        return await _post(ex, body)
    except (errors.V4Error, errors.UpstreamError) as exc:
        if not errors.pending(exc):  # else the new record may land yet: both would be there
            await _restore(ex, old)
        if isinstance(exc, errors.V4Error):
            raise errors.from_v4(exc, "input") from exc
        raise


async def _refuse_conflicts(
    ex: Exchange, old: Mapping[str, Any], body: Mapping[str, Any]
) -> None:
    """Refuse now what v4 would refuse once the old record is gone.

    A create refused after the delete means putting the old record back, and v4 gives it a
    new id: the client's stored rec_id would stop working although its edit failed.
    """
    try:
        named = await ex.v4.get_all(records_path(ex), {"name": str(body["name"])},
                                    per_page=100)
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "zone") from exc
    others = [r for r in named if r.get("id") != old["id"]]
    rtype = body["type"]
    if (rtype == "CNAME" and others) or (
        rtype in ("A", "AAAA") and any(r.get("type") == "CNAME" for r in others)
    ):
        raise errors.invalid_input(
            "An A, AAAA, or CNAME record with that host already exists."
        )
    if any(r.get("type") == rtype and r.get("content") == body.get("content") for r in others):
        raise errors.invalid_input("Record already exists.")


async def _restore(ex: Exchange, old: Mapping[str, Any]) -> None:
    snapshot = {key: old[key] for key in _SNAPSHOT_FIELDS if old.get(key) is not None}
    if snapshot.get("type") == "SRV":
        snapshot.pop("content", None)
    try:
        await _post(ex, snapshot)
        log.warning("%s: zone %s: type change refused by v4; old record restored",
                    ex.action, ex.zone["name"])
    except (errors.V4Error, errors.UpstreamError):
        log.error("%s: zone %s: type change refused and the old %s record %s could not be "
                  "restored", ex.action, ex.zone["name"], old.get("type"), old.get("id"))


@step("delete_record", args=("record",), required=("record",), needs=("zone",),
      templated=("record",))
async def delete_record(ex: Exchange, args: Mapping[str, Any]) -> None:
    record: dict[str, Any] = templates.render(args["record"], ex.values)
    try:
        await ex.v4.request("DELETE", records_path(ex, record["id"]))
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "record") from exc


@step("delete_record_id", args=("id",), required=("id",), needs=("zone",), templated=("id",))
async def delete_record_id(ex: Exchange, args: Mapping[str, Any]) -> None:
    """rec_delete in one v4 call: DELETE the record a client's `id` names, found as
    `find_record` finds it; a known v4 id is deleted without reading the record first.

    A known id that v4 no longer has (stale cache) goes the long way, through the listing.
    """
    given = str(templates.render(args["id"], ex.values)).strip().lower()
    known = given if is_v4_id(given) else None
    number = None if known else parse_v1_number(given)
    if number is not None:
        known = (await ex.store.get(_id_map_key(ex)) or {}).get(number)
    if known:
        try:
            await ex.v4.request("DELETE", records_path(ex, known))
            return
        except errors.V4Error as exc:
            if not (exc.status == 404 or 81044 in exc.codes):
                raise errors.from_v4(exc, "record") from exc
    await find_record(ex, {"id": args["id"], "save": "current"})
    await delete_record(ex, {"record": "$current"})


templates.FILTERS["v1_record"] = lambda record, values: record_obj(record, values["zone"]["name"])

"""zone_settings: v1's one settings object, read from v4's per-setting endpoints.

The bulk settings endpoint reached end of life on 2026-09-15, so each v4 setting is read on
its own, all of them concurrently. Which v1 key comes from which setting, and how its value
converts, is data in the table (`mappings/settings.toml`); a read that v4 refuses (a setting
the plan lacks) gives that setting's v4 default, as `v4-api.md` §8 recommends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from proxy import errors, templates
from proxy.exchange import Exchange
from proxy.steps import step
from proxy.steps.calls import remembered_key

READ_CONCURRENCY = 6


def dev_mode_epoch(setting: Mapping[str, Any]) -> int:
    """v1's `dev_mode`: 0 when off, else the Unix second when development mode ends."""
    remaining = setting.get("time_remaining")
    if setting.get("value") != "on" or not isinstance(remaining, (int, float)) or remaining <= 0:
        return 0
    return int(time.time()) + int(remaining)


def security_header_json(setting: Mapping[str, Any]) -> str:
    """v1 kept HSTS settings as a JSON document inside a string."""
    value = setting.get("value")
    hsts = value.get("strict_transport_security") if isinstance(value, dict) else None
    if not isinstance(hsts, dict) or not hsts.get("enabled"):
        # HSTS off: v1 showed an empty string (v1-api.md §3.4).
        return ""
    inner: dict[str, Any] = {
        "strict_transport_security": {
            "enable": 1 if hsts.get("enabled") else 0,
            "max_age": int(hsts.get("max_age") or 0),
        }
    }
    if hsts.get("nosniff"):
        inner["content_type_options"] = "nosniff"
    return json.dumps({"*": inner}, separators=(",", ":"))


CONVERTERS = {"dev_mode_epoch": dev_mode_epoch, "security_header_json": security_header_json}


@step("read_settings", args=("keys", "save"), required=("keys", "save"), needs=("zone",))
async def read_settings(ex: Exchange, args: Mapping[str, Any]) -> None:
    keys: Mapping[str, Mapping[str, Any]] = args["keys"]
    wanted = {spec["setting"]: spec.get("default") for spec in keys.values() if "setting" in spec}
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def read(setting_id: str) -> tuple[str, dict[str, Any]]:
        path = templates.render_path("/zones/{zone.id}/settings/", ex.values) + setting_id
        async with gate:
            try:
                answer = await ex.v4.get(path)
            except errors.V4Error as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise errors.from_v4(exc, "zone") from exc
                if exc.status in (401, 403) and set(exc.codes) & {9103, 9106, 6003}:
                    raise errors.from_v4(exc, "zone") from exc
                return setting_id, {"id": setting_id, "value": wanted[setting_id]}
        result = answer.result if isinstance(answer.result, dict) else {}
        return setting_id, result

    settings = dict(await asyncio.gather(*(read(setting_id) for setting_id in wanted)))
    remembered = {}
    for spec in keys.values():
        if "remembered" in spec:
            key = remembered_key(ex.zone["id"], spec["remembered"])
            remembered[spec["remembered"]] = await ex.store.get(key)

    obj: dict[str, Any] = {}
    for v1_key, spec in keys.items():
        obj[v1_key] = _convert(spec, settings, remembered)
    ex.values[args["save"]] = obj


def _convert(
    spec: Mapping[str, Any], settings: Mapping[str, Any], remembered: Mapping[str, Any]
) -> Any:
    if "fixed" in spec:
        return spec["fixed"]
    if "remembered" in spec:
        value = remembered.get(spec["remembered"])
        return str(value) if value is not None else spec.get("otherwise", "0")
    setting = settings.get(spec["setting"]) or {}
    if "convert" in spec:
        return CONVERTERS[spec["convert"]](setting)
    value = setting.get("value", spec.get("default"))
    if "map" in spec:
        return spec["map"].get(str(value), spec["map"].get("*", ""))
    return str(value)

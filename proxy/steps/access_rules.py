"""wl / ban / nul: v1's account-wide IP lists as v4 IP access rules (`v4-api.md` §10, §14.10).

v1 lists were per user and took no zone, which user-level rules match best. Where v4 refuses
user-level rules, the same rule goes to every account that holds one of the credential's
zones (`--access-rules-scope auto`). An existing rule for the IP is changed, not duplicated;
`nul` deletes only whitelist and block rules, the two modes v1 could create.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from proxy import errors, templates
from proxy.exchange import Exchange
from proxy.steps import step
from proxy.steps.calls import create_once
from proxy.steps.zones import all_zones

log = logging.getLogger("proxy.engine")

USER_RULES = "/user/firewall/access_rules/rules"
V1_MODES = ("whitelist", "block")
NOTE = "cf-v1-proxy"


def account_rules(account_id: str) -> str:
    return templates.render_path(
        "/accounts/{account}/firewall/access_rules/rules", {"account": account_id}
    )


def _refused_scope(exc: errors.V4Error) -> bool:
    """v4's way of saying "no such route / not allowed here" rather than "bad rule"."""
    return exc.status in (403, 404, 405) or bool({7000, 7003, 10000} & set(exc.codes))


@step("access_rule", args=("target", "mode"), required=("target",), templated=("target",))
async def access_rule(ex: Exchange, args: Mapping[str, Any]) -> None:
    target: dict[str, str] = templates.render(args["target"], ex.values)
    mode: str | None = args.get("mode")
    scope = ex.settings.access_rules_scope

    try:
        if scope in ("user", "auto"):
            try:
                await _apply(ex, USER_RULES, target, mode)
                return
            except errors.V4Error as exc:
                if not _refused_scope(exc):
                    raise
                if scope == "user":
                    raise errors.invalid_input(
                        "This key cannot keep user-level IP access rules in Cloudflare API "
                        "v4; the proxy's --access-rules-scope auto or account uses "
                        "account-level rules instead."
                    ) from exc
                log.info("%s: user-level rules refused; using account-level rules", ex.action)

        accounts = sorted({
            str(zone["account"]["id"])
            for zone in await all_zones(ex)
            if isinstance(zone.get("account"), dict) and zone["account"].get("id")
        })
        if not accounts:
            raise errors.invalid_input("No account found for IP rules: this key holds no zone.")
        for account_id in accounts:
            await _apply(ex, account_rules(account_id), target, mode)
    except errors.V4Error as exc:
        raise errors.from_v4(exc, "input") from exc


async def _apply(ex: Exchange, base: str, target: Mapping[str, str], mode: str | None) -> None:
    matches = await _rules_for(ex, base, target)

    if mode is None:
        for rule in matches:
            if rule.get("mode") in V1_MODES:
                await ex.v4.request("DELETE", f"{base}/{_rule_id(rule)}", body={})
        return

    if not matches:
        await _create(ex, base, target, mode)
        return
    first, *others = matches
    if first.get("mode") != mode:
        body: dict[str, Any] = {"mode": mode}
        if base != USER_RULES:
            # The account-level PATCH requires the (unchanged) configuration as well.
            body["configuration"] = dict(first.get("configuration") or target)
        await ex.v4.request("PATCH", f"{base}/{_rule_id(first)}", body=body)
    for rule in others:
        await ex.v4.request("DELETE", f"{base}/{_rule_id(rule)}", body={})


async def _rules_for(ex: Exchange, base: str, target: Mapping[str, str]) -> list[Any]:
    """The rules whose value is exactly this IP or range (v4 searches more loosely)."""
    rules = await ex.v4.get_all(base, {"configuration.value": target["value"]}, per_page=50)
    return [
        rule for rule in rules
        if str((rule.get("configuration") or {}).get("value", "")).lower()
        == target["value"].lower()
    ]


async def _create(ex: Exchange, base: str, target: Mapping[str, str], mode: str) -> None:
    """Create the rule once (`calls.create_once`): a rule of this mode for the IP is it."""
    body = {"mode": mode, "configuration": dict(target), "notes": NOTE}

    async def landed() -> Any:
        rules = await _rules_for(ex, base, target)
        return next((rule for rule in rules if rule.get("mode") == mode), None)

    await create_once(ex, base, body, landed)


def _rule_id(rule: Mapping[str, Any]) -> str:
    rule_id = str(rule.get("id", ""))
    return templates.render_path("{id}", {"id": rule_id})

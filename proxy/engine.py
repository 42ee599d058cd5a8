"""Stage 3: run one v1 call through its mapping entry and build the v1 answer.

The order of checks follows `v4-api.md` §13: action (missing → E_INVLDINPUT; retired or
unknown → 410 at once, no credential check, no v4 call) → credentials → parameters → zone →
the entry's steps → the answer's shape. Everything a step raises is turned into a v1 error
body here, so no failure leaves as a traceback or an HTTP 500.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from proxy import envelope, errors, params, templates
from proxy.credentials import Gate, credential_from, gate_for
from proxy.exchange import Exchange
from proxy.mapping import ActionMapping, MappingTable
from proxy.metrics import Metrics
from proxy.settings import Settings
from proxy.steps import STEPS
from proxy.steps.calls import run_call
from proxy.steps.zones import resolve_zone
from proxy.store import Store
from proxy.v1request import V1Request
from proxy.v4client import V4Call, V4Client

log = logging.getLogger("proxy.engine")

REDACTED = "[redacted]"
MAX_ACTION_ECHO = 64


@dataclass
class Reply:
    """A v1 answer before encoding, with what the access log needs to know about it."""

    status: int
    body: dict[str, Any]
    action: str | None = None
    # What the access log may show: the table's own action name and the resolved zone name,
    # never raw client text (a clumsy client may have glued its key onto `a` or `z`).
    known_action: str | None = None
    zone: str | None = None
    credential: str | None = None
    v4_calls: list[V4Call] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "gone" if self.status == 410 else str(self.body.get("result"))


class Engine:
    # Set by the app: rate-budget refusals and zone-cache lookups are counted there.
    metrics: Metrics | None = None

    def __init__(
        self, table: MappingTable, client: V4Client, store: Store, settings: Settings,
        *, gate: Gate | None = None,
    ) -> None:
        self.table = table
        self.client = client
        self.store = store
        self.settings = settings
        # Pass-through, or token mode (CredentialsFileError here stops the start).
        self.gate = gate or gate_for(settings.v4_token, settings.v1_credentials)

    async def answer(self, request: V1Request) -> Reply:
        action = request.action
        shown = action[:MAX_ACTION_ECHO] if action else None
        reply = Reply(200, {}, action=shown)
        try:
            reply.body = await self._run(request, action, reply)
        except errors.V1Error as err:
            reply.status = err.status
            reply.body = envelope.error(err, shown)
        except errors.UpstreamError as err:
            reply.body = envelope.error(errors.upstream_failure(str(err)), shown)
        except errors.V4Error as err:
            reply.body = envelope.error(errors.from_v4(err, "input"), shown)
        except Exception:
            log.exception("%s: zone %s: unexpected failure", shown, reply.zone)
            failure = errors.upstream_failure(
                "cf-v1-proxy failed on this call; it may not have been carried out."
            )
            reply.body = envelope.error(failure, shown)
        return reply

    async def _run(self, request: V1Request, action: str | None, reply: Reply) -> dict[str, Any]:
        if action is None:
            raise errors.V1Error("No action given.", "E_INVLDINPUT", echo_action=False)
        entry = self.table.find(action)
        if entry is None:
            raise errors.Gone(
                f"Action {action[:MAX_ACTION_ECHO]} is not available: it is not a Cloudflare "
                "API v1 action that cf-v1-proxy knows. Cloudflare API v1 is retired; see "
                "Cloudflare API v4."
            )
        reply.known_action = entry.name
        if entry.gone is not None:
            raise errors.Gone(entry.gone)

        credential = credential_from(request.params.get("email"), request.params.get("tkn"))
        if credential is None:
            raise errors.unauthorized()
        reply.credential = credential.fingerprint
        upstream = await self.gate.upstream_for(credential)
        if upstream is None:
            raise errors.unauthorized()
        session = self.client.session(
            upstream, deadline=self.settings.call_deadline, retries=self.settings.retries
        )
        reply.v4_calls = session.calls

        ex = Exchange(action, request, credential, upstream, session, self.store, self.settings)
        ex.metrics = self.metrics
        ex.values.update(params.validate(entry.params, request.params))
        await self._admit(ex, entry)
        try:
            if entry.zone:
                ex.values["zone"] = await resolve_zone(ex, request.params.get("z"))
                reply.zone = ex.zone["name"]
            for step in entry.steps:
                if step.use == "call":
                    await run_call(ex, step.args)
                else:
                    await STEPS[step.use].run(ex, step.args)
        finally:
            await self._settle(ex, entry)

        return envelope.success(
            self._echo(request, entry),
            templates.render(entry.response, ex.values),
            templates.render(entry.attributes, ex.values),
        )

    async def _admit(self, ex: Exchange, entry: ActionMapping) -> None:
        """Refuse before the first v4 call what could not finish within the limits.

        After a v4 429 the credential waits out `retry-after` without reaching v4; and an
        action starts only if the credential's rate budget holds the calls it usually needs,
        so no action stops half-way for lack of budget (`v4-api.md` §5).
        """
        if await self.store.get(ex.cache_key("blocked")):
            if self.metrics is not None:
                self.metrics.rate_refusal("blocked")
            raise errors.rate_limited()
        capacity, window = self.settings.rate_budget
        if not await self.store.reserve(ex.cache_key("budget"), entry.cost, capacity, window):
            log.warning("%s: rate budget of %s used up (%d calls per %g s)",
                        ex.action, ex.upstream.fingerprint, capacity, window)
            if self.metrics is not None:
                self.metrics.rate_refusal("budget")
            raise errors.rate_limited(
                f"Rate limit reached: at most {capacity} Cloudflare API calls per "
                f"{window:g} seconds for this key; retry later."
            )

    async def _settle(self, ex: Exchange, entry: ActionMapping) -> None:
        """Charge the calls really made, and remember a 429 for the credential."""
        capacity, window = self.settings.rate_budget
        used = len(ex.v4.calls)
        if used != entry.cost:
            await self.store.charge(ex.cache_key("budget"), used - entry.cost, capacity, window)
        if ex.v4.rate_limited_for:
            await self.store.set(ex.cache_key("blocked"), True, ex.v4.rate_limited_for)

    def _echo(self, request: V1Request, entry: ActionMapping) -> dict[str, str] | None:
        """v1's request echo: `act`, then every parameter as received (`v1-api.md` §2.6)."""
        if not entry.echo:
            return None
        echo = {"act": entry.name}
        for name, value in request.received.items():
            echo[name] = REDACTED if name == "tkn" and not self.settings.echo_token else value
        return echo

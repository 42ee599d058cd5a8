"""`cf-v1-proxy translate`: the v4 requests one v1 call becomes, printed as curl commands.

The real engine runs the call, but its v4 client talks to `PlaceholderUpstream`, an
in-process stand-in that records each request and answers it plausibly: nothing reaches
Cloudflare. Without credentials every v4 id is `PLACEHOLDER_ID` (32 zeros), the zone is the
one named by `z`, and a record id given as a v1 number stands for the placeholder record (no
real number can be resolved without the account). The stand-in assumes the record already
has the type the call names, so a type change shows as a PATCH; with credentials it shows
as what it is.

With credentials (`--email`/`--key`, or `--token`), reads (GET) go to the real upstream,
so the printed requests carry the account's real ids and the real listings decide what
follows; writes are still only recorded and printed. The printed commands never hold a
credential: they read `$CF_EMAIL` and `$CF_KEY` (or `$CF_API_TOKEN`) from the shell.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import httpx

from proxy import envelope, errors, v1request
from proxy.credentials import PassThrough
from proxy.engine import Engine, Reply
from proxy.ids import is_v4_id, parse_v1_number, v1_number
from proxy.mapping import MappingTable
from proxy.settings import Settings
from proxy.store import MemoryStore
from proxy.v4client import V4Client

PLACEHOLDER_ID = "0" * 32
# What the engine is given as the v1 pair; the printed commands use shell variables instead.
PLACEHOLDER_EMAIL = "translate@example.com"
PLACEHOLDER_KEY = "placeholder-key"
KEY_HEADERS = '-H "X-Auth-Email: $CF_EMAIL" -H "X-Auth-Key: $CF_KEY"'
TOKEN_HEADERS = '-H "Authorization: Bearer $CF_API_TOKEN"'
_AUTH_HEADERS = ("x-auth-email", "x-auth-key", "authorization")
_STAMP = "2026-01-01T00:00:00Z"
_RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV")


@dataclass(frozen=True)
class PlannedRequest:
    """One v4 request as it would be sent: method, full URL, JSON body."""

    method: str
    url: str
    body: Any | None = None

    def curl(self, *, bearer: bool = False) -> str:
        """A curl command for it; the credentials come from the shell's variables."""
        lines = [f"curl -X {self.method} {shlex.quote(self.url)}",
                 TOKEN_HEADERS if bearer else KEY_HEADERS]
        if self.body is not None:
            text = json.dumps(self.body, separators=(",", ":"), ensure_ascii=False)
            lines.append(f"-H 'Content-Type: application/json' --data {shlex.quote(text)}")
        return " \\\n  ".join(lines)


@dataclass
class Translation:
    requests: list[PlannedRequest]
    reply: Reply
    # Set when a made-up record stood for the one the call names (offline, no real ids).
    stand_in: str | None = None

    @property
    def gone(self) -> bool:
        return self.reply.status == 410

    @property
    def failed(self) -> bool:
        return self.gone or self.reply.body.get("result") != "success"


class PlaceholderUpstream:
    """Plausible v4 answers for every route the table calls, from nothing but the v1 call.

    `hints` are the v1 parameters: they name the zones and the record type to answer with.
    Records and zones read from a real upstream are fed in through `learn`, so a write to
    them is answered with the real object changed, as v4 would.
    """

    def __init__(self, hints: Mapping[str, str], prefix: str) -> None:
        self.prefix = prefix.rstrip("/")
        names = [hints.get("z", "")] + hints.get("zones", "").split(",")
        self.zone_names = [n.strip().lower().rstrip(".") for n in names if "." in n] or [
            "example.com"
        ]
        rtype = hints.get("type", "").strip().upper()
        self.record_type = rtype if rtype in _RECORD_TYPES else "A"
        given = hints.get("id", "").strip().lower()
        self.record_id = given if is_v4_id(given) else PLACEHOLDER_ID
        self.names_record = bool(given)
        self.known: dict[str, dict[str, Any]] = {}
        self.stand_in: str | None = None  # what the made-up record was, once one is used

    def learn(self, result: Any) -> None:
        for item in result if isinstance(result, list) else [result]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                self.known[item["id"]] = item

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(self.prefix + "/"):
            path = path[len(self.prefix):]
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        body = json.loads(request.content) if request.content else None
        found = self._route(request.method, path, query, body)
        if found is None:
            return _failure(404, 7003, "No route for that URI")
        return _success(found)

    def _route(
        self, method: str, path: str, query: Mapping[str, str], body: Any
    ) -> Any | None:
        parts = path.strip("/").split("/")
        if parts == ["zones"] and method == "GET":
            wanted = query.get("name")
            return [self._zone(wanted)] if wanted else [self._zone(n) for n in self.zone_names]
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            return self._records(method, parts[3:], query, body)
        if len(parts) == 4 and parts[0] == "zones" and parts[2] == "settings":
            return self._setting(method, parts[3], body)
        if len(parts) == 3 and parts[0] == "zones" and parts[2] == "purge_cache":
            return {"id": PLACEHOLDER_ID}
        if "access_rules" in parts:
            return self._rules(method, parts, body)
        return None

    def _zone(self, name: str | None) -> dict[str, Any]:
        name = (name or self.zone_names[0]).lower()
        account = {"id": PLACEHOLDER_ID, "name": "Placeholder account"}
        return {
            "id": PLACEHOLDER_ID, "name": name, "status": "active", "paused": False,
            "type": "full", "development_mode": 0,
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "original_name_servers": None, "original_registrar": None,
            "original_dnshost": None, "account": account, "owner": {"id": PLACEHOLDER_ID},
            "plan": {"id": PLACEHOLDER_ID, "name": "Free Website", "legacy_id": "free"},
            "created_on": _STAMP, "modified_on": _STAMP, "activated_on": _STAMP,
        }

    def _records(
        self, method: str, rest: list[str], query: Mapping[str, str], body: Any
    ) -> Any | None:
        if not rest:
            if method == "GET":
                # A filtered listing looks for conflicts or a landed create: none here.
                filtered = set(query) - {"page", "per_page"}
                return [] if filtered else [self._record(self.record_id)]
            if method == "POST" and isinstance(body, dict):
                return self._record_from(PLACEHOLDER_ID, {}, body)
            return None
        record_id = rest[0]
        if method == "GET":
            return self._record(record_id)
        if method == "PATCH" and isinstance(body, dict):
            return self._record_from(record_id, self._record(record_id), body)
        if method == "DELETE":
            return {"id": record_id}
        return None

    def _record(self, record_id: str) -> dict[str, Any]:
        if record_id in self.known:
            return dict(self.known[record_id])
        zone = self.zone_names[0]
        rtype = self.record_type
        if self.names_record:
            self.stand_in = f"a made-up {rtype} record stands for the record the call names"
        record: dict[str, Any] = {
            "type": rtype, "name": f"www.{zone}", "ttl": 1, "proxied": False,
            "content": {"A": "192.0.2.1", "AAAA": "2001:db8::1", "CNAME": f"origin.{zone}",
                        "MX": f"mail.{zone}", "TXT": "placeholder", "NS": f"ns1.{zone}"}
            .get(rtype, ""),
        }
        if rtype == "MX":
            record.update(name=zone, priority=10)
        if rtype == "SRV":
            record.update(name=f"_sip._tcp.{zone}", data={
                "priority": 10, "weight": 5, "port": 5060, "target": f"sip.{zone}"})
        return self._record_from(record_id, record, {})

    def _record_from(
        self, record_id: str, old: Mapping[str, Any], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = {**old, **body, "id": record_id}
        record.setdefault("ttl", 1)
        record.setdefault("proxied", False)
        record["proxiable"] = record.get("type") in ("A", "AAAA", "CNAME")
        data = record.get("data")
        if record.get("type") == "SRV" and isinstance(data, dict):
            record["content"] = f"{data.get('weight')} {data.get('port')} {data.get('target')}"
        record.update(settings={}, meta={}, comment=None, tags=[], created_on=_STAMP,
                      modified_on=_STAMP)
        return record

    def _setting(self, method: str, setting_id: str, body: Any) -> Any | None:
        from proxy.sandbox.settings import SETTINGS  # the sandbox's table of v4 defaults

        if setting_id not in SETTINGS:
            return None
        value = body.get("value") if method == "PATCH" and isinstance(body, dict) else (
            SETTINGS[setting_id][0])
        setting: dict[str, Any] = {"id": setting_id, "value": value, "editable": True,
                                   "modified_on": _STAMP if method == "PATCH" else None}
        if setting_id == "development_mode":
            setting["time_remaining"] = 10800 if value == "on" else 0
        return setting

    def _rules(self, method: str, parts: list[str], body: Any) -> Any | None:
        if method == "GET":
            return []  # no rule for the address yet
        rule_id = parts[-1] if parts[-1] != "rules" else PLACEHOLDER_ID
        if method == "DELETE":
            return {"id": rule_id}
        if isinstance(body, dict):
            scope = "user" if parts[0] == "user" else "account"
            return {
                "id": rule_id, "notes": "", "configuration": {}, **body,
                "allowed_modes": ["block", "challenge", "whitelist", "js_challenge",
                                  "managed_challenge"],
                "scope": {"id": PLACEHOLDER_ID, "type": scope},
                "created_on": _STAMP, "modified_on": _STAMP,
            }
        return None


def _success(result: Any) -> httpx.Response:
    payload: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if isinstance(result, list):
        payload["result_info"] = {"page": 1, "per_page": max(len(result), 1),
                                  "count": len(result), "total_count": len(result),
                                  "total_pages": 1}
    return httpx.Response(200, json=payload)


def _failure(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"success": False, "messages": [], "result": None,
                                        "errors": [{"code": code, "message": message}]})


@dataclass
class _Recorder(httpx.AsyncBaseTransport):
    """Every v4 request is kept; reads go to `reads` if there is one, the rest to the fake."""

    fake: PlaceholderUpstream
    reads: httpx.AsyncBaseTransport | None = None
    read_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    requests: list[PlannedRequest] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append(PlannedRequest(request.method, str(request.url), body))
        if self.reads is None or request.method != "GET":
            return self.fake.answer(request)

        for name in _AUTH_HEADERS:
            request.headers.pop(name, None)
        request.headers.update(self.read_headers)
        response = await self.reads.handle_async_request(request)
        raw = await response.aread()
        try:
            result = json.loads(raw).get("result") if raw else None
        except (ValueError, AttributeError):
            result = None
        self.fake.learn(result)
        return httpx.Response(response.status_code, headers=response.headers, content=raw)

    async def aclose(self) -> None:
        if self.reads is not None:
            await self.reads.aclose()


def parse_call(text: str, settings: Settings) -> v1request.V1Request:
    """The v1 call from a query string; a whole URL (…/api_json.html?a=…) is taken too."""
    text = text.strip()
    if re.match(r"https?://", text):
        text = urlsplit(text).query
    limits = v1request.Limits(settings.max_body_bytes, settings.max_fields)
    return v1request.parse(text.lstrip("?").encode(), None, b"", limits)


async def translate(
    call: str,
    settings: Settings,
    table: MappingTable,
    *,
    read_headers: Mapping[str, str] | None = None,
    reads: httpx.AsyncBaseTransport | None = None,
) -> Translation:
    """Run `call` through the engine; nothing but reads (with `read_headers`) leaves."""
    settings = replace(settings, v4_token=None, v1_credentials=None, retries=0)
    try:
        request = parse_call(call, settings)
    except errors.V1Error as err:
        return Translation([], Reply(200, envelope.error(err, None)))

    # The engine needs a pair; the real one, if any, is added to reads by the recorder.
    params = {**request.params, "email": PLACEHOLDER_EMAIL, "tkn": PLACEHOLDER_KEY}
    if read_headers is None:
        number = parse_v1_number(params.get("id", "").strip())
        if number is not None:
            params["id"] = str(v1_number(PLACEHOLDER_ID))
    prefix = urlsplit(settings.upstream).path
    fake = PlaceholderUpstream(request.params, prefix)
    if read_headers is not None and reads is None:
        reads = httpx.AsyncHTTPTransport()
    recorder = _Recorder(fake, reads if read_headers is not None else None,
                         dict(read_headers or {}))

    client = V4Client(settings.upstream, transport=recorder,
                      connect_timeout=settings.connect_timeout,
                      read_timeout=settings.read_timeout)
    engine = Engine(table, client, MemoryStore(), settings, gate=PassThrough())
    try:
        reply = await engine.answer(v1request.V1Request(request.received, params))
    finally:
        await client.aclose()
    return Translation(recorder.requests, reply, fake.stand_in)


def report(translation: Translation, *, bearer: bool, answer: bool, reading: bool) -> str:
    """The printed form: a comment line, one curl command per request, the outcome."""
    reply = translation.reply
    action = reply.known_action or "the call"
    lines: list[str] = []
    if translation.gone:
        lines.append(f"# {action}: no Cloudflare API v4 equivalent (HTTP 410): "
                     f"{reply.body.get('msg')}")
    else:
        count = len(translation.requests)
        how = "reads were sent for real ids, writes were not" if reading else (
            f"nothing was sent; placeholder ids ({PLACEHOLDER_ID})")
        lines.append(f"# {action} becomes {count} v4 request{'s' * (count != 1)}; {how}")
        if translation.stand_in and not reading:
            lines.append(f"# {translation.stand_in} (its real fields are read only with "
                         "credentials)")
        lines += [request.curl(bearer=bearer) for request in translation.requests]
        if reply.body.get("result") != "success":
            code = reply.body.get("err_code")
            lines.append(f"# v1 error: {reply.body.get('msg')}" + (f" ({code})" if code else ""))
    if answer:
        text = envelope.encode(reply.body).decode()
        lines.append(f"# v1 answer (HTTP {reply.status}): {text}")
    return "\n".join(lines) + "\n"


def run(
    call: str,
    settings: Settings,
    table: MappingTable,
    out: TextIO,
    *,
    email: str | None = None,
    key: str | None = None,
    token: str | None = None,
    bearer: bool = False,
    answer: bool = False,
) -> int:
    """The `translate` command: 0 when the call becomes v4 requests and succeeds, 1 when it
    is retired, unknown or answered with a v1 error."""
    read_headers: dict[str, str] | None = None
    if token:
        read_headers = {"Authorization": f"Bearer {token}"}
    elif email and key:
        read_headers = {"X-Auth-Email": email, "X-Auth-Key": key}
    bearer = bearer or bool(token) or settings.v4_token is not None
    translation = asyncio.run(translate(call, settings, table, read_headers=read_headers))
    out.write(report(translation, bearer=bearer, answer=answer,
                     reading=read_headers is not None))
    return 1 if translation.failed else 0

"""The ASGI application: the v1 endpoint, legacy paths, health and readiness, the access log.

Stage by stage: read the body within its limit → `v1request.parse` → `Engine.answer` →
`envelope.encode` (+ JSONP) → one access-log line, the metrics and the migration report. Every
reply carries Content-Length and is sent whole: HTTP/1.0 clients read to EOF and would choke on
chunked encoding.

Operations pages: `/metrics` (Prometheus), `/_proxy/migration` (JSON) and
`/_proxy/migration.html`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from proxy import envelope, errors, logs, mapping, migration, v1request
from proxy.credentials import credential_from
from proxy.engine import Engine, Reply
from proxy.metrics import CONTENT_TYPE_LATEST, Metrics
from proxy.settings import Settings
from proxy.store import MemoryStore, Store
from proxy.v4client import V4Client

log = logging.getLogger("proxy.app")

V1_METHODS = ("GET", "POST")

# /readyz asks v4 at most this often: it needs no credentials, and each probe is a request to
# Cloudflare from the proxy's address.
PROBE_SECONDS = 2.0


def create_app(
    settings: Settings,
    *,
    table: mapping.MappingTable | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The proxy as an ASGI app; `transport` and `extra_routes` let the CLI plug the sandbox in."""
    table = table or mapping.load([settings.mappings] if settings.mappings else [])
    client = V4Client(
        settings.upstream,
        transport=transport,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    engine = Engine(table, client, store or MemoryStore(), settings)
    metrics = Metrics()
    engine.metrics = metrics
    report = migration.MigrationReport(table, settings.migration_db)
    limits = v1request.Limits(settings.max_body_bytes, settings.max_fields)

    def finish(request: Request, reply: Reply, started: float,
               params: dict[str, str] | None = None) -> None:
        """What every v1 call leaves behind: metrics, the migration report, the access line."""
        seconds = time.perf_counter() - started
        agent = logs.client_agent(request.headers.get("user-agent"))
        metrics.v1_call(reply, seconds)
        if reply.action:
            credential = reply.credential or _fingerprint(params)
            report.seen(reply.known_action or migration.UNKNOWN, agent, credential, time.time())
        logs.access(reply, agent, seconds)

    async def v1_endpoint(request: Request) -> Response:
        started = time.perf_counter()
        if request.method not in V1_METHODS:
            return _not_allowed()

        try:
            body = await _read_body(request, limits.max_body_bytes, settings.header_timeout)
            v1 = v1request.parse(
                request.scope.get("query_string", b""),
                request.headers.get("content-type"),
                body,
                limits,
            )
        except errors.V1Error as err:
            reply = Reply(200, envelope.error(err, None))
            finish(request, reply, started)
            response = _render(reply, None)
            if isinstance(err, v1request.BodyNotRead):
                response.headers["Connection"] = "close"
            return response
        except ClientDisconnect:
            # Gone before its body was complete (or closed by the server's limits): there is
            # no one to answer, and nothing ran.
            return Response(status_code=400)

        callback = v1.params.get("callback")
        if callback is not None and not envelope.JSONP_NAME.fullmatch(callback):
            # Checked before the action runs: a refused call must have no effect.
            refusal = errors.invalid_input("Invalid value for callback.")
            entry = table.find(v1.action) if v1.action else None
            reply = Reply(200, envelope.error(refusal, v1.action), action=v1.action,
                          known_action=entry.name if entry else None)
            finish(request, reply, started, v1.params)
            return _render(reply, None)

        reply = await engine.answer(v1)
        finish(request, reply, started, v1.params)
        return _render(reply, callback)

    async def legacy_gone(request: Request) -> Response:
        reason = (
            "The legacy endpoint /api.html is not served by cf-v1-proxy: send the same call to "
            "/api_json.html."
            if request.url.path == "/api.html"
            else "The v1 Host API is not served by cf-v1-proxy and has no v4 equivalent."
        )
        body = envelope.error(errors.Gone(reason), request.query_params.get("a"))
        return Response(envelope.encode(body), 410, media_type=envelope.JSON_TYPE)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    probe = _UpstreamProbe(client)

    async def readyz(_: Request) -> Response:
        if not table.mapped:
            reason = "no v1 action is mapped"
        elif not await probe.reachable():
            reason = "Cloudflare API v4 is not reachable"
        else:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": reason}, 503)

    async def metrics_page(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def migration_json(_: Request) -> Response:
        return JSONResponse(migration.as_json(await report.rows()))

    async def migration_html(_: Request) -> Response:
        return HTMLResponse(migration.as_html(await report.rows()))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await report.start()
        try:
            yield
        finally:
            await report.stop()
            await client.aclose()

    async def not_found(request: Request, exc: Exception) -> Response:
        body = envelope.error(errors.V1Error(f"No such path: {request.url.path[:100]}."), None)
        return Response(envelope.encode(body), 404, media_type=envelope.JSON_TYPE)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _not_allowed()

    routes: list[BaseRoute] = [
        Route("/api_json.html", v1_endpoint, methods=["GET", "POST"]),
        Route("/api.html", legacy_gone, methods=["GET", "POST"]),
        Route("/host-gw.html", legacy_gone, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page),
        Route("/_proxy/migration", migration_json),
        Route("/_proxy/migration.html", migration_html),
        *extra_routes,
    ]
    # Every answer is v1 JSON, also for paths and methods no v1 client uses.
    app = Starlette(
        routes=routes, lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
    )
    app.router.redirect_slashes = False
    app.state.engine = engine
    app.state.table = table
    app.state.metrics = metrics
    app.state.migration = report
    return app


class _UpstreamProbe:
    """`V4Client.reachable`, asked at most once per PROBE_SECONDS however often it is wanted."""

    def __init__(self, client: V4Client) -> None:
        self.client = client
        self._lock = asyncio.Lock()
        self._asked = float("-inf")
        self._answer = False

    async def reachable(self) -> bool:
        async with self._lock:
            if time.monotonic() - self._asked >= PROBE_SECONDS:
                self._answer = await self.client.reachable()
                self._asked = time.monotonic()
            return self._answer


def _not_allowed() -> Response:
    body = envelope.error(errors.V1Error("Use GET or POST."), None)
    return Response(envelope.encode(body), 405, media_type=envelope.JSON_TYPE,
                    headers={"Allow": "GET, POST"})


async def _read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The whole body, refused as soon as it passes the limit or takes too long to arrive.

    A client that announces more than it sends would otherwise hold a connection forever.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise v1request.BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise v1request.BodyTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise v1request.BodyLate() from None
    return b"".join(chunks)


def _render(reply: Reply, callback: str | None) -> Response:
    payload = envelope.encode(reply.body)
    if callback is not None:
        return Response(
            envelope.wrap_jsonp(payload, callback), reply.status, media_type=envelope.JSONP_TYPE
        )
    return Response(payload, reply.status, media_type=envelope.JSON_TYPE)


def _fingerprint(params: dict[str, str] | None) -> str | None:
    """The fingerprint of a call the engine answered before checking its credential (a
    retired or unknown action), so the migration report can tell whose client sends it."""
    if not params:
        return None
    credential = credential_from(params.get("email"), params.get("tkn"))
    return credential.fingerprint if credential else None

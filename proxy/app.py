"""The ASGI application: the v1 endpoint, legacy paths, health and readiness, the access log.

Stage by stage: read the body within its limit → `v1request.parse` → `Engine.answer` →
`envelope.encode` (+ JSONP) → one access-log line. Every reply carries Content-Length and is
sent whole: HTTP/1.0 clients read to EOF and would choke on chunked encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from proxy import envelope, errors, mapping, v1request
from proxy.engine import Engine, Reply
from proxy.settings import Settings
from proxy.store import MemoryStore, Store
from proxy.v4client import V4Client

access_log = logging.getLogger("proxy.access")
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
    limits = v1request.Limits(settings.max_body_bytes, settings.max_fields)

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
            _log_access(request, reply, started)
            return _render(reply, None)
        except ClientDisconnect:
            # Gone before its body was complete (or closed by the server's limits): there is
            # no one to answer, and nothing ran.
            return Response(status_code=400)

        callback = v1.params.get("callback")
        if callback is not None and not envelope.JSONP_NAME.fullmatch(callback):
            # Checked before the action runs: a refused call must have no effect.
            refusal = errors.invalid_input("Invalid value for callback.")
            reply = Reply(200, envelope.error(refusal, v1.action), action=v1.action)
            _log_access(request, reply, started)
            return _render(reply, None)

        reply = await engine.answer(v1)
        _log_access(request, reply, started)
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

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
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
        raise errors.invalid_input("The request body did not arrive in time.") from None
    return b"".join(chunks)


def _render(reply: Reply, callback: str | None) -> Response:
    payload = envelope.encode(reply.body)
    if callback is not None:
        return Response(
            envelope.wrap_jsonp(payload, callback), reply.status, media_type=envelope.JSONP_TYPE
        )
    return Response(payload, reply.status, media_type=envelope.JSON_TYPE)


def _log_access(request: Request, reply: Reply, started: float) -> None:
    """One line per v1 call; never a key, an e-mail, a query string or a body."""
    agent = _clean(request.headers.get("user-agent", "-"))
    fields: dict[str, Any] = {
        "action": reply.known_action or ("unknown" if reply.action else "-"),
        "zone": _clean(reply.zone or "-"),
        "cred": reply.credential or "-",
        "v4_calls": len(reply.v4_calls),
        "result": reply.outcome,
        "status": reply.status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    access_log.info("%s ua=%s", text, agent)


def _clean(text: str) -> str:
    """Client text made safe for one log line: short, printable ASCII, no spaces."""
    text = text[:120].encode("ascii", "replace").decode("ascii")
    return "".join(ch if ch.isprintable() and not ch.isspace() else "_" for ch in text)

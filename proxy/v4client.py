"""The one way out to Cloudflare API v4: timeouts, paging, error mapping, call counting.

Every v4 request the proxy makes goes through `V4Session.request`, which is also where each
call is counted (the access log and the migration report show what a v1 call became) and
where a failed call turns into `V4Error` or `UpstreamError` (see `proxy.errors`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from proxy import errors
from proxy.credentials import UpstreamIdentity
from proxy.errors import UpstreamError, V4Error
from proxy.transport import AiohttpTransport

log = logging.getLogger("proxy.upstream")

# Paths are built only from table literals and ids that came out of v4 lookups; this check is
# the last guard that nothing a client typed can reach another v4 route.
_SAFE_PATH = re.compile(r"(/[A-Za-z0-9_.-]+)+")

USER_AGENT = "cf-v1-proxy/0.1"
# Sent with every request (HTTP/1.1 keeps connections alive without saying so).
DEFAULT_HEADERS = (
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("User-Agent", USER_AGENT),
)
# Parsed URLs kept per client: the same zone, setting and record paths recur.
URL_CACHE_SIZE = 4096
LISTINGS_AT_ONCE = 2

# A 429 without retry-after: wait a minute (v4 itself may block for up to five).
DEFAULT_RATE_LIMIT_WAIT = 60.0


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: about 0.1 s, 0.2 s, 0.4 s …"""
    return float(random.uniform(0.5, 1.0) * 0.1 * 2 ** (attempt - 1))


@dataclass
class V4Answer:
    result: Any
    result_info: dict[str, Any] | None = None


@dataclass
class V4Call:
    """One v4 request as the access log and the migration report see it."""

    method: str
    path: str
    status: int | None
    ms: float


class V4Client:
    """A pooled HTTP client for one upstream; `session()` binds it to one upstream identity.

    Requests are `httpx.Request`s handed straight to the transport (aiohttp's pool by default,
    the sandbox's ASGI app or a test's mock otherwise). httpx's `AsyncClient` would add URL
    merging, cookies, auth and redirect handling that v4 calls never use, at several times
    the CPU of the rest of the call; URLs are parsed once per distinct URL for the same reason.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._transport = transport or AiohttpTransport(max_connections=max_connections)
        self._urls: dict[str, httpx.URL] = {}
        # Whole-zone listings read and answered at once: each holds tens of MB (10k records)
        # until its answer is written, and more at once would only share the same core.
        self.listings = asyncio.Semaphore(LISTINGS_AT_ONCE)

    def url(self, path: str, query: dict[str, str | int] | None = None) -> httpx.URL:
        text = self.base_url + path
        if query:
            text += "?" + urlencode(query)
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            url = self._urls[text] = httpx.URL(text)
        return url

    async def send(
        self,
        method: str,
        url: httpx.URL,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """One HTTP exchange: the response and its whole body. Raises `httpx.HTTPError`."""
        read = self.read_timeout if timeout is None else timeout
        connect = self.connect_timeout if connect_timeout is None else connect_timeout
        fields = [*DEFAULT_HEADERS, *(headers or {}).items()]
        content = None
        if body is not None:
            # As httpx's `json=` writes it.
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                                 allow_nan=False).encode()
            fields.append(("Content-Type", "application/json"))
        request = httpx.Request(
            method, url, headers=fields, content=content,
            extensions={"timeout": {"connect": connect, "read": read, "write": read,
                                    "pool": read}},
        )
        response = await self._transport.handle_async_request(request)
        try:
            return response, await response.aread()
        finally:
            await response.aclose()

    async def reachable(self, timeout: float = 3.0) -> bool:
        """Whether v4 answers at all (any HTTP status will do), for /readyz."""
        try:
            await self.send("GET", self.url("/zones"), timeout=timeout, connect_timeout=timeout)
        except httpx.HTTPError:
            return False
        return True

    def session(
        self, upstream: UpstreamIdentity, *, deadline: float = 25.0, retries: int = 2
    ) -> V4Session:
        """A session for one v1 call: `deadline` seconds for all its v4 calls, retries included."""
        return V4Session(
            self,
            upstream,
            deadline=time.monotonic() + deadline,
            retries=retries,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()


@dataclass
class V4Session:
    client: V4Client
    upstream: UpstreamIdentity
    deadline: float
    retries: int = 2
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    calls: list[V4Call] = field(default_factory=list)
    # Set when v4 answered 429: seconds the credential must now wait (v4-api.md §5).
    rate_limited_for: float | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | int] | None = None,
        body: Any | None = None,
        idempotent: bool | None = None,
    ) -> V4Answer:
        """One v4 call, repeated only where repeating cannot do a write twice or out of order.

        A call that never left (no connection) is always repeated, and a read whatever went
        wrong. A write that v4 answered badly (5xx, garbage) or whose connection broke is
        repeated only if `idempotent`, which by default is every method but POST. A write
        that went out is waited for until the call's deadline, not the read timeout, and
        never repeated after a timeout: the first attempt may still land later, after a
        write the client made since, and undo it. A 429 is never repeated.
        """
        if not _SAFE_PATH.fullmatch(path):
            raise ValueError(f"refusing to call an unsafe v4 path: {path!r}")
        repeatable = method != "POST" if idempotent is None else idempotent

        attempt = 0
        while True:
            try:
                return await self._attempt(method, path, query, body)
            except (UpstreamError, V4Error) as exc:
                if method == "DELETE" and attempt and _not_found(exc):
                    # A repeated DELETE that finds nothing: the first one did its work.
                    return V4Answer({"id": path.rsplit("/", 1)[-1]})
                attempt += 1
                retry = exc.retryable and (
                    not exc.sent or method == "GET" or (repeatable and not errors.pending(exc))
                )
                pause = _backoff(attempt)
                if not retry or attempt > self.retries or self._remaining() <= pause:
                    raise
                log.info("v4 %s %s failed (%s); attempt %d of %d in %.2f s", method, path,
                         exc, attempt + 1, self.retries + 1, pause)
                await asyncio.sleep(pause)

    def _remaining(self) -> float:
        return self.deadline - time.monotonic()

    async def _attempt(
        self, method: str, path: str, query: dict[str, str | int] | None, body: Any | None
    ) -> V4Answer:
        remaining = self._remaining()
        if remaining <= 0:
            raise UpstreamError("Cloudflare API v4 did not answer in time.", sent=False,
                                retryable=False)

        # A read may be asked again; a write, once out, can only be waited for (see `request`).
        read = min(self.read_timeout, remaining) if method == "GET" else remaining

        started = time.perf_counter()
        status: int | None = None
        try:
            response, content = await self.client.send(
                method,
                self.client.url(path, query),
                headers=self.upstream.headers,
                body=body,
                timeout=read,
                connect_timeout=min(self.connect_timeout, remaining),
            )
            status = response.status_code
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning("v4 %s %s: no connection (%s)", method, path, type(exc).__name__)
            raise UpstreamError("Cloudflare API v4 could not be reached.", sent=False) from exc
        except httpx.TimeoutException as exc:
            log.warning("v4 %s %s timed out (%s)", method, path, type(exc).__name__)
            raise UpstreamError("Cloudflare API v4 did not answer in time.",
                                pending=method != "GET") from exc
        except httpx.HTTPError as exc:
            log.warning("v4 %s %s: connection broken (%s)", method, path, type(exc).__name__)
            raise UpstreamError("Cloudflare API v4 broke off its answer.") from exc
        finally:
            self.calls.append(
                V4Call(method, path, status, (time.perf_counter() - started) * 1000)
            )

        log.debug("v4 %s %s -> %s", method, path, status)
        try:
            return _read_envelope(method, path, response, content)
        except V4Error as exc:
            if exc.status == 429:
                self.rate_limited_for = exc.retry_after or DEFAULT_RATE_LIMIT_WAIT
            raise

    async def get(self, path: str, query: dict[str, str | int] | None = None) -> V4Answer:
        return await self.request("GET", path, query=query)

    async def get_all(
        self,
        path: str,
        query: dict[str, str | int] | None = None,
        *,
        per_page: int,
        concurrency: int = 4,
    ) -> list[Any]:
        """Every item of a paged list: page 1 tells how many pages, the rest come concurrently.

        Reading one page only is a known cause of "missing" records (bug B24), so this always
        follows `result_info.total_pages`.
        """
        base = dict(query or {})
        first = await self.get(path, {**base, "page": 1, "per_page": per_page})
        items = list(first.result or [])
        pages = _total_pages(first.result_info, per_page, len(items))
        if pages <= 1:
            return items

        gate = asyncio.Semaphore(concurrency)

        async def page(number: int) -> list[Any]:
            async with gate:
                answer = await self.get(path, {**base, "page": number, "per_page": per_page})
                return list(answer.result or [])

        for chunk in await asyncio.gather(*(page(n) for n in range(2, pages + 1))):
            items.extend(chunk)
        return items


def _not_found(exc: Exception) -> bool:
    return isinstance(exc, V4Error) and (exc.status == 404 or 81044 in exc.codes)


def _total_pages(info: dict[str, Any] | None, per_page: int, count: int) -> int:
    if not info:
        return 1
    pages = info.get("total_pages")
    if isinstance(pages, int):
        return pages
    total = info.get("total_count")
    if isinstance(total, int):
        return max(1, math.ceil(total / per_page))
    return 1


def _read_envelope(method: str, path: str, response: httpx.Response, content: bytes) -> V4Answer:
    """Decide on the status first, then on the envelope (v4-api.md §2)."""
    status = response.status_code
    try:
        payload = response.json() if content else None
    except ValueError:
        payload = None

    if not isinstance(payload, dict) or not isinstance(payload.get("success"), bool):
        log.warning("v4 %s %s answered HTTP %s without a v4 envelope", method, path, status)
        if status == 429:
            raise V4Error(429, [971], ["Rate limited."], _retry_after(response))
        raise UpstreamError(
            f"Cloudflare API v4 answered HTTP {status} without a valid v4 JSON body."
        )

    if status >= 400 or not payload["success"]:
        codes, messages = _error_items(payload.get("errors"))
        if status >= 500 or status == 429:
            log.warning("v4 %s %s answered HTTP %s %s", method, path, status, codes)
        raise V4Error(status, codes, messages, _retry_after(response))

    info = payload.get("result_info")
    return V4Answer(payload.get("result"), info if isinstance(info, dict) else None)


def _error_items(errors: Any) -> tuple[list[int], list[str]]:
    codes: list[int] = []
    messages: list[str] = []
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                code = item.get("code")
                codes.append(code if isinstance(code, int) else 0)
                messages.append(str(item.get("message") or ""))
    return codes, messages


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None

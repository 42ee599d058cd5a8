"""The one way out to Cloudflare API v4: timeouts, paging, error mapping, call counting.

Every v4 request the proxy makes goes through `V4Session.request`, which is also where each
call is counted (the access log and the migration report show what a v1 call became) and
where a failed call turns into `V4Error` or `UpstreamError` (see `proxy.errors`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from proxy.credentials import Credential
from proxy.errors import UpstreamError, V4Error

log = logging.getLogger("proxy.upstream")

# Paths are built only from table literals and ids that came out of v4 lookups; this check is
# the last guard that nothing a client typed can reach another v4 route.
_SAFE_PATH = re.compile(r"(/[A-Za-z0-9_.-]+)+")

USER_AGENT = "cf-v1-proxy/0.1"


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
    """A pooled HTTP client for one upstream; `session()` binds it to one credential."""

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
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": USER_AGENT},
        )

    async def reachable(self, timeout: float = 3.0) -> bool:
        """Whether v4 answers at all (any HTTP status will do), for /readyz."""
        try:
            await self._http.get("/zones", timeout=timeout)
        except httpx.HTTPError:
            return False
        return True

    def session(self, credential: Credential) -> V4Session:
        return V4Session(self._http, credential)

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass
class V4Session:
    http: httpx.AsyncClient
    credential: Credential
    calls: list[V4Call] = field(default_factory=list)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str | int] | None = None,
        body: Any | None = None,
    ) -> V4Answer:
        if not _SAFE_PATH.fullmatch(path):
            raise ValueError(f"refusing to call an unsafe v4 path: {path!r}")

        started = time.perf_counter()
        status: int | None = None
        try:
            response = await self.http.request(
                method,
                path,
                params=query,
                json=body,
                headers=self.credential.v4_headers(),
            )
            status = response.status_code
            content = response.content
        except httpx.TimeoutException as exc:
            log.warning("v4 %s %s timed out (%s)", method, path, type(exc).__name__)
            raise UpstreamError("Cloudflare API v4 did not answer in time.") from exc
        except httpx.HTTPError as exc:
            log.warning("v4 %s %s failed: %s", method, path, type(exc).__name__)
            raise UpstreamError("Cloudflare API v4 could not be reached.") from exc
        finally:
            self.calls.append(
                V4Call(method, path, status, (time.perf_counter() - started) * 1000)
            )

        log.debug("v4 %s %s -> %s", method, path, status)
        return _read_envelope(method, path, response, content)

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

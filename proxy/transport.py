"""The HTTP transport under the v4 client: httpx's API, aiohttp's connection pool.

httpx's own transport (httpcore) spends 1–3 ms of CPU per request once a few dozen requests
share its pool (https://github.com/encode/httpx/issues/3215); the same request through aiohttp
costs a tenth of that. `V4Client` keeps httpx's API (requests, responses, timeouts, errors) and
hands the bytes to `AiohttpTransport`.

What the rest of the proxy relies on is the error each failure becomes, above all which ones
mean "never sent" (`proxy.v4client` repeats only those for a create):

- `httpx.ConnectError`: no connection could be made (aiohttp's `ClientConnectorError`);
- `httpx.ConnectTimeout`: none was made, or none freed in the pool, in time
  (`ConnectionTimeoutError`);
- `httpx.ReadTimeout`: sent, no answer in time (`SocketTimeoutError`);
- `httpx.ReadError`: the connection broke after the request went out (`ClientOSError`);
- `httpx.RemoteProtocolError`: the server closed or garbled its answer, or anything else
  aiohttp raises. A failure not known to be "never sent" is taken as possibly sent.

aiohttp silently sends a GET, PUT or DELETE a second time when a kept-alive connection breaks
under it; that is switched off, so that every attempt is the proxy's own and counted (a DELETE
repeated out of sight would come back "not found" although the first one worked).
"""

from __future__ import annotations

import ssl

import aiohttp
import httpx
from yarl import URL


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one `aiohttp.ClientSession`, opened in the running loop."""

    def __init__(self, *, max_connections: int = 100, keepalive_expiry: float = 15.0) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = None
        self._urls: dict[str, URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # certifi's roots, as httpx would use
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            keepalive_timeout=self.keepalive_expiry,
            ssl=self._ssl,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,  # httpx decodes content-encoding itself
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),  # httpx sends them
        )
        session._retry_connection = False  # see the module docstring
        self._session = session
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        limits = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a free pooled connection too.
            connect=_sum(timeout.get("pool"), timeout.get("connect")),
            sock_connect=timeout.get("connect"),
            sock_read=timeout.get("read"),
        )
        try:
            async with session.request(
                request.method,
                self._url(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                timeout=limits,
            ) as answer:
                content = await answer.read()
                status, headers, reason = answer.status, answer.raw_headers, answer.reason
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except aiohttp.ClientOSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc

        extensions = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode("ascii", "replace")
        # A stream, not `content=`: the body is decoded (content-encoding) once, when read.
        return httpx.Response(status, headers=list(headers), stream=httpx.ByteStream(content),
                              request=request, extensions=extensions)

    def _url(self, url: httpx.URL) -> URL:
        """yarl's form of the URL; kept, as `V4Client` sends the same few URLs again."""
        text = str(url)
        found = self._urls.get(text)
        if found is None:
            if len(self._urls) >= 4096:
                self._urls.clear()
            found = self._urls[text] = URL(text, encoded=True)
        return found

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _sum(*parts: float | None) -> float | None:
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None)

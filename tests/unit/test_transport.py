"""The aiohttp transport raises httpx's errors, and "never sent" only when nothing was sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from proxy.transport import AiohttpTransport

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def run(handler: Handler, method: str, requests: int = 1,
        timeout: float = 2.0) -> tuple[list[httpx.Response | Exception], int]:
    """Send `requests` requests one after another; the answers (or errors), requests seen."""
    seen = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        try:
            while True:
                await _read_request(reader)
                seen += 1
                await handler(reader, writer, seen)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> list[httpx.Response | Exception]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = AiohttpTransport()
        found: list[httpx.Response | Exception] = []
        try:
            for _ in range(requests):
                request = httpx.Request(
                    method, f"http://127.0.0.1:{port}/zones", content=b"{}",
                    extensions={"timeout": {"connect": timeout, "read": timeout,
                                            "write": timeout, "pool": timeout}},
                )
                try:
                    response = await transport.handle_async_request(request)
                    await response.aread()
                    found.append(response)
                except httpx.HTTPError as exc:
                    found.append(exc)
        finally:
            await transport.aclose()
            server.close()
            await server.wait_closed()
        return found

    answers = asyncio.run(main())
    return answers, seen


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
    writer.write(OK)
    await writer.drain()


def test_an_answer_comes_back_as_an_httpx_response() -> None:
    (response,), seen = run(answer, "PATCH")
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.content == b"{}"
    assert response.headers["content-type"] == "application/json"


def test_no_connection_is_a_connect_error() -> None:
    async def main() -> Exception:
        transport = AiohttpTransport()
        try:
            await transport.handle_async_request(httpx.Request("POST", "http://127.0.0.1:9/"))
        except httpx.HTTPError as exc:
            return exc
        finally:
            await transport.aclose()
        raise AssertionError("no error")

    assert isinstance(asyncio.run(main()), httpx.ConnectError)


def test_a_connection_closed_after_the_request_is_not_a_connect_error() -> None:
    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        writer.close()

    (error,), seen = run(close, "POST")
    assert seen == 1
    assert isinstance(error, httpx.TransportError)
    assert not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def test_an_answer_that_never_comes_is_a_read_timeout() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await asyncio.sleep(1)

    (error,), _ = run(stall, "GET", timeout=0.2)
    assert isinstance(error, httpx.ReadTimeout)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_kept_alive_connection_that_breaks_is_not_retried_out_of_sight(method: str) -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if n == 1:
            await answer(reader, writer, n)
        else:
            writer.close()  # the second request was read, then the connection dropped

    (first, second), seen = run(once, method, requests=2)
    assert isinstance(first, httpx.Response)
    assert isinstance(second, httpx.TransportError)
    assert seen == 2  # aiohttp would otherwise have sent the second one again

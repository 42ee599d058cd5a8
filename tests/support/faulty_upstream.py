"""A fault-injecting Cloudflare API v4 on a real socket, and ways to put the proxy in front.

`FaultyUpstream` listens on 127.0.0.1 (its own asyncio loop in a background thread), reads
HTTP/1.1 with h11 and hands each request in-process to a v4 sandbox app. A fault chosen per
request by a script (`plan`) or a predicate (`chooser`) can hold the answer back, break the
connection before or after the sandbox saw the request, cut the body short, or answer a 5xx,
a 429 or a body that is not a v4 envelope:

    fault            what the proxy sees                           the write landed?
    delay(s)         an answer s seconds late (timeout if s > read) only after the delay
    slow(s)          the sandbox answers at once, the proxy in s   yes
    refuse()         next new connection closed (RST) unread       no
    reset()          RST after the request head was read           no
    reset(after=True) RST after the sandbox answered               yes
    truncate()       headers and half the body, then a close       yes
    server_error()   502 (or any 5xx) with a v4 envelope or HTML   only with forward=True
    rate_limited()   429 with code 971, retry-after optional       no
    garbage()        200 with an HTML body                         only with forward=True
    no_success()     200 JSON without `success`                    only with forward=True

`pause()` closes the listener and every open connection, so connects are refused
(`ECONNREFUSED`): the sure way to make a proxy see "no connection" on loopback.

Every request is recorded (`requests`), and checked: the path must be one of the v4 routes
the mapping table may call (`ALLOWED_ROUTES`, below `/client/v4`, no escapes), no header may
carry CR, LF or NUL and none may be an injected `X-Injected`, and
`tests.support.openapi.check_v4_request` must accept it. Problems land in `violations`,
which tests assert empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import h11
import httpx
import uvicorn

from proxy.app import create_app
from proxy.sandbox import SandboxState, create_sandbox_app
from proxy.settings import Settings
from tests.support.openapi import check_v4_request
from tests.support.processes import start_in_thread

PREFIX = "/client/v4"
_HEX = "[0-9a-f]{32}"
# Every v4 route a table entry or a shared step may call (mappings/*.toml, proxy/steps/).
ALLOWED_ROUTES = tuple(
    re.compile(pattern)
    for pattern in (
        r"/zones",
        rf"/zones/{_HEX}",
        rf"/zones/{_HEX}/dns_records",
        rf"/zones/{_HEX}/dns_records/{_HEX}",
        rf"/zones/{_HEX}/settings/[a-z0-9_]+",
        rf"/zones/{_HEX}/purge_cache",
        r"/user/firewall/access_rules/rules",
        rf"/user/firewall/access_rules/rules/{_HEX}",
        rf"/accounts/{_HEX}/firewall/access_rules/rules",
        rf"/accounts/{_HEX}/firewall/access_rules/rules/{_HEX}",
    )
)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host",
               "content-length"}
_SANDBOX_BASE = "http://sandbox.invalid"

T = TypeVar("T")


# --- faults ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """What happens to one request; build one with the functions below."""

    kind: str
    seconds: float = 0.0
    after: bool = False
    forward: bool = False
    status: int = 200
    html: bool = False
    retry_after: str | None = None

    def __str__(self) -> str:
        extras = [f"{self.seconds:g}s" if self.seconds else "", "after" if self.after else "",
                  "forwarded" if self.forward else "",
                  str(self.status) if self.kind == "server_error" else ""]
        return " ".join([self.kind, *filter(None, extras)])


def delay(seconds: float) -> Fault:
    """Wait `seconds` before handing the request to the sandbox, then answer."""
    return Fault("delay", seconds=seconds)


def slow(seconds: float) -> Fault:
    """Hand the request to the sandbox at once (the write lands), answer `seconds` later."""
    return Fault("slow", seconds=seconds, forward=True)


def refuse() -> Fault:
    """Close the next new connection with an RST before reading anything from it."""
    return Fault("refuse")


def reset(*, after: bool = False) -> Fault:
    """RST the connection; `after`: only once the sandbox has carried the request out."""
    return Fault("reset", after=after, forward=after)


def truncate() -> Fault:
    """Carry the request out, send the headers and half the body, then close."""
    return Fault("truncate", forward=True)


def server_error(status: int = 502, *, html: bool = False, forward: bool = False) -> Fault:
    """A 5xx with a v4 failure envelope (or an HTML page); `forward`: after the write."""
    return Fault("server_error", status=status, html=html, forward=forward)


def rate_limited(retry_after: str | None = "1", *, envelope: bool = True) -> Fault:
    """v4's 429 (code 971), with `retry-after` unless None; never reaches the sandbox."""
    return Fault("rate_limited", status=429, retry_after=retry_after, html=not envelope)


def garbage(*, forward: bool = False) -> Fault:
    """HTTP 200 with an HTML body instead of JSON."""
    return Fault("garbage", forward=forward)


def no_success(*, forward: bool = False) -> Fault:
    """HTTP 200 with JSON that has no boolean `success`."""
    return Fault("no_success", forward=forward)


@dataclass
class SeenRequest:
    """One request as it reached the upstream, and what was done with it."""

    method: str
    target: str  # raw, as sent: path and query, still percent-encoded
    path: str  # below /client/v4
    query: list[tuple[str, str]]
    body: Any
    headers: list[tuple[str, str]]
    fault: Fault | None = None
    # The sandbox's status, when the request was handed to it.
    status: int | None = None

    @property
    def landed(self) -> bool:
        """Whether the sandbox carried it out (a write that v4 accepted)."""
        return self.status is not None and self.status < 300

    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def __str__(self) -> str:
        return f"{self.method} {self.target}" + (f" [{self.fault}]" if self.fault else "")


Predicate = Callable[[SeenRequest], bool]


def matching(method: str, path_pattern: str) -> Predicate:
    """A predicate: this method and a path (below /client/v4) that the pattern fully matches."""
    pattern = re.compile(path_pattern.replace("{id}", _HEX))
    return lambda seen: seen.method == method and pattern.fullmatch(seen.path) is not None


# --- the server --------------------------------------------------------------------------------


class FaultyUpstream:
    """A v4 sandbox behind a real socket that misbehaves on request.

    `keep_alive=False` (the default) closes the connection after every answer, so each
    request is a new connection and `refuse()` hits the request it was planned for.
    """

    def __init__(
        self, seed: dict[str, Any], *, keep_alive: bool = False, schema_sample: float = 1.0
    ) -> None:
        self.sandbox_app = create_sandbox_app(seed)
        self.state: SandboxState = self.sandbox_app.state.sandbox
        self.keep_alive = keep_alive
        # The share of requests checked against the OpenAPI schema (about 1.5 ms each): a
        # soak samples; paths and headers are always checked.
        self.schema_sample = schema_sample
        self._random = random.Random(0)
        self.requests: list[SeenRequest] = []
        self.violations: list[str] = []
        self.refused = 0  # connections refused by refuse(), nothing read
        self.chooser: Callable[[SeenRequest], Fault | None] | None = None
        self.port = 0
        self._plans: list[tuple[Predicate | None, deque[Fault | None]]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="faulty-upstream", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._busy = 0  # requests read and not yet answered (or given up)
        # Every open connection's transport, from accept to close: at stop each is aborted,
        # including one accepted whose handler has not run yet.
        self._transports: set[asyncio.BaseTransport] = set()
        self._transport = httpx.ASGITransport(app=self.sandbox_app)
        self._startup_error: BaseException | None = None

    # -- lifecycle --

    @property
    def url(self) -> str:
        """The v4 base URL to give the proxy as `--upstream`."""
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def start(self) -> FaultyUpstream:
        self._thread.start()
        if not self._ready.wait(10) or self._startup_error is not None:
            raise RuntimeError(f"the faulty upstream did not start: {self._startup_error!r}")
        return self

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultyUpstream:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self._listen()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stop.wait()
        await self._close_all()

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return _TrackedStreamProtocol(self._transports, self._serve)

        self._server = await loop.create_server(
            protocol, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        # An aborted transport closes its socket on the loop's next turns: let them come.
        for _ in range(3):
            await asyncio.sleep(0)

    def _in_loop(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the upstream's loop, so it never races a request being handled."""
        if threading.current_thread() is self._thread:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    def pause(self) -> None:
        """Stop listening and drop every connection: connects are refused from now on."""
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=10)

    def resume(self) -> None:
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def unreachable_for(self, seconds: float) -> None:
        """Refuse connections for `seconds`, then listen again on the same port."""
        self.pause()

        def reopen() -> None:
            self._loop.create_task(self._listen())

        self._loop.call_soon_threadsafe(self._loop.call_later, seconds, reopen)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (late, slow and delayed ones included)."""
        deadline = time.monotonic() + timeout
        while self._in_loop(lambda: self._busy):
            if time.monotonic() > deadline:
                raise AssertionError("the faulty upstream did not settle")
            time.sleep(0.02)

    # -- choosing faults --

    def plan(self, *faults: Fault | None, when: Predicate | None = None) -> None:
        """The next requests that `when` accepts (all, if None) get these faults in turn.

        None passes a request through untouched. A `refuse()` in a plan without `when` acts
        on the next new connection, before anything is read; with `when`, the request head
        has been read, so it acts as `reset()`.
        """
        with self._lock:
            self._plans.append((when, deque(faults)))

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
        self.chooser = None

    def forget(self) -> None:
        """Forget the requests seen so far (violations are kept)."""
        with self._lock:
            self.requests.clear()

    def _refuse_now(self) -> bool:
        """Whether the first unconditional plan starts with a refuse(), which it then uses."""
        with self._lock:
            plan = next((f for when, f in self._plans if when is None and f), None)
            if plan is None or plan[0] is None or plan[0].kind != "refuse":
                return False
            plan.popleft()
            self.refused += 1
            return True

    def _choose(self, seen: SeenRequest) -> Fault | None:
        with self._lock:
            for when, faults in self._plans:
                if faults and (when is None or when(seen)):
                    return faults.popleft()
        return self.chooser(seen) if self.chooser is not None else None

    # -- sandbox inspection (thread-safe) --

    def records(self, zone: str = "example.com") -> list[dict[str, Any]]:
        """The zone's records as `{id, type, name, content}`."""

        def read() -> list[dict[str, Any]]:
            found = next(z for z in self.state.zones.values() if z.name == zone)
            return [
                {"id": r.id, "type": r.fields.type, "name": r.fields.name,
                 "content": r.fields.content}
                for r in found.records.values()
            ]

        return self._in_loop(read)

    def rules(self) -> list[tuple[str, str, str]]:
        """Every access rule as `(scope kind, mode, value)`."""
        return self._in_loop(lambda: [
            (scope.kind, rule.mode, rule.value)
            for scope, rules in self.state.rules.items()
            for rule in rules.values()
        ])

    def setting(self, name: str, zone: str = "example.com") -> Any:
        return self._in_loop(lambda: next(
            z for z in self.state.zones.values() if z.name == zone).settings[name])

    def zone_id(self, zone: str = "example.com") -> str:
        return self._in_loop(lambda: next(
            z.id for z in self.state.zones.values() if z.name == zone))

    def purges(self) -> int:
        return self._in_loop(lambda: len(self.state.purges))

    def seen(self, predicate: Predicate | None = None) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if predicate is None or predicate(r)]

    # -- one connection --

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if self._refuse_now():
                _reset(writer)
                return
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=1 << 20)
            while True:
                received = await self._read_request(conn, reader, writer)
                if received is None:
                    break
                self._busy += 1
                try:
                    answered = await self._answer(conn, writer, *received)
                finally:
                    self._busy -= 1
                if not answered:
                    break
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
            writer.close()
        except (ConnectionError, asyncio.CancelledError):
            writer.transport.abort()
        except Exception as exc:  # a bug here must fail the test, not vanish in the loop
            self._violation(f"the faulty upstream failed: {exc!r}")
            writer.transport.abort()
        finally:
            self._handlers.discard(task)

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[h11.Request, bytes] | None:
        head: h11.Request | None = None
        chunks: list[bytes] = []
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._violation(f"a request h11 cannot parse: {exc}")
                with contextlib.suppress(h11.LocalProtocolError):
                    writer.write(conn.send(h11.Response(status_code=400, headers=[
                        ("content-length", "0"), ("connection", "close")])) or b"")
                return None
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return head, b"".join(chunks)
            else:  # ConnectionClosed, or PAUSED after a finished cycle
                return None

    def _record(self, head: h11.Request, content: bytes) -> SeenRequest:
        target = head.target.decode("ascii", "replace")
        raw_path, _, query = target.partition("?")
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = content
            self._violation(f"{head.method.decode()} {raw_path}: body is not JSON")
        path = raw_path[len(PREFIX):] if raw_path.startswith(PREFIX + "/") else raw_path
        seen = SeenRequest(head.method.decode("ascii"), target, path,
                           parse_qsl(query, keep_blank_values=True), body, headers)
        self._check(seen, raw_path, query)
        with self._lock:
            self.requests.append(seen)
        return seen

    def _check(self, seen: SeenRequest, raw_path: str, query: str) -> None:
        where = f"{seen.method} {seen.target[:300]!r}"
        if not raw_path.startswith(PREFIX + "/"):
            self._violation(f"{where}: not below {PREFIX}")
        elif not any(route.fullmatch(seen.path) for route in ALLOWED_ROUTES):
            self._violation(f"{where}: not a route the mapping table may call")
        for name, value in seen.headers:
            if name.lower() == "x-injected" or any(ch in name + value for ch in "\r\n\x00"):
                self._violation(f"{where}: injected header {name!r}: {value[:100]!r}")
        if self.schema_sample >= 1 or self._random.random() < self.schema_sample:
            try:
                check_v4_request(seen.method, raw_path, query, seen.body)
            except AssertionError as exc:
                self._violation(f"{where}: {exc}")

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    async def _answer(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, head: h11.Request, content: bytes
    ) -> bool:
        """Answer one request as its fault says; False when the connection is gone."""
        seen = self._record(head, content)
        fault = seen.fault = self._choose(seen)
        if fault is None:
            await self._send(conn, writer, await self._forward(seen, content))
            return True

        if fault.kind == "rate_limited":
            await self._send(conn, writer, _rate_limit_answer(fault))
            return True
        if fault.kind == "refuse" or (fault.kind == "reset" and not fault.after):
            _reset(writer)
            return False
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)

        answer = await self._forward(seen, content) if fault.forward or fault.kind == "delay" \
            else None
        if fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "reset":
            _reset(writer)
            return False
        elif fault.kind in ("server_error", "garbage", "no_success"):
            answer = _made_up_answer(fault)
        assert answer is not None, fault

        if fault.kind == "truncate":
            status, headers, body = answer
            writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
            writer.write(conn.send(h11.Data(data=body[: len(body) // 2])) or b"")
            await writer.drain()
            return False
        await self._send(conn, writer, answer)
        return True

    async def _forward(
        self, seen: SeenRequest, content: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [(n, v) for n, v in seen.headers if n.lower() not in _HOP_BY_HOP]
        request = httpx.Request(seen.method, _SANDBOX_BASE + seen.target[len(PREFIX):]
                                if seen.target.startswith(PREFIX) else _SANDBOX_BASE + "/",
                                headers=headers, content=content)
        response = await self._transport.handle_async_request(request)
        body = await response.aread()
        seen.status = response.status_code
        kept = [(n, v) for n, v in response.headers.items() if n.lower() not in _HOP_BY_HOP]
        return response.status_code, [*kept, ("content-length", str(len(body)))], body

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        answer: tuple[int, list[tuple[str, str]], bytes],
    ) -> None:
        status, headers, body = answer
        if not self.keep_alive:
            headers = [*headers, ("connection", "close")]
        data = conn.send(h11.Response(status_code=status, headers=headers)) or b""
        data += conn.send(h11.Data(data=body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
        writer.write(data)
        await writer.drain()


class _TrackedStreamProtocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, keeping its transport in `transports` while it is open."""

    def __init__(
        self,
        transports: set[asyncio.BaseTransport],
        serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> None:
        super().__init__(asyncio.StreamReader(), serve)
        self._tracked = transports
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._tracked.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._tracked.discard(self._transport)
        super().connection_lost(exc)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _json_answer(status: int, payload: Any, *extra: tuple[str, str]
                 ) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(payload).encode()
    return status, [("content-type", "application/json"), *extra,
                    ("content-length", str(len(body)))], body


def _html_answer(status: int, text: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>".encode()
    return status, [("content-type", "text/html"), ("content-length", str(len(body)))], body


V4_5XX_MESSAGE = "Internal error while processing the request"


def _made_up_answer(fault: Fault) -> tuple[int, list[tuple[str, str]], bytes]:
    if fault.kind == "server_error":
        if fault.html:
            return _html_answer(fault.status, f"{fault.status} Bad Gateway")
        return _json_answer(fault.status, {"success": False, "errors": [
            {"code": 10000 + fault.status, "message": V4_5XX_MESSAGE}],
            "messages": [], "result": None})
    if fault.kind == "garbage":
        return _html_answer(200, "Everything is fine")
    return _json_answer(200, {"result": {"id": "0" * 32}, "errors": []})  # no_success


def _rate_limit_answer(fault: Fault) -> tuple[int, list[tuple[str, str]], bytes]:
    extra = [("retry-after", fault.retry_after)] if fault.retry_after is not None else []
    if fault.html:
        status, headers, body = _html_answer(429, "429 Too Many Requests")
        return status, [*extra, *headers], body
    return _json_answer(429, {"success": False, "errors": [
        {"code": 971, "message": "Please wait and consider throttling your request speed"}],
        "messages": [], "result": None}, *extra)


# --- the proxy in front ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def proxy_in_thread(settings: Settings) -> Iterator[str]:
    """`proxy.app.create_app(settings)` on a real uvicorn in a thread; yields its base URL."""
    port = free_port()
    app = create_app(replace(settings, port=port))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = start_in_thread(server)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class ProxyProcess:
    """`python -m proxy serve --upstream URL …` as a child process, its stderr in a file."""

    upstream: str
    args: tuple[str, ...] = ()
    log_dir: Path = field(default_factory=lambda: Path("."))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / f"proxy-{self.port}.stderr"

    def start(self, timeout: float = 20.0) -> ProxyProcess:
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "proxy", "serve", "--upstream", self.upstream,
                   "--port", str(self.port), *self.args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CF_V1_PROXY_")}
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr,
                                            env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the proxy exited: {self.stderr()[-2000:]}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the proxy did not come up")

    def rss_kib(self) -> int:
        """The child's resident set size (VmRSS of /proc/<pid>/status), in KiB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

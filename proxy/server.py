"""The HTTP server: uvicorn on httptools, with the limits httptools lacks.

Measured on this stack: uvicorn's h11 parser keeps a connection open after a request with both
Content-Length and Transfer-Encoding (httptools refuses it); httptools has no limit on the size
or number of headers; neither parser times out a client that never finishes its head. httptools
stays (it is the fast one), and `HardenedHttpToolsProtocol` closes each hole around it. The
body limit itself is the app's (`--max-body-bytes`, answered in v1 form); the protocol only
stops reading a request that goes on sending long after that.

Shutdown: on SIGTERM uvicorn stops accepting, closes idle connections, lets in-flight calls
finish for `--shutdown-grace` seconds, then cancels the rest, which `CutShortAnswer` answers
in v1 form.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import ssl
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any, ClassVar

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from proxy import envelope, errors
from proxy.settings import Settings

log = logging.getLogger("proxy.server")

MSG_HEAD_TOO_LARGE = "Request headers too large."
MSG_TOO_MANY_HEADERS = "Too many request headers."
MSG_HEAD_TIMEOUT = "Request headers not received in time."
MSG_BAD_REQUEST = "Invalid HTTP request."
MSG_CUT_SHORT = (
    "cf-v1-proxy was shut down before this call finished; it may have been carried out in part."
)

# uvicorn's default cipher string ("TLSv1") offers only SHA-1 CBC suites to TLS 1.2 clients, and
# NULL ones. These are forward-secret AEAD suites first, then ECDHE with AES-CBC for the older
# TLS 1.2 stacks that legacy v1 clients run on. TLS 1.3 suites are OpenSSL's own.
TLS_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:!aNULL:!eNULL"
# How long a TLS connection closed at shutdown may wait for the client's close_notify.
TLS_CLOSE_SECONDS = 1.0


class TLSFilesError(ValueError):
    """`--tls-cert` / `--tls-key` cannot be read, or do not form a certificate and its key."""


@dataclass(frozen=True)
class Limits:
    """What one request may send: its head, and what follows the head."""

    head_bytes: int
    headers: int
    head_seconds: float
    body_bytes: int

    @property
    def after_head_bytes(self) -> int:
        """Body, chunk framing and trailers together.

        The app refuses a body past `body_bytes` long before this; the margin lets a refused
        client's next bytes arrive while it reads the refusal instead of a reset connection.
        """
        return self.body_bytes + self.head_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            head_bytes=settings.max_header_bytes,
            headers=settings.max_headers,
            head_seconds=settings.header_timeout,
            body_bytes=settings.max_body_bytes,
        )


class _LimitReached(Exception):
    """Raised in a parser callback to stop httptools; `send_400_response` answers it."""


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size, count and time limit on each request head.

    Why each hook exists:

    - `connection_made` starts the head timer: a client that connects and never completes a
      head is closed after `head_seconds`, silently if it sent nothing (RFC 9112 §9.5: a 408
      on an idle connection may be taken as the answer to a request the client is sending).
    - `data_received` feeds httptools no more bytes than the current phase may still use:
      httptools buffers an unfinished header line whole, so without this a client sending an
      endless header (or trailer) would grow memory without bound.
    - `on_message_begin` starts the timer for a head after the first (keep-alive, pipelining);
      between requests the connection is idle and uvicorn's keep-alive timeout applies.
    - `on_url`, `on_header` and `on_headers_complete` count the head's bytes and headers as
      httptools reports them. That is exact for every complete head, also one that arrived
      behind a previous request in the same read, where the byte budget cannot see it.
      Trailers count against the same limits.
    - `on_headers_complete` also stops the timer and switches to the after-head budget;
      `on_message_complete` switches back. `on_body` counts the body, so that a request
      past its budget is closed at once unless the app is bound to refuse its body (it is
      larger than the app accepts), in which case the app answers first.
    - `send_400_response` answers every refused head (httptools' own refusals, such as
      Content-Length with Transfer-Encoding, and ours) as a small v1 JSON error.
    - `connection_lost` stops the timer.
    - `shutdown` (SIGTERM) makes sure a TLS connection that is done ends soon: a TLS close
      waits for the client's close_notify, which an idle pooled client never sends, and the
      server would wait the whole shutdown grace for it.
    """

    limits: ClassVar[Limits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # reading, or waiting for, a head rather than a body
        self._room = self.limits.head_bytes  # bytes the current phase may still send
        self._head_size = 0
        self._header_count = 0
        self._head_begun = False
        self._head_timer: TimerHandle | None = None
        self._refusal: tuple[int, str] | None = None
        self._body_size = 0
        self._discarding = False
        self._lost = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._stop_head_timer()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        super().shutdown()
        if self.scheme == "https":
            self._abort_when_done()

    def _abort_when_done(self) -> None:
        """Once closing with nothing left to write, give close_notify a moment, then drop."""
        if self._lost:
            return
        if self.transport.is_closing() and not self.transport.get_write_buffer_size():
            self.loop.call_later(TLS_CLOSE_SECONDS, self._drop)
        else:  # a call still running, or its answer still being written
            self.loop.call_later(TLS_CLOSE_SECONDS, self._abort_when_done)

    def _drop(self) -> None:
        if not self._lost:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._in_head and not self._answering():
            # Bytes between requests that begin none (blank lines) must not hold it open either.
            self._start_head_timer()
        while data and self._reading():
            piece, data = data[: self._room], data[self._room :]
            self._room -= len(piece)
            super().data_received(piece)
            if self._room <= 0 and self._reading():
                self._over_budget()

    def _reading(self) -> bool:
        return not (self._discarding or self.transport.is_closing())

    def _over_budget(self) -> None:
        if self._in_head:
            self._refuse(431, MSG_HEAD_TOO_LARGE)
        elif self._body_size > self.limits.body_bytes and not self.cycle.response_complete:
            # The app refuses any body past that limit and needs no more of it.
            self._close_after_answer()
        else:
            # Answered already, or the budget went on chunk framing or trailers.
            self.transport.close()

    def _close_after_answer(self) -> None:
        """Read nothing more; close once the answer being prepared is written."""
        self._discarding = True
        self.cycle.keep_alive = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0
        self._header_count = 0
        self._head_begun = True
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.headers:
            self._refusal = (431, MSG_TOO_MANY_HEADERS)
            raise _LimitReached
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # The method, two spaces, "HTTP/1.1" and two CRLFs: with the URL and the headers,
        # every byte of a head written the usual way.
        self._count_head(len(self.parser.get_method()) + 14)
        self._stop_head_timer()
        self._head_begun = False
        self._in_head = False
        self._room = self.limits.after_head_bytes
        self._body_size = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_head = True
        self._room = self.limits.head_bytes
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        status, text = self._refusal or (400, MSG_BAD_REQUEST)
        self._refuse(status, text)

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.limits.head_bytes:
            self._refusal = (431, MSG_HEAD_TOO_LARGE)
            raise _LimitReached

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_seconds, self._head_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._answering():
            # A pipelined head stalled behind a call still running.
            self._close_after_answer()
        elif self._head_begun:
            self._refuse(408, MSG_HEAD_TIMEOUT)
        else:
            self.transport.close()

    def _answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _refuse(self, status: int, text: str) -> None:
        """Answer a refused head as a v1 error and close the connection.

        A head that follows a request still being answered (pipelining) gets no answer of its
        own, which would interleave with that one: the connection closes after it. A refusal
        inside a body (its trailers) closes at once.
        """
        if not self._in_head:
            self.transport.close()
        elif self._answering():
            self._close_after_answer()
        else:
            body = envelope.encode(envelope.error(errors.invalid_input(text), None))
            head = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:  # the Date header
                head.append(name + b": " + value + b"\r\n")
            head += [
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
            self.transport.close()


class CutShortAnswer:
    """Answers a v1 error for a call that the shutdown grace cut short.

    After `--shutdown-grace` uvicorn cancels the calls still running; left alone it would
    answer them with a plain-text 500, which no v1 client can read.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if scope["type"] != "http" or started:
                raise
            # Answered, the task may end normally: uvicorn cancelled it only to stop it.
            log.warning("a call was still running when the shutdown grace ran out")
            body = envelope.encode(envelope.error(errors.upstream_failure(MSG_CUT_SHORT), None))
            await send({
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", envelope.JSON_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            })
            await send({"type": "http.response.body", "body": body})


def protocol_for(settings: Settings) -> type[HardenedHttpToolsProtocol]:
    """The protocol class with these settings' limits (uvicorn builds it with no extra args)."""

    class Protocol(HardenedHttpToolsProtocol):
        limits = Limits.from_settings(settings)

    return Protocol


def config(app: ASGIApp | str, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration `run` uses; tests build their servers from it too.

    `proxy.workers` gives the app and the protocol as import strings (uvicorn's workers import
    them), the app already wrapped in `CutShortAnswer`.
    """
    options: dict[str, Any] = dict(
        app=app if isinstance(app, str) else CutShortAnswer(app),
        host=settings.host,
        port=settings.port,
        http=protocol_for(settings),
        loop="auto",  # uvloop when installed, else asyncio
        # No WebSocket routes exist; an upgrade would hand the connection past these limits.
        ws="none",
        lifespan="on",
        log_level=settings.log_level,
        # uvicorn's lines go through the root logger: `proxy.logs` formats them like every other
        # line (plain or JSON).
        log_config=None,
        # uvicorn's access log prints query strings, where v1 clients put `tkn`.
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace),  # whole seconds
        # HTTPS: TLS sits under the same protocol class, so every limit above applies to the
        # decrypted bytes. The head timer starts once the handshake is done; the handshake
        # itself is bounded by the event loop (60 seconds in asyncio and uvloop).
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        ssl_ciphers=TLS_CIPHERS,
    )
    return uvicorn.Config(**{**options, **overrides})


def check_tls(settings: Settings) -> None:
    """Load `--tls-cert` and `--tls-key` once, so that a bad pair stops `serve` with one line.

    Raises `TLSFilesError`; uvicorn would otherwise fail later with a traceback.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise TLSFilesError(f"{settings.tls_cert} / {settings.tls_key}: {exc}") from None


def run(app: ASGIApp, settings: Settings) -> None:
    """Serve until SIGTERM or Ctrl+C; a drained shutdown returns normally."""
    server = uvicorn.Server(config(app, settings))
    # Once drained, uvicorn raises the signal it stopped for again, for the handler that was
    # there before it; a no-op one makes a SIGTERM shutdown a clean exit (status 0).
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)

"""The HTTP server under raw bytes: head limits, the head timeout, smuggling, body limits.

One real `cf-v1-proxy serve --sandbox` process with small limits; every request is written by
hand on a plain socket, the way a broken or hostile client would write it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from proxy.sandbox import DEMO_EMAIL, DEMO_KEY
from tests.e2e.conftest import free_port
from tests.support.processes import serve_process

HEAD_BYTES = 2048
HEADERS = 20
HEAD_SECONDS = 1.0
BODY_BYTES = 1000
LIMITS = (
    "--max-header-bytes", str(HEAD_BYTES), "--max-headers", str(HEADERS),
    "--header-timeout", str(HEAD_SECONDS), "--max-body-bytes", str(BODY_BYTES),
)
# uvicorn's default keep-alive timeout, which the proxy leaves as it is.
KEEP_ALIVE_SECONDS = 5.0


@dataclass
class ProxyProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def proxy_process(log: Path, *args: str) -> Iterator[ProxyProcess]:
    """`cf-v1-proxy serve ARGS` on a free port, up and answering /healthz; stopped after."""
    port = free_port()
    with serve_process(port, log, *args) as process:
        yield ProxyProcess(port, process, log)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    log = tmp_path_factory.mktemp("hardening") / "proxy.log"
    with proxy_process(log, "--sandbox", "--log-level", "warning", *LIMITS) as running:
        yield running


@dataclass
class Exchange:
    """What came back on one connection: the raw bytes, and whether the server closed it."""

    data: bytes
    closed: bool
    seconds: float

    def answers(self) -> list[tuple[str, dict[str, str], bytes]]:
        """Each response as (status line, headers, body); bodies framed by Content-Length."""
        found = []
        rest = self.data
        while rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            status, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            size = int(headers.get("content-length", "0"))
            found.append((status, headers, rest[:size]))
            rest = rest[size:]
        return found


def connect(proxy: ProxyProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=10)


def read_until_closed(sock: socket.socket, within: float) -> Exchange:
    """Everything the server sends until it closes the connection or `within` seconds pass."""
    started = time.monotonic()
    data = b""
    closed = False
    while True:
        left = within - (time.monotonic() - started)
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return Exchange(data, closed, time.monotonic() - started)


def exchange(proxy: ProxyProcess, request: bytes, within: float = 5.0) -> Exchange:
    """Send `request` and read until the server closes."""
    with connect(proxy) as sock:
        with contextlib.suppress(OSError):  # the server may close before it has read it all
            sock.sendall(request)
        return read_until_closed(sock, within)


def read_answer(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One whole response from a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head = data.partition(b"\r\n\r\n")[0]
    size = Exchange(head + b"\r\n\r\n", False, 0).answers()[0][1]["content-length"]
    while len(data) < len(head) + 4 + int(size):
        chunk = sock.recv(65536)
        assert chunk, f"closed inside an answer: {data!r}"
        data += chunk
    return Exchange(data, False, 0).answers()[0]


def ask(proxy: ProxyProcess, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send `request` and read one answer, leaving the connection to keep-alive."""
    with connect(proxy) as sock:
        sock.sendall(request)
        return read_answer(sock)


def v1_error(msg: str) -> dict[str, str]:
    return {"result": "error", "msg": msg, "err_code": "E_INVLDINPUT"}


def get(path: str, *headers: bytes, version: bytes = b"1.1") -> bytes:
    return b"GET " + path.encode() + b" HTTP/" + version + b"\r\n" + b"".join(
        header + b"\r\n" for header in (b"Host: proxy", *headers)
    ) + b"\r\n"


def padded_get(head_size: int) -> bytes:
    """A GET /healthz whose head is exactly `head_size` bytes."""
    bare = get("/healthz", b"X-Pad: ")
    return get("/healthz", b"X-Pad: " + b"p" * (head_size - len(bare)))


V1_QUERY = urlencode({"a": "zone_check", "zones": "example.com", "email": DEMO_EMAIL,
                      "tkn": DEMO_KEY})


# Request heads: size, count, time.

def test_head_of_exactly_max_header_bytes_is_served(proxy: ProxyProcess) -> None:
    request = padded_get(HEAD_BYTES)
    assert len(request) == HEAD_BYTES

    status, _, body = ask(proxy, request)

    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"status": "ok"}


def test_head_one_byte_over_max_header_bytes_gets_431_json_and_close(
    proxy: ProxyProcess,
) -> None:
    result = exchange(proxy, padded_get(HEAD_BYTES + 1))

    [(status, headers, body)] = result.answers()
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    assert body == (
        b'{"result":"error","msg":"Request headers too large.","err_code":"E_INVLDINPUT"}'
    )
    assert result.closed


def test_endless_header_is_refused_once_past_the_limit_without_waiting(
    proxy: ProxyProcess,
) -> None:
    # The head never ends: httptools would buffer the header line for ever. The refusal
    # comes from the size limit (431), not from the head timeout (408).
    result = exchange(proxy, b"GET /healthz HTTP/1.1\r\nX-Endless: " + b"e" * (4 * HEAD_BYTES))

    [(status, _, body)] = result.answers()
    assert status.startswith("HTTP/1.1 431 ")
    assert json.loads(body) == v1_error("Request headers too large.")
    assert result.closed


def test_huge_url_gets_431(proxy: ProxyProcess) -> None:
    result = exchange(proxy, get("/api_json.html?a=" + "x" * 3 * HEAD_BYTES))

    [(status, _, _)] = result.answers()
    assert status.startswith("HTTP/1.1 431 ")
    assert result.closed


def test_max_headers_are_served_and_one_more_gets_431(proxy: ProxyProcess) -> None:
    # `get` adds Host, so HEADERS - 1 more make exactly HEADERS.
    allowed = [b"X-H%d: 1" % n for n in range(HEADERS - 1)]

    served, _, _ = ask(proxy, get("/healthz", *allowed))
    refused = exchange(proxy, get("/healthz", *allowed, b"X-One-Too-Many: 1"))

    assert served == "HTTP/1.1 200 OK"
    [(status, headers, body)] = refused.answers()
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["connection"] == "close"
    assert json.loads(body) == v1_error("Too many request headers.")
    assert refused.closed


def test_half_a_request_line_is_answered_408_and_closed_after_header_timeout(
    proxy: ProxyProcess,
) -> None:
    result = exchange(proxy, b"GET /api_js", within=HEAD_SECONDS + 4)

    assert result.closed
    assert HEAD_SECONDS - 0.2 <= result.seconds < HEAD_SECONDS + 3
    [(status, headers, body)] = result.answers()
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert json.loads(body) == v1_error("Request headers not received in time.")


def test_a_head_trickled_byte_by_byte_cannot_outlast_header_timeout(
    proxy: ProxyProcess,
) -> None:
    # Each byte comes well inside the timeout: the clock runs from the head's start.
    trickle = get("/healthz", *[b"X-Slow-%d: 1" % n for n in range(10)])
    with connect(proxy) as sock:
        started = time.monotonic()
        sock.settimeout(0.1)
        for byte in trickle:
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1, socket.MSG_PEEK):
                    break  # answered
            except TimeoutError:
                continue
            except OSError:
                break  # closed
        result = read_until_closed(sock, within=3)
        seconds = time.monotonic() - started

    assert result.closed
    assert seconds < HEAD_SECONDS + 2 < 0.1 * len(trickle)
    [(status, _, _)] = result.answers()
    assert status.startswith("HTTP/1.1 408 ")


def test_a_connection_that_sends_nothing_is_closed_silently_after_header_timeout(
    proxy: ProxyProcess,
) -> None:
    with connect(proxy) as sock:
        result = read_until_closed(sock, within=HEAD_SECONDS + 4)

    assert result.closed
    assert result.data == b""
    assert HEAD_SECONDS - 0.2 <= result.seconds < HEAD_SECONDS + 3


# Framing: smuggling, HTTP/1.0, keep-alive.

@pytest.mark.parametrize("framing", [
    (b"Content-Length: 36", b"Transfer-Encoding: chunked"),
    (b"Transfer-Encoding: chunked", b"Content-Length: 36"),
])
def test_content_length_with_transfer_encoding_is_refused_and_closed(
    proxy: ProxyProcess, framing: tuple[bytes, bytes]
) -> None:
    # Read by Content-Length, the body is a second request; read as chunked, it is empty
    # and the second request is real. Neither reading may happen.
    smuggled = get("/healthz")
    request = (
        b"POST /api_json.html HTTP/1.1\r\nHost: proxy\r\n" + b"\r\n".join(framing)
        + b"\r\n\r\n0\r\n\r\n" + smuggled
    )

    result = exchange(proxy, request)

    [(status, headers, body)] = result.answers()
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert json.loads(body) == v1_error("Invalid HTTP request.")
    assert result.closed


def test_http_1_0_request_gets_a_whole_answer_with_content_length_then_close(
    proxy: ProxyProcess,
) -> None:
    result = exchange(proxy, get("/api_json.html?" + V1_QUERY, version=b"1.0"))

    assert result.closed
    [(status, headers, body)] = result.answers()
    assert status in ("HTTP/1.1 200 OK", "HTTP/1.0 200 OK")
    assert int(headers["content-length"]) == len(body)
    assert "transfer-encoding" not in headers
    assert json.loads(body)["result"] == "success"
    assert result.data.endswith(body)


def test_keep_alive_serves_requests_after_an_idle_gap_longer_than_header_timeout(
    proxy: ProxyProcess,
) -> None:
    # The head timer must not run while a connection waits idle between requests; idle
    # connections are closed by uvicorn's keep-alive timeout instead, silently.
    with connect(proxy) as sock:
        sock.sendall(get("/api_json.html?" + V1_QUERY))
        first = read_answer(sock)
        time.sleep(HEAD_SECONDS + 0.5)
        sock.sendall(get("/healthz"))
        second = read_answer(sock)
        rest = read_until_closed(sock, within=KEEP_ALIVE_SECONDS + 3)

    assert first[0] == second[0] == "HTTP/1.1 200 OK"
    assert json.loads(first[2])["result"] == "success"
    assert json.loads(second[2]) == {"status": "ok"}
    assert rest.closed
    assert rest.data == b""
    assert rest.seconds > KEEP_ALIVE_SECONDS - 1


def test_second_request_on_a_connection_has_its_own_head_limit(proxy: ProxyProcess) -> None:
    with connect(proxy) as sock:
        sock.sendall(padded_get(HEAD_BYTES))
        first = read_answer(sock)
        sock.sendall(padded_get(HEAD_BYTES + 1))
        rest = read_until_closed(sock, within=5)

    assert first[0] == "HTTP/1.1 200 OK"
    [(status, _, _)] = rest.answers()
    assert status.startswith("HTTP/1.1 431 ")
    assert rest.closed


def test_oversized_pipelined_head_is_never_served(proxy: ProxyProcess) -> None:
    # Both requests in one write: the second head is counted from httptools' callbacks.
    # It gets no answer of its own (that would interleave with the first one's); the
    # connection closes after the first answer.
    result = exchange(proxy, get("/healthz") + padded_get(HEAD_BYTES + 500))

    [(status, _, body)] = result.answers()
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"status": "ok"}
    assert result.closed


# Bodies.

def chunked_post(body: bytes, chunk: int = 500) -> bytes:
    chunks = b"".join(
        b"%x\r\n" % len(body[i:i + chunk]) + body[i:i + chunk] + b"\r\n"
        for i in range(0, len(body), chunk)
    )
    return (
        b"POST /api_json.html HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + chunks + b"0\r\n\r\n"
    )


def test_chunked_body_within_max_body_bytes_is_served(proxy: ProxyProcess) -> None:
    form = V1_QUERY.encode() + b"&pad=" + b"p" * (BODY_BYTES - len(V1_QUERY) - 5)
    assert len(form) == BODY_BYTES

    status, _, body = ask(proxy, chunked_post(form, chunk=100))

    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body)["result"] == "success"


def test_chunked_body_over_max_body_bytes_gets_a_v1_error(proxy: ProxyProcess) -> None:
    result = exchange(proxy, chunked_post(b"a=zone_check&pad=" + b"p" * 5 * BODY_BYTES))

    [(status, headers, body)] = result.answers()
    assert status == "HTTP/1.1 200 OK"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == v1_error(f"Request body larger than {BODY_BYTES} bytes.")
    # It went on sending past what the proxy reads after a refusal: the connection closes.
    assert result.closed


def test_a_body_that_does_not_arrive_in_time_gets_a_v1_error_and_the_connection_closes(
    proxy: ProxyProcess,
) -> None:
    head = (b"POST /api_json.html HTTP/1.1\r\nHost: proxy\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60\r\n\r\n")

    with connect(proxy) as sock:
        sock.sendall(head + b"a=zone_check")
        status, headers, body = read_answer(sock)
        # The rest of the body, late: it must be neither read as a request nor keep the
        # connection open.
        with contextlib.suppress(OSError):
            sock.sendall(b"&" + b"p" * 47)
        rest = read_until_closed(sock, within=KEEP_ALIVE_SECONDS + 2)

    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert json.loads(body) == v1_error("The request body did not arrive in time.")
    assert rest.closed and rest.data == b""
    assert rest.seconds < 1.0


def test_endless_chunked_trailer_is_cut_off(proxy: ProxyProcess) -> None:
    # Trailers are headers after the body; httptools would buffer an endless one for ever.
    request = (
        b"POST /api_json.html HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\nX-Trailer: " + b"t" * 10 * (BODY_BYTES + HEAD_BYTES)
    )

    result = exchange(proxy, request)

    assert result.closed
    assert result.data == b""
    assert result.seconds < HEAD_SECONDS  # closed for its size, not by a timeout


def test_the_proxy_still_answers_after_all_of_the_above(proxy: ProxyProcess) -> None:
    response = httpx.get(f"{proxy.url}/api_json.html?{V1_QUERY}", timeout=5)

    assert response.json()["result"] == "success"
    assert proxy.process.poll() is None
    assert "Traceback" not in proxy.output()

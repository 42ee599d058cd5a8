"""Shutdown and the orchestrator endpoints, on real `cf-v1-proxy serve` processes.

The upstream is a tiny v4 stand-in on a loopback port that takes its time to answer, so a v1
call is certainly in flight when the proxy gets SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from proxy.server import MSG_CUT_SHORT
from tests.e2e.conftest import free_port
from tests.e2e.test_http_hardening import ProxyProcess, proxy_process

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ZONES_PAGE = {
    "success": True, "errors": [], "messages": [],
    "result": [{"id": ZONE_ID, "name": "example.com", "status": "active"}],
    "result_info": {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1},
}
V1_CALL = {"a": "zone_check", "zones": "example.com", "email": "ops@example.com",
           "tkn": "0123456789abcdef0123456789abcdef01234"}


class SlowV4:
    """A v4 stand-in that answers every GET with one page of zones after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.asked = threading.Event()  # a request has arrived
        self.release = threading.Event()  # stop waiting at once (teardown)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                stand_in.asked.set()
                stand_in.release.wait(stand_in.delay)
                body = json.dumps(ZONES_PAGE).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/client/v4"

    @contextlib.contextmanager
    def running(self) -> Iterator[SlowV4]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)


class CallInFlight:
    """A v1 call made from a thread, so the test can act while it waits for its answer."""

    def __init__(self, proxy: ProxyProcess) -> None:
        self.response: httpx.Response | None = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._call, args=(proxy.url,), daemon=True)
        self.thread.start()

    def _call(self, url: str) -> None:
        try:
            self.response = httpx.post(f"{url}/api_json.html", data=V1_CALL, timeout=20)
        except Exception as exc:  # reported by `answer`
            self.error = exc

    def answer(self) -> httpx.Response:
        self.thread.join(timeout=25)
        assert not self.thread.is_alive(), "the v1 call never returned"
        assert self.response is not None, f"the v1 call failed: {self.error!r}"
        return self.response


def refuses_connections(port: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_lets_the_call_in_flight_finish_then_exits_0(tmp_path: Path) -> None:
    with SlowV4(delay=2).running() as upstream, proxy_process(
        tmp_path / "proxy.log", "--upstream", upstream.url, "--shutdown-grace", "10",
    ) as proxy:
        call = CallInFlight(proxy)
        assert upstream.asked.wait(timeout=10), "the v1 call never reached v4"
        signalled = time.monotonic()

        proxy.process.send_signal(signal.SIGTERM)

        # New connections are refused at once, while the call in flight goes on.
        assert refuses_connections(proxy.port, within=3)
        response = call.answer()
        assert response.status_code == 200
        assert response.json()["result"] == "success", response.text
        assert response.json()["response"]["zones"]["example.com"]
        assert proxy.process.wait(timeout=15) == 0, proxy.output()
        assert time.monotonic() - signalled >= 1.5  # it waited for the call
        assert "Traceback" not in proxy.output()


def test_a_call_outliving_the_grace_gets_a_v1_error_and_the_proxy_exits_0(
    tmp_path: Path,
) -> None:
    with SlowV4(delay=30).running() as upstream, proxy_process(
        tmp_path / "proxy.log", "--upstream", upstream.url, "--shutdown-grace", "1",
        "--read-timeout", "60", "--call-deadline", "60",
    ) as proxy:
        call = CallInFlight(proxy)
        assert upstream.asked.wait(timeout=10), "the v1 call never reached v4"
        signalled = time.monotonic()

        proxy.process.send_signal(signal.SIGTERM)

        response = call.answer()
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"result": "error", "msg": MSG_CUT_SHORT}
        assert proxy.process.wait(timeout=10) == 0, proxy.output()
        assert time.monotonic() - signalled < 8
        assert "Traceback" not in proxy.output()


def test_sigterm_on_an_idle_proxy_exits_0_at_once(tmp_path: Path) -> None:
    with proxy_process(tmp_path / "proxy.log", "--sandbox") as proxy:
        signalled = time.monotonic()
        proxy.process.send_signal(signal.SIGTERM)

        assert proxy.process.wait(timeout=10) == 0, proxy.output()
        assert time.monotonic() - signalled < 3


def test_readyz_is_ready_with_the_sandbox(tmp_path: Path) -> None:
    with proxy_process(tmp_path / "proxy.log", "--sandbox") as proxy:
        response = httpx.get(f"{proxy.url}/readyz", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_with_v4_unreachable_readyz_is_503_while_healthz_stays_200(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/client/v4"
    with proxy_process(tmp_path / "proxy.log", "--upstream", closed) as proxy:
        ready = httpx.get(f"{proxy.url}/readyz", timeout=10)
        alive = httpx.get(f"{proxy.url}/healthz", timeout=10)

    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "reason": "Cloudflare API v4 is not reachable"}
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok"}

"""`--workers N`: several processes serving one port, and the refusal to run them on a sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from proxy.sandbox import create_sandbox_app
from tests.e2e.conftest import EMAIL, KEY, base_seed, free_port


@pytest.fixture
def sandbox_upstream() -> Iterator[str]:
    """The v4 sandbox on a real port, as an upstream of its own."""
    port = free_port()
    config = uvicorn.Config(create_sandbox_app(base_seed()), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the sandbox did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def serve(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CF_V1_PROXY_")}
    with log.open("wb") as stderr:
        return subprocess.Popen([sys.executable, "-m", "proxy", "serve", *args],
                                stdout=subprocess.DEVNULL, stderr=stderr, env=env)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_workers_above_one_with_the_sandbox_is_refused_with_a_reason() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proxy", "serve", "--sandbox", "--workers", "2"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "--workers above 1 cannot run --sandbox" in result.stderr
    assert "each worker would hold its own sandbox" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_workers_serve_v1_calls_and_stop_cleanly_on_sigterm(
    sandbox_upstream: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "proxy.stderr"
    process = serve("--upstream", sandbox_upstream, "--port", str(port), "--workers", "2",
                    "--migration-db", "", log=log)
    url = f"http://127.0.0.1:{port}/api_json.html"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

        # Fresh connections, so the kernel spreads them over both workers.
        for _ in range(6):
            answer = httpx.post(url, data={"a": "rec_load_all", "z": "example.com",
                                           "email": EMAIL, "tkn": KEY}, timeout=10).json()
            assert answer["result"] == "success", answer
            assert answer["response"]["recs"]["count"] == 6
        answer = httpx.post(url, data={"a": "sec_lvl", "z": "example.com", "v": "high",
                                       "email": EMAIL, "tkn": KEY}, timeout=10).json()
        assert answer["result"] == "success", answer
        servers = [pid for pid in children(process.pid)
                   if "proxy" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
                   or "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text(
                       errors="replace")]
        assert len(servers) >= 2, servers
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()

"""Real proxies for end-to-end tests: a `python -m proxy serve` child, or uvicorn in a thread."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn


@contextlib.contextmanager
def serve_process(
    port: int, log: Path, *args: str, verify: ssl.SSLContext | bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m proxy serve --port PORT ARGS`, its output in `log`, once /healthz answers.

    Stopped with SIGTERM after, as a service manager would; killed if it will not go.
    """
    scheme = "https" if "--tls-cert" in args else "http"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "serve", "--port", str(port), *args],
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            output = log.read_text(errors="replace")
            assert process.poll() is None, output
            assert time.monotonic() < deadline, "cf-v1-proxy did not come up\n" + output
            try:
                httpx.get(f"{scheme}://127.0.0.1:{port}/healthz", verify=verify, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield process
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def start_in_thread(server: uvicorn.Server) -> threading.Thread:
    """Run `server` in a daemon thread; return once it accepts connections."""
    thread = threading.Thread(target=server.run, name="proxy", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the proxy did not start")
        time.sleep(0.01)
    return thread

"""`cf-v1-proxy serve --log-format json`: every line a JSON object, an access line per call."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from proxy.credentials import Credential
from proxy.sandbox import DEMO_EMAIL, DEMO_KEY
from tests.conftest import SECRET_SHAPES
from tests.e2e.conftest import free_port
from tests.e2e.test_cli import wait_until_up


def test_json_lines_from_a_real_process_hold_one_access_line_per_call(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "report.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--sandbox", "--port", str(port),
         "--log-format", "json", "--migration-db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    agent = f"ddns-updater/2.1 ({DEMO_EMAIL})"
    try:
        wait_until_up(url, process)
        for action in ("rec_load_all", "stats"):
            httpx.post(f"{url}/api_json.html", headers={"User-Agent": agent}, data={
                "a": action, "z": "example.com", "email": DEMO_EMAIL, "tkn": DEMO_KEY})
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)

    entries = [json.loads(line) for line in err.splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    calls = [entry for entry in entries if entry["logger"] == "proxy.access"]
    assert [(c["action"], c["result"], c["v4_calls"]) for c in calls] == [
        ("rec_load_all", "success", 2), ("stats", "gone", 0)]
    assert calls[0]["zone"] == "example.com"
    assert calls[0]["v4"] == ["GET /zones 200", "GET /zones/{id}/dns_records 200"]
    assert calls[0]["cred"] == Credential(DEMO_EMAIL, DEMO_KEY).fingerprint
    assert calls[0]["ua"] == "ddns-updater/2.1 ([masked])"
    assert not SECRET_SHAPES.search(err)

    # SIGTERM wrote the migration report out before the process ended.
    with sqlite3.connect(db) as report:
        seen = report.execute("SELECT action, agent, count FROM seen ORDER BY action").fetchall()
    assert seen == [("rec_load_all", "ddns-updater/2.1 ([masked])", 1),
                    ("stats", "ddns-updater/2.1 ([masked])", 1)]

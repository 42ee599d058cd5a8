"""The migration report: JSON, an HTML page read in headless Chromium, kept across restarts."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.cli import assemble
from proxy.credentials import Credential
from proxy.mapping import load
from proxy.sandbox import demo_seed
from proxy.settings import Settings
from tests.e2e.conftest import EMAIL, KEY, OTHER_EMAIL, OTHER_KEY, RunningProxy

DDNS_AGENT = "ddclient/3.9.1"
PANEL_AGENT = "HostPanel/2.0 <script>alert(1)</script>"


def call(proxy: RunningProxy, agent: str, **params: str) -> httpx.Response:
    params.setdefault("email", EMAIL)
    params.setdefault("tkn", KEY)
    return httpx.post(f"{proxy.url}/api_json.html", data=params, timeout=10,
                      headers={"User-Agent": agent})


def make_calls(proxy: RunningProxy) -> None:
    for _ in range(3):
        call(proxy, DDNS_AGENT, a="rec_load_all", z="example.com")
    call(proxy, DDNS_AGENT, a="sec_lvl", z="example.com", v="high")
    call(proxy, PANEL_AGENT, a="zone_load_multi", email=OTHER_EMAIL, tkn=OTHER_KEY)
    call(proxy, PANEL_AGENT, a="stats", z="example.com")  # retired: 410, no v4 call


def rows_by(report: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["action"], r["agent"], r["credential"]): r for r in report["rows"]}


def test_json_report_shows_each_action_by_client(proxy: RunningProxy) -> None:
    make_calls(proxy)

    response = httpx.get(f"{proxy.url}/_proxy/migration", timeout=10)

    assert response.status_code == 200
    report = response.json()
    rows = rows_by(report)
    me = Credential(EMAIL, KEY).fingerprint
    other = Credential(OTHER_EMAIL, OTHER_KEY).fingerprint
    listing = rows[("rec_load_all", DDNS_AGENT, me)]
    assert listing["count"] == 3
    assert listing["v4"].startswith("GET /zones/{zone_id}/dns_records")
    assert listing["retired"] is False and listing["replacement"] is None
    assert listing["last_seen"] >= listing["first_seen"]
    assert rows[("sec_lvl", DDNS_AGENT, me)]["v4"] == (
        "PATCH /zones/{zone_id}/settings/security_level")
    assert rows[("zone_load_multi", PANEL_AGENT, other)]["count"] == 1
    # The engine answers a retired action before looking at the credential; the report
    # still tells whose client sent it.
    stats = rows[("stats", PANEL_AGENT, me)]
    assert stats["retired"] is True and "GraphQL" in stats["replacement"]
    assert report["calls"] == 6
    assert list(report["rows"])[0]["action"] == "stats"  # retired actions first
    assert EMAIL not in response.text and KEY not in response.text


def test_unknown_actions_are_reported_without_their_text(proxy: RunningProxy) -> None:
    call(proxy, DDNS_AGENT, a=f"rec_load_all{KEY}", z="example.com")

    report = httpx.get(f"{proxy.url}/_proxy/migration", timeout=10).json()

    (row,) = report["rows"]
    assert (row["action"], row["retired"], row["count"]) == ("unknown", True, 1)
    assert KEY not in str(report)


def chromium() -> str:
    """Debian's chromium; `.ci/run` installs it wherever apt-get is there to do so."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") and shutil.which("apt-get"):
        pytest.fail("chromium is missing although apt-get is available: .ci/run installs it")
    pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium; "
                ".ci/run installs it where apt-get is available)")


def headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_html_page_shows_the_calls_in_headless_chromium(
    proxy: RunningProxy, tmp_path: Path
) -> None:
    browser = chromium()
    make_calls(proxy)
    page = f"{proxy.url}/_proxy/migration.html"

    dom = headless(browser, tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<table id="report">' in html
    for shown in ("rec_load_all", "sec_lvl", "zone_load_multi", "stats", DDNS_AGENT,
                  "GET /zones/{zone_id}/dns_records", Credential(EMAIL, KEY).fingerprint):
        assert shown in html
    assert '<td class="n">3</td>' in html  # rec_load_all, three times
    assert '<span class="retired">retired</span>' in html
    assert "6 v1 calls" in html
    # The client's agent is shown as text, never run as markup.
    assert "HostPanel/2.0 &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert EMAIL not in html and KEY not in html

    shot = tmp_path / "migration.png"
    taken = headless(browser, tmp_path / "profile-shot", f"--screenshot={shot}",
                     "--window-size=1200,800", "--hide-scrollbars", page)
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (1200, 800)
    # A blank page compresses to a few kilobytes; a table of text does not.
    assert len(data) > 20_000


async def run_app(settings: Settings, calls: int) -> dict[str, Any]:
    """An app from start to shutdown (its lifespan included): `calls` zone_load_multi calls
    with the demo credentials, then the migration report as it shows it."""
    user = demo_seed()["users"][0]
    app = assemble(settings, load())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://proxy.test",
        headers={"User-Agent": DDNS_AGENT},
    ) as client:
        for _ in range(calls):
            answer = await client.post("/api_json.html", data={
                "a": "zone_load_multi", "email": user["email"], "tkn": user["key"]})
            assert answer.json()["result"] == "success"
        report: dict[str, Any] = (await client.get("/_proxy/migration")).json()
    return report


def test_report_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state" / "migration.sqlite3"
    settings = Settings(sandbox="", migration_db=str(db))

    def run(times: int) -> dict[str, Any]:
        asyncio.run(run_app(settings, times))
        # Read back by a fresh app that makes no call: from the file alone.
        return asyncio.run(run_app(settings, 0))

    first = run(2)
    assert db.is_file()
    (row,) = first["rows"]
    assert (row["action"], row["agent"], row["count"]) == ("zone_load_multi", DDNS_AGENT, 2)

    second = run(3)
    (row,) = second["rows"]
    assert row["count"] == 5
    assert row["first_seen"] == first["rows"][0]["first_seen"]


def test_an_unwritable_file_keeps_the_report_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = Settings(sandbox="", migration_db=str(blocker / "migration.sqlite3"))

    with caplog.at_level(logging.WARNING, "proxy.migration"):
        report = asyncio.run(run_app(settings, 1))

    assert "kept in memory only" in caplog.text
    assert [row["count"] for row in report["rows"]] == [1]

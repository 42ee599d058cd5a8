"""Log lines (`proxy.logs`): plain or JSON lines, one access line per v1 call, no secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from proxy.credentials import Credential
from proxy.engine import Reply
from proxy.logs import access, client_agent, setup_logging
from proxy.settings import Settings
from proxy.v4client import V4Call
from tests.conftest import SECRET_SHAPES

EMAIL = "ops+cf@example.com"
KEY = "0123456789abcdef0123456789abcdef01234"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"


def reply() -> Reply:
    return Reply(
        200,
        {"result": "success"},
        action="rec_load_all",
        known_action="rec_load_all",
        zone="example.com",
        credential=Credential(EMAIL, KEY).fingerprint,
        v4_calls=[
            V4Call("GET", "/zones", 200, 12.5),
            V4Call("GET", f"/zones/{ZONE_ID}/dns_records", 200, 30.0),
            V4Call("GET", f"/zones/{ZONE_ID}/dns_records", None, 5000.0),
        ],
    )


class Captured:
    """What `setup_logging` prints, on a buffer instead of standard error."""

    def __init__(self) -> None:
        self.handler: logging.Handler | None = None
        self.buffer = io.StringIO()

    def use(self, log_format: str) -> None:
        self.close()
        self.buffer = io.StringIO()
        self.handler = setup_logging(replace(Settings(), log_format=log_format), self.buffer)

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)


@pytest.fixture
def captured() -> Iterator[Captured]:
    root = logging.getLogger()
    level = root.level
    captured = Captured()
    yield captured
    captured.close()
    root.setLevel(level)


def test_json_access_line_carries_the_fields_as_keys(
    captured: Captured,
) -> None:
    captured.use("json")
    access(reply(), "ddclient/3.9.1", 0.0425)
    (line,) = captured.lines()

    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "proxy.access"
    assert entry["time"].endswith("+00:00")
    assert entry["message"].startswith("action=rec_load_all zone=example.com")
    assert entry["action"] == "rec_load_all" and entry["zone"] == "example.com"
    assert entry["cred"] == Credential(EMAIL, KEY).fingerprint
    assert (entry["v4_calls"], entry["result"], entry["status"], entry["ms"]) == (
        3, "success", 200, 42.5)
    assert entry["ua"] == "ddclient/3.9.1"
    assert entry["v4"] == ["GET /zones 200", "GET /zones/{id}/dns_records 200",
                           "GET /zones/{id}/dns_records -"]
    assert ZONE_ID not in line


def test_json_lines_hold_other_records_and_tracebacks(
    captured: Captured,
) -> None:
    captured.use("json")
    log = logging.getLogger("proxy.engine")
    log.warning("zone %s: held by %d accounts", "example.com", 2)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("unexpected failure")

    first, second = (json.loads(line) for line in captured.lines())
    assert first["message"] == "zone example.com: held by 2 accounts"
    assert first["level"] == "WARNING" and "exc" not in first
    assert second["level"] == "ERROR" and "RuntimeError: boom" in second["exc"]


def test_plain_access_line_is_one_line_of_key_value_pairs(
    captured: Captured,
) -> None:
    captured.use("plain")
    access(reply(), "Mozilla/5.0 (X11; Linux)", 0.001)
    (line,) = captured.lines()

    assert " INFO proxy.access: action=rec_load_all zone=example.com cred=" in line
    assert line.endswith("v4_calls=3 result=success status=200 ms=1.0 ua=Mozilla/5.0_(X11;_Linux)")


def test_setup_logging_keeps_httpx_quiet(captured: Captured) -> None:
    captured.use("json")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger().level == logging.INFO


@pytest.mark.parametrize("agent", [
    f"cron-job {EMAIL}",
    f"ddns-script/1.0 (key={KEY})",
    f"ddns-script/1.0 email={EMAIL.replace('@', '%40')}",
    "client\r\nX-Injected: 1",
], ids=["email", "key", "encoded-email", "line-break"])
def test_user_agents_lose_secrets_and_line_breaks(
    agent: str, captured: Captured
) -> None:
    printed = []
    for log_format in ("json", "plain"):
        captured.use(log_format)
        access(reply(), client_agent(agent), 0.01)
        printed += captured.lines()

    assert len(printed) == 2  # one line each: no line break got through
    assert json.loads(printed[0])["ua"].startswith(agent[:4])
    for line in printed:
        assert not SECRET_SHAPES.search(line), line


def test_client_agent_is_short_and_printable() -> None:
    assert client_agent(None) == "-"
    assert client_agent("") == "-"
    assert client_agent("x" * 500) == "[masked]"
    assert client_agent("büro-client/1 (Linux)") == "b?ro-client/1 (Linux)"
    assert len(client_agent("a b " * 100)) == 120

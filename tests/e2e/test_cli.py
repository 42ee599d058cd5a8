"""The README's run command, as a user types it: a real `cf-v1-proxy` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from proxy.sandbox import DEMO_EMAIL, DEMO_KEY
from tests.e2e.conftest import free_port


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("cf-v1-proxy did not come up")


def test_serve_sandbox_answers_rec_load_all_from_the_environment_port() -> None:
    port = free_port()
    env = {**os.environ, "CF_V1_PROXY_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--sandbox"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        response = httpx.post(f"{url}/api_json.html", data={
            "a": "rec_load_all", "z": "example.com", "email": DEMO_EMAIL, "tkn": DEMO_KEY})
        body = response.json()
        assert body["result"] == "success"
        assert body["response"]["recs"]["count"] == len(body["response"]["recs"]["objs"]) > 0
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)

    # The demo credentials are shown once on standard output, never in the log.
    assert f"tkn={DEMO_KEY}" in out
    assert DEMO_KEY not in err and DEMO_EMAIL not in err
    assert "actions mapped" in err and "action=rec_load_all zone=example.com" in err


def test_a_bad_mapping_file_stops_the_start_naming_file_action_and_key(tmp_path: Path) -> None:
    (tmp_path / "local.toml").write_text(
        '[sec_lvl]\nsummary = "x"\nzone = true\nsteps = [{ use = "no_such_step" }]\n')
    result = subprocess.run(
        [sys.executable, "-m", "proxy", "serve", "--mappings", str(tmp_path)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "local.toml: action sec_lvl: key steps[0]: use 'no_such_step'" in result.stderr


def test_help_lists_every_option() -> None:
    result = subprocess.run([sys.executable, "-m", "proxy", "serve", "--help"],
                            capture_output=True, text=True, timeout=30)
    for flag in ("--host", "--port", "--upstream", "--sandbox", "--mappings", "--log-level",
                 "--rec-new-service-mode", "CF_V1_PROXY_PORT"):
        assert flag in result.stdout

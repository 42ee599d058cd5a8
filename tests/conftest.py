"""Session-wide guard: no log line of the whole test run may carry a credential.

Every record any logger emits during the run (DEBUG and up, server threads included) is
kept; at the end the run fails if one of them holds an e-mail address or a Global-API-key
shaped token. Subprocess logs are checked by the tests that start them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator

import pytest

# An e-mail address, or 37 hex characters (the shape of a Global API key).
SECRET_SHAPES = re.compile(r"[\w.+%-]+(@|%40)[\w-]+\.[\w.-]+|\b[0-9a-f]{37}\b", re.IGNORECASE)


class _Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        try:
            text = self.format(record)
        except Exception:  # a broken record is not a leak
            return
        if SECRET_SHAPES.search(text):
            self.leaks.append(f"{record.name}: {text[:300]}")


_KEEPER = _Keeper()
_KEEPER.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))


@pytest.fixture(autouse=True, scope="session")
def _keep_every_log_record() -> Iterator[None]:
    root = logging.getLogger()
    previous = root.level
    root.addHandler(_KEEPER)
    root.setLevel(logging.DEBUG)
    # As `cf-v1-proxy serve` does: HTTP client libraries print whole URLs, and the tests'
    # v1 clients (httpx, pyflare's requests) put credentials in query strings, as real v1
    # clients do. Everything the proxy and the sandbox log stays in view.
    for client_logger in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(client_logger).setLevel(logging.WARNING)
    yield
    root.removeHandler(_KEEPER)
    root.setLevel(previous)


@pytest.fixture(autouse=True, scope="session")
def _throwaway_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A home of its own for the run: the proxies the tests start (in-process or as
    subprocesses, with or without a migration-db setting) never write under the user's home."""
    previous = os.environ.get("HOME")
    os.environ["HOME"] = str(tmp_path_factory.mktemp("home"))
    yield
    if previous is None:
        del os.environ["HOME"]
    else:
        os.environ["HOME"] = previous


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, saying why, when Cloudflare's OpenAPI subset cannot be found: hundreds of
    tests check v4 requests against it, and each would fail on its own otherwise."""
    from tests.support.openapi import ENV_VAR, spec_file

    schema = spec_file()
    if not schema.is_file():
        pytest.exit(
            f"Cloudflare's OpenAPI subset is not at {schema}: the tests read it from "
            f"../shared/cloudflare-v4-openapi/ beside this clone, or from the file that "
            f"{ENV_VAR} names.",
            returncode=4,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _KEEPER.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(_KEEPER.leaks[:20])
        message = f"{len(_KEEPER.leaks)} log lines carry a credential:\n{lines}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"log guard: {_KEEPER.seen} log records checked, {len(_KEEPER.leaks)} with a credential"
    )

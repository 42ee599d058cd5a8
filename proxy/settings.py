"""Every setting of the proxy, its default, and how it is read.

One table, `OPTIONS`, is the single source: the command line (`--name`), the environment
(`CF_V1_PROXY_NAME`, for Docker) and `--help` are all generated from it. The command line wins
over the environment, the environment over the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

ENV_PREFIX = "CF_V1_PROXY_"

Kind = Literal["str", "int", "float", "switch", "choice", "path", "optional_path", "budget"]


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    help: str
    kind: Kind = "str"
    choices: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.attr.upper()

    @property
    def help_text(self) -> str:
        """The help with its variable and default, the default written as one would type it."""
        default = self.default
        if self.kind == "budget":
            calls, seconds = default
            default = f"{calls}/{seconds:g}"
        return f"{self.help} (env {self.env}; default: {default!r})"


OPTIONS: tuple[Option, ...] = (
    Option("host", "127.0.0.1", "address to listen on"),
    Option("port", 8080, "port to listen on", "int"),
    Option(
        "workers",
        1,
        "server processes sharing the port, one per core; each keeps its own caches and "
        "rate budget (not with --sandbox)",
        "int",
    ),
    Option("upstream", "https://api.cloudflare.com/client/v4", "base URL of Cloudflare API v4"),
    Option(
        "sandbox",
        None,
        "serve the embedded v4 sandbox at /client/v4 and use it as the upstream; "
        "optional SEED.json with its users, zones and records",
        "optional_path",
    ),
    Option("mappings", None, "folder of extra mapping files that add or override actions", "path"),
    Option(
        "log-level", "info", "logging level", "choice", ("debug", "info", "warning", "error")
    ),
    Option(
        "rec-new-service-mode",
        "ignore",
        "what rec_new does with service_mode: ignore it as live v1 did, or honour it",
        "choice",
        ("ignore", "honour"),
    ),
    Option(
        "rec-page-size",
        0,
        "records per rec_load_all answer; 0 = every record in one answer, 180 = v1's paging",
        "int",
    ),
    Option(
        "access-rules-scope",
        "auto",
        "where wl/ban/nul keep IP rules: user level, account level, or auto (user, falling "
        "back to the accounts of the credential's zones)",
        "choice",
        ("user", "account", "auto"),
    ),
    Option("echo-token", False, "echo tkn in clear in the v1 request echo, as v1 did", "switch"),
    Option("max-body-bytes", 1024 * 1024, "largest request body accepted", "int"),
    Option("max-fields", 1000, "most form fields accepted in one request", "int"),
    Option("connect-timeout", 5.0, "seconds to wait for a connection to v4", "float"),
    Option(
        "read-timeout",
        15.0,
        "seconds to wait for a v4 answer to a read (a write, once sent, is waited for until "
        "the call deadline and never sent again after a timeout)",
        "float",
    ),
    Option(
        "call-deadline",
        25.0,
        "seconds one v1 call may spend on v4, retries included",
        "float",
    ),
    Option("retries", 2, "extra attempts for a v4 call that is safe to repeat", "int"),
    Option(
        "rate-budget",
        (1200, 300.0),
        "v4 calls each credential may make per window, as CALLS/SECONDS; the proxy answers "
        "E_MAXAPI before an action would exceed it",
        "budget",
    ),
    Option("max-header-bytes", 16384, "largest request head (request line and headers)", "int"),
    Option("max-headers", 100, "most request headers", "int"),
    Option(
        "header-timeout", 10.0, "seconds a client may take to send its request head, and its body",
        "float",
    ),
    Option("shutdown-grace", 20.0, "seconds in-flight calls may finish after SIGTERM", "float"),
    Option("tls-cert", None, "PEM certificate (chain) to serve HTTPS with", "path"),
    Option("tls-key", None, "PEM private key of --tls-cert", "path"),
    Option("log-format", "plain", "log lines as plain text or JSON lines", "choice",
           ("plain", "json")),
    Option(
        "migration-db",
        "~/.local/state/cf-v1-proxy/migration.sqlite3",
        "SQLite file of the migration report (every action seen, by client); empty = in memory",
    ),
    Option(
        "v4-token",
        None,
        "a v4 API token the proxy sends as Bearer instead of the clients' keys (token mode; "
        "needs --v1-credentials)",
    ),
    Option(
        "v1-credentials",
        None,
        "file of the v1 e-mail/key pairs accepted in token mode (keys stored hashed)",
        "path",
    ),
    Option("zone-cache-seconds", 300.0, "how long a zone name lookup is kept", "float"),
    Option("listing-cache-seconds", 30.0, "how long a zone listing serves a paging loop", "float"),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    upstream: str = "https://api.cloudflare.com/client/v4"
    # None = no sandbox; "" = sandbox with the demo seed; else the seed file's path.
    sandbox: str | None = None
    mappings: str | None = None
    log_level: str = "info"
    rec_new_service_mode: str = "ignore"
    rec_page_size: int = 0
    access_rules_scope: str = "auto"
    echo_token: bool = False
    max_body_bytes: int = 1024 * 1024
    max_fields: int = 1000
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    call_deadline: float = 25.0
    retries: int = 2
    rate_budget: tuple[int, float] = (1200, 300.0)
    max_header_bytes: int = 16384
    max_headers: int = 100
    header_timeout: float = 10.0
    shutdown_grace: float = 20.0
    tls_cert: str | None = None
    tls_key: str | None = None
    log_format: str = "plain"
    migration_db: str = "~/.local/state/cf-v1-proxy/migration.sqlite3"
    v4_token: str | None = None
    v1_credentials: str | None = None
    zone_cache_seconds: float = 300.0
    listing_cache_seconds: float = 30.0


class SettingsError(ValueError):
    """A setting has a value it cannot take; the message names the setting."""


def coerce(option: Option, raw: str) -> Any:
    """Turn a string from the command line or the environment into the option's type."""
    value = raw.strip()
    try:
        if option.kind == "int":
            number = int(value)
            if number < 0:
                raise SettingsError(f"{option.name}: {raw!r} must not be negative")
            return number
        if option.kind == "float":
            real = float(value)
            if not real > 0:
                raise ValueError
            return real
    except ValueError:
        raise SettingsError(f"{option.name}: {raw!r} is not a valid {option.kind}") from None
    if option.kind == "budget":
        calls, _, seconds = value.partition("/")
        try:
            budget = (int(calls), float(seconds))
        except ValueError:
            budget = (0, 0.0)
        if budget[0] < 1 or not budget[1] > 0:
            raise SettingsError(f"{option.name}: {raw!r} is not CALLS/SECONDS, e.g. 1200/300")
        return budget
    if option.kind == "switch":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(f"{option.name}: {raw!r} is not one of 1/0/true/false")
    if option.kind == "choice" and value not in option.choices:
        raise SettingsError(f"{option.name}: {raw!r} is not one of {', '.join(option.choices)}")
    if option.kind == "optional_path":
        # From the environment a switch word turns the sandbox on or off; anything else is a
        # seed file.
        if value.lower() in _TRUE:
            return ""
        if value.lower() in _FALSE:
            return None
    return value


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given as `CF_V1_PROXY_*` variables, already typed."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for option in OPTIONS:
        if option.env in environ:
            found[option.attr] = coerce(option, environ[option.env])
    return found


def to_environment(settings: Settings) -> dict[str, str | None]:
    """Every setting as the `CF_V1_PROXY_*` variable that reads back as it (None: unset).

    Worker processes (`--workers`) receive their settings this way.
    """
    found: dict[str, str | None] = {}
    for option in OPTIONS:
        value = getattr(settings, option.attr)
        if value is None:
            found[option.env] = None
        elif option.kind == "switch":
            found[option.env] = "1" if value else "0"
        elif option.kind == "budget":
            found[option.env] = f"{value[0]}/{value[1]!r}"
        elif option.kind == "optional_path" and value == "":
            found[option.env] = "1"
        else:
            found[option.env] = str(value)
    return found


def build(**given: Any) -> Settings:
    """Settings from typed values; unknown names are a programming error."""
    known = {f.name for f in fields(Settings)}
    unknown = set(given) - known
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    settings = Settings(**given)
    if not settings.upstream.startswith(("http://", "https://")):
        raise SettingsError(f"upstream: {settings.upstream!r} is not an http(s) URL")
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError("tls-cert and tls-key go together")
    if (settings.v4_token is None) != (settings.v1_credentials is None):
        raise SettingsError("v4-token and v1-credentials go together (token mode)")
    if settings.workers > 1 and settings.sandbox is not None:
        raise SettingsError(
            "workers: --workers above 1 cannot run --sandbox, because each worker would hold "
            "its own sandbox and a change made through one would be missing in the others"
        )
    for name in ("workers", "max_body_bytes", "max_fields", "max_header_bytes", "max_headers"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{name.replace('_', '-')}: must be at least 1")
    return settings

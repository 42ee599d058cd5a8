"""`python -m proxy.healthcheck`: exit 0 if the proxy in this container answers /healthz.

The container's HEALTHCHECK runs it. It reads the same `CF_V1_PROXY_*` variables as `serve`,
so it asks the port the proxy listens on, over HTTPS when `--tls-cert` is set. The
certificate names the host the clients know (`www.cloudflare.com`), not the loopback address
asked here, so it is not verified: this checks liveness, not identity.
"""

from __future__ import annotations

import ssl
import sys
import urllib.request

from proxy import settings as settings_module

PATH = "/healthz"
TIMEOUT_SECONDS = 2.0


def url(settings: settings_module.Settings) -> str:
    scheme = "https" if settings.tls_cert else "http"
    host = settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{settings.port}{PATH}"


def main() -> int:
    try:
        settings = settings_module.build(**settings_module.from_environment())
    except settings_module.SettingsError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    context = ssl._create_unverified_context() if settings.tls_cert else None
    try:
        with urllib.request.urlopen(url(settings), timeout=TIMEOUT_SECONDS, context=context) as r:
            return 0 if r.status == 200 else 1
    except OSError as exc:  # URLError, refused, timed out, TLS failure
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`--workers N`: N server processes sharing one listening socket, each running its own app.

uvicorn starts every worker in a fresh interpreter and finds the app by an import string, so
the settings travel as `CF_V1_PROXY_*` variables, which `proxy.settings` reads anyway. Each
worker keeps its own caches, rate budget and 429 blocks: a key's budget is per worker, and a
cold cache costs each worker its own first lookups. The parent process only supervises: it
restarts a worker that dies and, on SIGTERM, stops them all, each draining its calls.
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from proxy import server
from proxy import settings as settings_module
from proxy.settings import Settings


class WorkerProtocol(server.HardenedHttpToolsProtocol):
    """The hardened protocol of a worker; `app()` gives it the worker's limits."""


def run(settings: Settings) -> None:
    """Serve with `settings.workers` processes until SIGTERM or Ctrl+C."""
    for name, value in settings_module.to_environment(settings).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    config = server.config(
        "proxy.workers:app", settings,
        factory=True, http="proxy.workers:WorkerProtocol", workers=settings.workers,
    )
    socket = config.bind_socket()
    try:
        Multiprocess(config, sockets=[socket]).run()
    except KeyboardInterrupt:
        pass


def app() -> ASGIApp:
    """The app of one worker, from the settings its parent put in the environment."""
    from proxy.cli import assemble
    from proxy.logs import setup_logging
    from proxy.mapping import load

    settings = settings_module.build(**settings_module.from_environment())
    setup_logging(settings)
    WorkerProtocol.limits = server.Limits.from_settings(settings)
    table = load([settings.mappings] if settings.mappings else [])
    return server.CutShortAnswer(assemble(settings, table))

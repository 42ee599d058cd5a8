"""An in-memory Cloudflare API v4, for running legacy v1 apps through the proxy offline.

The sandbox answers every v4 endpoint the proxy calls, with v4's envelopes, validation and
error codes (see README.md in this folder). It imports nothing from the rest of `proxy`, and the
engine imports nothing from it: the CLI mounts it at `/client/v4` and points the engine there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from .app import build_app
from .seed import DEMO_EMAIL, DEMO_KEY, DEMO_TOKEN, SeedError, build_state, demo_seed, load_seed
from .state import SandboxState

__all__ = [
    "DEMO_EMAIL",
    "DEMO_KEY",
    "DEMO_TOKEN",
    "SandboxState",
    "SeedError",
    "create_sandbox_app",
    "demo_seed",
    "load_seed",
]


def create_sandbox_app(
    seed: dict[str, Any] | None = None, *, clock: Callable[[], float] = time.time
) -> Starlette:
    """A v4 sandbox app serving `/zones`, `/zones/{zone_id}/dns_records`, … below its mount.

    `seed` None means `demo_seed()`; a bad seed raises SeedError. `clock` gives the time for
    timestamps, development mode and the rate limit, so tests can move it by hand. The state
    is `app.state.sandbox`.
    """
    state = build_state(demo_seed() if seed is None else seed, clock)
    return build_app(state)

"""The shared steps a mapping entry can `use`, for what the table's data cannot say.

A step is registered with the arguments it takes, the values it needs before it runs and the
values it provides, so the loader can check a whole table before the proxy serves a call.
Modules by subject: `calls` (plain v4 calls, remembered values), `zones`, `records`,
`zone_settings`, `access_rules`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proxy.exchange import Exchange

StepFn = Callable[["Exchange", Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class StepKind:
    run: StepFn
    args: frozenset[str]
    required: frozenset[str]
    needs: tuple[str, ...]
    provides: tuple[str, ...]
    templated: tuple[str, ...]


STEPS: dict[str, StepKind] = {}


def step(
    name: str,
    *,
    args: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    needs: tuple[str, ...] = (),
    provides: tuple[str, ...] = (),
    templated: tuple[str, ...] = (),
) -> Callable[[StepFn], StepFn]:
    def register(run: StepFn) -> StepFn:
        STEPS[name] = StepKind(
            run, frozenset(args), frozenset(required), needs, provides, templated
        )
        return run

    return register


# Importing the modules registers their steps and filters.
from proxy.steps import access_rules, calls, records, zone_settings, zones  # noqa: E402

__all__ = ["STEPS", "StepKind", "access_rules", "calls", "records", "step", "zone_settings",
           "zones"]

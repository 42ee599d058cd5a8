"""The small value language of the mapping table.

In a template (a `response`, a call's `body` or `query`, a step argument):
- `"$name.path"` is a value from the exchange: a parameter after validation, or what an
  earlier step saved (`$zone.id`, `$setting.value`); `$null` is JSON null, `$now` Unix seconds;
- `"$value|filter|filter"` passes it through named filters (`FILTERS`);
- a trailing `?` (`"$expires_on?"`) leaves the key out when the value is missing or null;
- `"$$"` at the start is a literal `$`;
- anything else is a literal, tables and arrays are rendered member by member.
Paths of v4 calls use `{zone.id}`-style placeholders instead, and those may only name ids
(see `render_path`), so no client input can ever become part of a v4 path.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from proxy.ids import is_v4_id

REFERENCE = re.compile(
    r"\$(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)"
    r"(?P<filters>(?:\|[a-z_0-9]+)*)(?P<optional>\?)?"
)
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")

Filter = Callable[[Any, Mapping[str, Any]], Any]

# Filled by the modules that own the shapes (proxy.steps registers v1_zone, v1_record, …).
FILTERS: dict[str, Filter] = {
    "str": lambda value, _: None if value is None else str(value),
    "int": lambda value, _: None if value is None else int(value),
    "len": lambda value, _: len(value),
    "epoch_after": lambda value, _: (
        int(time.time()) + int(value) if isinstance(value, (int, float)) and value > 0 else None
    ),
}


class _Omit:
    """Marks a value left out by an optional reference."""


OMIT = _Omit()


class TemplateError(LookupError):
    """A reference names nothing in the exchange: a table mistake or a missing step."""


def lookup(path: str, values: Mapping[str, Any]) -> Any:
    if path == "null":
        return None
    if path == "now":
        return int(time.time())
    current: Any = values
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise KeyError(path)
    return current


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with every reference replaced (see the module docstring).

    An optional reference that finds nothing renders as None at the top level.
    """
    rendered = _render(template, values)
    return None if rendered is OMIT else rendered


def _render(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        return _render_string(template, values)
    if isinstance(template, Mapping):
        rendered = {key: _render(item, values) for key, item in template.items()}
        return {key: item for key, item in rendered.items() if item is not OMIT}
    if isinstance(template, list):
        return [item for item in (_render(x, values) for x in template) if item is not OMIT]
    return template


def _render_string(template: str, values: Mapping[str, Any]) -> Any:
    if template.startswith("$$"):
        return template[1:]
    match = REFERENCE.fullmatch(template)
    if not match:
        return template
    optional = match["optional"] is not None
    try:
        value = lookup(match["path"], values)
    except KeyError:
        if optional:
            return OMIT
        raise TemplateError(f"nothing named {match['path']!r} here") from None
    for name in filter(None, match["filters"].split("|")):
        value = FILTERS[name](value, values)
    if optional and value is None:
        return OMIT
    return value


def render_path(template: str, values: Mapping[str, Any]) -> str:
    """A v4 path; each placeholder must hold a 32-hex v4 id that came from a lookup."""

    def substitute(match: re.Match[str]) -> str:
        value = lookup(match[1], values)
        if not isinstance(value, str) or not is_v4_id(value):
            raise TemplateError(f"{match[1]} is not a v4 id")
        return value

    return PLACEHOLDER.sub(substitute, template)


def references(template: Any) -> set[str]:
    """Every name a template refers to (first path part), for checks at load time."""
    return {match["path"].split(".")[0] for match in _references_in(template)}


def filters_used(template: Any) -> set[str]:
    return {name for match in _references_in(template)
            for name in match["filters"].split("|") if name}


def _references_in(template: Any) -> Iterator[re.Match[str]]:
    if isinstance(template, str):
        match = REFERENCE.fullmatch(template)
        if match and not template.startswith("$$"):
            yield match
    elif isinstance(template, Mapping):
        for item in template.values():
            yield from _references_in(item)
    elif isinstance(template, list):
        for item in template:
            yield from _references_in(item)

"""Stage 2: the mapping table, loaded from `mappings/*.toml` and checked as a whole at start.

The table is data: one entry per v1 action, with its parameters, the v4 calls or shared steps
it runs, and the shape of its v1 answer (the format is described in `mappings/README.md`).
A table that does not hold together stops the start with a message naming the file, the
action and the key, so a typo never surfaces as a failed call in production.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxy import templates
from proxy.params import KINDS, ParamSpec
from proxy.steps import STEPS

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
BUILTIN_VALUES = {"now", "null"}

_ENTRY_KEYS = {"summary", "v4", "gone", "aliases", "echo", "zone", "params", "steps",
               "response", "attributes", "cost"}
_GONE_KEYS = {"summary", "v4", "gone", "aliases"}
_PARAM_KEYS = {"kind", "required", "default", "values", "reject", "min", "max", "error"}
_CALL_KEYS = {"call", "query", "body", "save", "target", "set", "idempotent"}


class MappingError(ValueError):
    """The table is inconsistent; the message says where."""


@dataclass(frozen=True)
class Step:
    use: str  # "call" for a plain v4 call, else a shared step of proxy.steps
    args: Mapping[str, Any]


@dataclass(frozen=True)
class ActionMapping:
    name: str
    summary: str
    source: str
    v4: str = ""
    gone: str | None = None
    aliases: tuple[str, ...] = ()
    echo: bool = False
    zone: bool = False
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    response: Any = None
    attributes: Any = None
    # v4 calls the action usually needs, reserved from the rate budget before it starts.
    cost: int = 1


@dataclass(frozen=True)
class MappingTable:
    actions: Mapping[str, ActionMapping]
    aliases: Mapping[str, str]

    def find(self, name: str) -> ActionMapping | None:
        return self.actions.get(self.aliases.get(name, name))

    @property
    def mapped(self) -> list[str]:
        return sorted(name for name, entry in self.actions.items() if entry.gone is None)


def builtin_dir() -> Path:
    """The shipped table: inside the wheel, or beside the package in a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_mappings", package.parent / "mappings"):
        if candidate.is_dir():
            return candidate
    raise MappingError(f"no mappings folder found near {package}")


def load(extra_dirs: Iterable[str | Path] = ()) -> MappingTable:
    """The built-in table, then each extra folder; a later entry replaces an earlier one."""
    actions: dict[str, ActionMapping] = {}
    for folder in (builtin_dir(), *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise MappingError(f"{folder}: not a folder of mapping files")
        for path in sorted(folder.glob("*.toml")):
            for entry in _load_file(path):
                actions[entry.name] = entry

    aliases: dict[str, str] = {}
    for entry in actions.values():
        for alias in entry.aliases:
            if alias in actions or alias in aliases:
                raise MappingError(f"{entry.source}: action {entry.name}: alias {alias} is taken")
            aliases[alias] = entry.name
    return MappingTable(actions, aliases)


def _load_file(path: Path) -> list[ActionMapping]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    entries = []
    for name, raw in data.items():
        where = f"{path}: action {name}"
        if not isinstance(raw, dict):
            raise MappingError(f"{where}: must be a table")
        entries.append(_entry(name, raw, where, str(path)))
    return entries


def _entry(name: str, raw: dict[str, Any], where: str, source: str) -> ActionMapping:
    _only(raw, _GONE_KEYS if "gone" in raw else _ENTRY_KEYS, where)
    summary = _typed(raw, "summary", str, where, required=True)
    aliases = tuple(_typed(raw, "aliases", list, where) or ())
    if not all(isinstance(alias, str) for alias in aliases):
        raise MappingError(f"{where}: key aliases: must be a list of names")
    if "gone" in raw:
        gone = _typed(raw, "gone", str, where, required=True)
        return ActionMapping(name, summary, source, raw.get("v4", ""), gone, aliases)

    params = {
        pname: _param(pname, spec, f"{where}: key params.{pname}")
        for pname, spec in (_typed(raw, "params", dict, where) or {}).items()
    }
    zone = bool(_typed(raw, "zone", bool, where))
    known = set(params) | BUILTIN_VALUES | ({"zone"} if zone else set())

    steps = []
    for index, step_raw in enumerate(_typed(raw, "steps", list, where) or []):
        step_where = f"{where}: key steps[{index}]"
        step = _step(step_raw, step_where, known)
        steps.append(step)
        known |= _provided(step)

    response = raw.get("response")
    attributes = raw.get("attributes")
    for key, template in (("response", response), ("attributes", attributes)):
        _check_template(template, known, f"{where}: key {key}")

    cost = _typed(raw, "cost", int, where)
    if cost is not None and cost < 1:
        raise MappingError(f"{where}: key cost must be at least 1")

    return ActionMapping(
        name=name,
        summary=summary,
        source=source,
        v4=_typed(raw, "v4", str, where) or "",
        aliases=aliases,
        echo=bool(_typed(raw, "echo", bool, where)),
        zone=zone,
        params=params,
        steps=tuple(steps),
        response=response,
        attributes=attributes,
        # Unless the table says otherwise: a zone lookup plus one call per step.
        cost=cost or (int(zone) + max(1, len(steps))),
    )


def _param(name: str, spec: Any, where: str) -> ParamSpec:
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: must be a table")
    _only(spec, _PARAM_KEYS, where)
    kind = spec.get("kind")
    if kind not in KINDS:
        raise MappingError(f"{where}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    values = spec.get("values", {})
    if isinstance(values, list):
        values = {str(v): str(v) for v in values}
    if not isinstance(values, dict):
        raise MappingError(f"{where}: values must be a table or a list")
    if kind in ("choice", "switch") and not values:
        raise MappingError(f"{where}: kind {kind} needs values")
    if kind == "switch" and set(values) != {"on", "off"}:
        raise MappingError(f"{where}: a switch needs values.on and values.off")
    error = spec.get("error", "input")
    if error not in ("input", "record", "zone"):
        raise MappingError(f"{where}: error must be input, record or zone")
    default = spec.get("default")
    if default is not None and not isinstance(default, str):
        raise MappingError(f"{where}: default must be a string, as v1 values are")
    return ParamSpec(
        name=name,
        kind=kind,
        required=bool(spec.get("required", False)),
        default=default,
        values=values,
        reject=dict(spec.get("reject", {})),
        minimum=spec.get("min"),
        maximum=spec.get("max"),
        error=error,
    )


def _step(raw: Any, where: str, known: set[str]) -> Step:
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: must be a table")
    if "call" in raw:
        _only(raw, _CALL_KEYS, where)
        method, _, path = str(raw["call"]).partition(" ")
        if method not in METHODS or not path.startswith("/"):
            raise MappingError(f"{where}: call must read 'METHOD /path', got {raw['call']!r}")
        for placeholder in templates.PLACEHOLDER.findall(path):
            if placeholder.split(".")[0] not in known:
                raise MappingError(f"{where}: path names {placeholder}, which is not known here")
        if raw.get("target", "zone") not in ("zone", "record", "input"):
            raise MappingError(f"{where}: target must be zone, record or input")
        for key in ("query", "body"):
            _check_template(raw.get(key), known, f"{where}.{key}")
        saved = {raw["save"]} if "save" in raw else set()
        _check_template(raw.get("set"), known | saved, f"{where}.set")
        return Step("call", {**raw, "method": method, "path": path})

    use = raw.get("use")
    if use not in STEPS:
        raise MappingError(f"{where}: use {use!r} is not a known step ({', '.join(sorted(STEPS))})")
    kind = STEPS[use]
    args = {key: value for key, value in raw.items() if key != "use"}
    _only(args, set(kind.args), where)
    missing = set(kind.required) - set(args)
    if missing:
        raise MappingError(f"{where}: step {use} needs {', '.join(sorted(missing))}")
    for needed in kind.needs:
        if needed not in known:
            raise MappingError(f"{where}: step {use} needs {needed!r} before it")
    for key in kind.templated:
        _check_template(args.get(key), known, f"{where}.{key}")
    return Step(use, args)


def _provided(step: Step) -> set[str]:
    names = {step.args["save"]} if "save" in step.args else set()
    if step.use != "call":
        names |= set(STEPS[step.use].provides)
    return names


def _check_template(template: Any, known: set[str], where: str) -> None:
    unknown = templates.references(template) - known
    if unknown:
        raise MappingError(f"{where}: refers to {', '.join(sorted(unknown))}, not known here")
    missing = templates.filters_used(template) - set(templates.FILTERS)
    if missing:
        raise MappingError(f"{where}: unknown filter {', '.join(sorted(missing))}")


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = set(raw) - allowed
    if extra:
        raise MappingError(f"{where}: unknown key {', '.join(sorted(extra))}")


def _typed(raw: Mapping[str, Any], key: str, kind: type, where: str, required: bool = False) -> Any:
    if key not in raw:
        if required:
            raise MappingError(f"{where}: key {key} is missing")
        return None
    value = raw[key]
    if not isinstance(value, kind):
        raise MappingError(f"{where}: key {key} must be a {kind.__name__}")
    return value

"""Checks of v4 traffic against Cloudflare's own OpenAPI schema (the subset in `../shared`).

`check_v4_request` and `check_v4_response` raise AssertionError, with the reason, for anything
the schema refuses, and for a path or method it does not have: that is how tests prove the
proxy only calls mapped v4 endpoints. The schema file is `<repo>/../shared/cloudflare-v4-openapi/
openapi-subset.json`, or the file named by CF_V1_PROXY_OPENAPI; it is parsed once per process.

Where the 2024 schema and the live API differ, the live API wins (`shared/reference/v4-api.md`
and the schema folder's README), each case handled in one place below:

- DNS record bodies: openapi-core trips on SRV's read-only `content` inside the `oneOf`, and
  the schema gives PATCH the full record. Record bodies are therefore checked against the
  record type's own schema with OAS30WriteValidator (PATCH: `required` ignored; a PATCH
  without `type` passes if any type's schema takes it). Records in answers are checked
  against their type's schema too: faster than the `oneOf`, and the message says why.
- Query parameters are checked here from the operation's declared schemas: an undeclared
  one is refused, and booleans must be `true` or `false`.
- Host names (`format: hostname`) are checked (jsonschema skips them without `fqdn`);
  underscores and the null SRV target "." are allowed.
- The schema wants a body on a DNS record DELETE; the live API takes none.
- A per-setting PATCH is `{"value": …}`: checked against that setting's own schema.
- Failure answers: the schema's 4XX bodies for records, purges and access rules demand
  `success: true` and `false` at once, and the live rate-limit code 971 is below the schema's
  minimum of 1000. Every failure is checked against one strict envelope instead.
- Live answers also carry `result_info.total_pages` and `comment: null` on records, and no
  longer carry `zone_id`, `zone_name` or `locked` on records (their presence is an error here).
- Retired endpoints still in the schema (bulk settings, the analytics dashboard, the minify,
  mirage, server_side_exclude and waf settings) are refused as requests.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator, OAS30WriteValidator, oas30_format_checker

ENV_VAR = "CF_V1_PROXY_OPENAPI"
HOST = "https://api.cloudflare.com"
PREFIX = "/client/v4"
RECORDS = "/zones/{zone_id}/dns_records"
RECORD = "/zones/{zone_id}/dns_records/{dns_record_id}"
SETTING = "/zones/{zone_id}/settings/{setting_id}"
RETIRED = {
    ("GET", "/zones/{zone_id}/settings"): "bulk zone settings (end of life 2026-09-15)",
    ("PATCH", "/zones/{zone_id}/settings"): "bulk zone settings (end of life 2026-09-15)",
    ("GET", "/zones/{zone_identifier}/analytics/dashboard"): "zone analytics (end of life 2021)",
}
RETIRED_SETTINGS = {"minify", "mirage", "server_side_exclude", "waf"}
REMOVED_RECORD_FIELDS = ("zone_id", "zone_name", "locked")
DEPRECATED_SRV_DATA = ("service", "proto", "name")
# Credentials only to satisfy the schema's security requirement; they are never checked.
_AUTH = {"X-Auth-Email": "checker@example.com", "X-Auth-Key": "0" * 37}

_ERROR_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "error_chain": {"type": "array", "items": {"$ref": "#/definitions/item"}},
    },
}
FAILURE_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["success", "errors", "messages", "result"],
    "properties": {
        "success": {"enum": [False]},
        "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/item"}},
        "messages": {"type": "array"},
        "result": {"enum": [None], "nullable": True},
    },
    "definitions": {"item": _ERROR_ITEM},
}

_FAILURE = OAS30Validator(FAILURE_ENVELOPE)
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def is_hostname(value: object) -> bool:
    """RFC 1123 host names, plus underscores (DNS uses them) and "." (the null SRV target)."""
    if not isinstance(value, str):
        return True  # a format never judges other types
    if value == ".":
        return True
    host = value[:-1] if value.endswith(".") else value
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return all(_HOST_LABEL.match(label) for label in host.split("."))
    return False


FORMATS = FormatChecker()
FORMATS.checkers.update(oas30_format_checker.checkers)
FORMATS.checks("hostname")(is_hostname)


def spec_file() -> Path:
    """The schema file: CF_V1_PROXY_OPENAPI, else the copy in ../shared beside the repo."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "cloudflare-v4-openapi" / "openapi-subset.json"


@dataclass(frozen=True)
class _Spec:
    paths: dict[str, Any]  # as published
    schemas: dict[str, Any]  # with the live-API differences applied
    api: OpenAPI  # built from the patched schema
    # (template, pattern), longest template first, so literal segments win
    templates: list[tuple[str, re.Pattern[str]]]
    record_types: tuple[str, ...]
    setting_ids: frozenset[str]


def _patched(raw: dict[str, Any]) -> dict[str, Any]:
    """The schema with the live-API differences of the module docstring applied."""
    spec = copy.deepcopy(raw)
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    schemas["dns-records_comment"]["nullable"] = True
    # Query parameters are checked here, from cached schemas: openapi-core walks every
    # declared one on every call (26 for a record listing), which made each check slow.
    for item in paths.values():
        for operation in item.values():
            operation["parameters"] = [
                p for p in operation.get("parameters", []) if p.get("in") != "query"
            ]
    paths[RECORD]["delete"]["requestBody"]["required"] = False
    # Records (bodies and answers) are checked per type, setting bodies per setting, here.
    schemas["dns-records_dns-record"] = {"type": "object"}
    paths[SETTING]["patch"]["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "object"
    }
    return spec


@functools.cache
def _load() -> _Spec:
    raw = json.loads(spec_file().read_text(encoding="utf-8"))
    patched = _patched(raw)
    config = Config(extra_format_validators={"hostname": is_hostname})
    templates = [
        (template, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"))
        for template in sorted(raw["paths"], key=len, reverse=True)
    ]
    schemas = raw["components"]["schemas"]
    return _Spec(
        paths=raw["paths"],
        schemas=patched["components"]["schemas"],
        api=OpenAPI.from_dict(patched, config=config),
        templates=templates,
        record_types=tuple(ref["$ref"].rsplit("_", 1)[-1].removesuffix("Record")
                           for ref in schemas["dns-records_dns-record"]["oneOf"]),
        setting_ids=frozenset(ref["$ref"].split("zones_", 1)[-1]
                              for ref in schemas["zones_setting"]["oneOf"]),
    )


Pairs = list[tuple[str, str]]


def _split(url_path: str, query: Mapping[str, str] | str | None) -> tuple[str, Pairs]:
    """The path below /client/v4 and the query as pairs (from the argument or the path).

    A whole URL is taken too, so a test can pass `str(request.url)`.
    """
    if "://" in url_path:
        parts = urlsplit(url_path)
        url_path = parts.path + (f"?{parts.query}" if parts.query else "")
    path, _, in_path = url_path.partition("?")
    if path.startswith(PREFIX + "/"):
        path = path[len(PREFIX) :]
    pairs = parse_qsl(in_path, keep_blank_values=True)
    if isinstance(query, str):
        pairs += parse_qsl(query.lstrip("?"), keep_blank_values=True)
    elif query:
        pairs += [(str(k), str(v)) for k, v in query.items()]
    return path, pairs


def _operation(spec: _Spec, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The schema's template and operation for this call, or None when it has none."""
    for template, pattern in spec.templates:
        if pattern.match(path):
            operation = spec.paths[template].get(method.lower())
            return (template, operation) if operation else None
    return None


def _messages(errors: Iterable[Any], prefix: str = "") -> str:
    """One readable line per problem, from openapi-core and jsonschema errors alike.

    openapi-core wraps the schema errors, whose own text repeats the whole value; the lines
    show where each problem is and its most specific reason instead.
    """
    lines: list[str] = []
    for error in errors:
        if isinstance(error, ValidationError):
            for leaf in _leaves(error):
                where = "/".join([prefix, *map(str, leaf.absolute_path)]).strip("/") or "(top)"
                shown, text = repr(leaf.instance), leaf.message
                if len(shown) > 60:  # jsonschema quotes the whole value; say where instead
                    text = text.replace(shown, "the value")
                lines.append(f"{where}: {text}")
            continue
        nested = list(getattr(error, "schema_errors", None) or [])
        nested += list(getattr(error.__cause__, "schema_errors", None) or [])
        if nested:
            lines += _messages(nested, prefix).splitlines()
        elif error.__cause__ is not None:
            lines.append(f"{type(error).__name__}: {error}: {error.__cause__}")
        else:
            lines.append(f"{type(error).__name__}: {error}")
    return "\n".join(lines)


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that explain a oneOf/anyOf miss: those of the one branch whose `type` or
    `id` (the schema's discriminators: record type, setting id) fits the value."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [best_match([error])]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        subs for subs in branches.values()
        if not any(s.validator == "enum" and list(s.relative_path) in (["type"], ["id"])
                   for s in subs)
    ]
    if len(fitting) != 1:
        return [best_match([error])]
    return [leaf for sub in fitting[0] for leaf in _leaves(sub)]


def _resolved(spec: _Spec, node: Any, *, drop_required: bool) -> Any:
    """A schema with its $refs inlined (and `required` dropped, for partial bodies)."""
    if isinstance(node, list):
        return [_resolved(spec, item, drop_required=drop_required) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = spec.schemas[node["$ref"].rsplit("/", 1)[-1]]
        return _resolved(spec, target, drop_required=drop_required)
    return {
        key: _resolved(spec, value, drop_required=drop_required)
        for key, value in node.items()
        if not (drop_required and key == "required")
    }


@functools.cache
def _component_validator(name: str, partial: bool, write: bool) -> OAS30Validator:
    spec = _load()
    schema = _resolved(spec, spec.schemas[name], drop_required=partial)
    cls = OAS30WriteValidator if write else OAS30Validator
    return cls(schema, format_checker=FORMATS)


def _record_body(method: str, body: Any) -> list[str]:
    """Reasons a DNS record body is refused: checked against its type's own schema."""
    if not isinstance(body, dict):
        return ["a DNS record body must be a JSON object"]
    problems = [f"{field} was removed from v4 records" for field in REMOVED_RECORD_FIELDS
                if field in body]
    data = body.get("data")
    if body.get("type") == "SRV" and isinstance(data, dict):
        problems += [f"data.{key} is deprecated (send name + data)" for key in
                     DEPRECATED_SRV_DATA if key in data]
    partial = method == "PATCH"
    rtype = body.get("type")
    types = [rtype] if isinstance(rtype, str) else []
    if not types:
        if not partial:
            return [*problems, "type is required"]
        types = list(_load().record_types)
    elif rtype not in _load().record_types:
        return [*problems, f"type {rtype!r} is not a v4 record type"]
    best: list[str] | None = None
    for candidate in types:
        validator = _component_validator(f"dns-records_{candidate}Record", partial, True)
        errors = _messages(validator.iter_errors(body)).splitlines()
        if not errors:
            return problems
        best = errors if best is None else best
    return problems + (best or [])


def _setting_body(setting_id: str, body: Any) -> list[str]:
    if not isinstance(body, dict) or "value" not in body:
        return ['a setting PATCH body is {"value": …}']
    validator = _component_validator(f"zones_{setting_id}", False, True)
    return _messages(validator.iter_errors({"id": setting_id, **body})).splitlines()


@functools.cache
def _query_parameters(template: str, method: str) -> dict[str, tuple[str, OAS30Validator]]:
    """The operation's query parameters: JSON type and a validator of each."""
    spec = _load()
    declared: dict[str, tuple[str, OAS30Validator]] = {}
    for parameter in spec.paths[template][method.lower()].get("parameters", []):
        if parameter.get("in") == "query":
            schema = _resolved(spec, parameter.get("schema", {}), drop_required=False)
            validator = OAS30Validator(schema, format_checker=FORMATS)
            declared[parameter["name"]] = (schema.get("type", "string"), validator)
    return declared


def _query_problems(template: str, method: str, pairs: Pairs) -> list[str]:
    """Every query parameter must be declared and valid once cast to its type. Booleans must
    be `true` or `false`, as v4 documents (openapi-core would also take yes/no/1/0)."""
    declared = _query_parameters(template, method)
    problems: list[str] = []
    for name, text in pairs:
        if name not in declared:
            problems.append(f"query parameter {name!r} is not in the schema")
            continue
        kind, validator = declared[name]
        value: Any = text
        try:
            if kind in ("number", "integer"):
                value = int(text) if kind == "integer" else float(text)
            elif kind == "boolean":
                value = {"true": True, "false": False}[text]
        except (KeyError, ValueError):
            problems.append(f"query/{name}: {text!r} is not of type {kind!r}")
            continue
        problems += _messages(validator.iter_errors(value), f"query/{name}").splitlines()
    return problems


def check_v4_request(
    method: str, url_path: str, query: Mapping[str, str] | str | None, body: Any | None
) -> None:
    """AssertionError unless this is a call the v4 schema has, with valid query and body."""
    spec = _load()
    method = method.upper()
    path, pairs = _split(url_path, query)
    found = _operation(spec, method, path)
    if found is None:
        raise AssertionError(f"{method} {path} is not a v4 operation in the OpenAPI schema")
    template, _ = found
    if (method, template) in RETIRED:
        raise AssertionError(f"{method} {path} is retired: {RETIRED[method, template]}")

    problems = _query_problems(template, method, pairs)
    if template in (RECORDS, RECORD) and method in ("POST", "PUT", "PATCH"):
        problems += _record_body(method, body)
    if template == SETTING:
        setting_id = path.rsplit("/", 1)[-1]
        if setting_id in RETIRED_SETTINGS or setting_id not in spec.setting_ids:
            problems.append(f"zone setting {setting_id!r} is retired or unknown")
        elif method == "PATCH":
            problems += _setting_body(setting_id, body)

    request = MockRequest(
        HOST, method, PREFIX + path, headers=_AUTH,
        data=None if body is None else json.dumps(body).encode(),
    )
    errors = list(spec.api.iter_request_errors(request)) if not problems else []
    problems += _messages(errors).splitlines()
    if problems:
        raise AssertionError(f"{method} {path} does not match the v4 schema:\n" +
                             "\n".join(problems))


def check_v4_response(method: str, url_path: str, status: int, body: Any) -> None:
    """AssertionError unless the answer is what v4 sends for this call and status."""
    spec = _load()
    method = method.upper()
    path, _ = _split(url_path, None)
    if status >= 400:
        problems = _messages(_FAILURE.iter_errors(body)).splitlines()
        if problems:
            raise AssertionError(f"{method} {path} {status}: not a v4 failure envelope:\n" +
                                 "\n".join(problems))
        return
    found = _operation(spec, method, path)
    if found is None:
        raise AssertionError(f"{method} {path} answered {status}, but v4 has no such operation")
    template, _ = found
    problems = _live_differences(method, template, body)
    request = MockRequest(HOST, method, PREFIX + path, headers=_AUTH)
    response = MockResponse(json.dumps(body).encode(), status_code=status)
    problems += _messages(spec.api.iter_response_errors(request, response)).splitlines()
    if problems:
        raise AssertionError(f"{method} {path} {status} does not match the v4 schema:\n" +
                             "\n".join(problems))


def _live_differences(method: str, template: str, body: Any) -> list[str]:
    """What the live API sends differently from the schema on a successful answer, and
    records checked against their own type's schema."""
    if not isinstance(body, dict) or body.get("success") is not True:
        return ["a 2xx answer must be an envelope with success true"]
    problems: list[str] = []
    result, info = body.get("result"), body.get("result_info")
    if isinstance(result, list):
        if not isinstance(info, dict) or not isinstance(info.get("total_pages"), int):
            problems.append("a list answer needs result_info with total_pages")
    if template in (RECORDS, RECORD) and method != "DELETE":
        if isinstance(result, list):
            records = [(f"result/{n}", record) for n, record in enumerate(result)]
        else:
            records = [("result", result)]
        for where, record in records:
            problems += _record_answer(record, where)
    return problems


def _record_answer(record: Any, where: str) -> list[str]:
    """A record answer against its type's own schema (the `oneOf` of all types is slow and
    says nothing useful when it fails)."""
    if not isinstance(record, dict):
        return [f"{where}: a record must be an object"]
    problems = [f"{where}/{field}: removed from v4 records, must not be sent" for field in
                REMOVED_RECORD_FIELDS if field in record]
    rtype = record.get("type")
    if rtype not in _load().record_types:
        return [*problems, f"{where}/type: {rtype!r} is not a v4 record type"]
    validator = _component_validator(f"dns-records_{rtype}Record", False, False)
    return problems + _messages(validator.iter_errors(record), where).splitlines()

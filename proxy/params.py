"""Stage 3a: a v1 call's parameters checked and converted, as its table entry declares.

Each parameter has a `kind`; the kind turns the string a client sent into the value the
steps use (a v4 setting value, an int, a normalised IP, …) or refuses it with an
`E_INVLDINPUT` that names the parameter (`v1-api.md` §3, `v4-api.md` §14.5–14.6).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from proxy.errors import V1Error, invalid_input, invalid_record_id, invalid_zone

_UNSAFE_CHARS = {chr(c) for c in range(0x20)} | {"\x7f"}
# ASCII digits only: str.isdigit() also admits "²" and "٣", which int() then refuses or reads.
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    required: bool = False
    default: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    reject: Mapping[str, str] = field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None
    # Which v1 error a missing or bad value gives: most are E_INVLDINPUT, but a bad record
    # id must read "Invalid record id." (libcloud matches on it).
    error: str = "input"


def _bad(spec: ParamSpec) -> V1Error:
    if spec.error == "record":
        return invalid_record_id()
    if spec.error == "zone":
        return invalid_zone()
    return invalid_input(f"Invalid value for {spec.name}.")


def _text(spec: ParamSpec, raw: str) -> str:
    value = raw.strip()
    if any(ch in _UNSAFE_CHARS for ch in value):
        raise _bad(spec)
    return value


def _verbatim(spec: ParamSpec, raw: str) -> str:
    """Text as sent, surrounding spaces included (a TXT record's spaces are its data); only
    line breaks and tabs at the ends, which no record holds, are dropped."""
    value = raw.strip("\r\n\t")
    if any(ch in _UNSAFE_CHARS for ch in value):
        raise _bad(spec)
    return value


def _choice(spec: ParamSpec, raw: str) -> Any:
    value = raw.strip()
    if value in spec.reject:
        raise invalid_input(spec.reject[value])
    if value not in spec.values:
        raise _bad(spec)
    return spec.values[value]


def _integer(spec: ParamSpec, raw: str) -> int:
    value = raw.strip()
    if not _INTEGER.fullmatch(value):
        raise _bad(spec)
    number = int(value)
    if spec.minimum is not None and number < spec.minimum:
        raise _bad(spec)
    if spec.maximum is not None and number > spec.maximum:
        raise _bad(spec)
    return number


def _switch(spec: ParamSpec, raw: str) -> Any:
    """0 is off, any other integer is on (clients send 1 or 3 for ipv46 on)."""
    if raw.strip().lower() in ("true", "false"):
        number = 1 if raw.strip().lower() == "true" else 0
    else:
        number = _integer(spec, raw)
    return spec.values["on" if number else "off"]


def _ttl(spec: ParamSpec, raw: str) -> int:
    """1 = automatic; 60–86400 as is; above 86400 lowered to v1's own ceiling."""
    value = raw.strip()
    if not _DIGITS.fullmatch(value):
        raise invalid_input("Invalid value for ttl: use 1 (automatic) or 60 to 86400 seconds.")
    ttl = int(value)
    if ttl == 1 or 60 <= ttl <= 86400:
        return ttl
    if ttl > 86400:
        return 86400
    raise invalid_input("Invalid value for ttl: use 1 (automatic) or 60 to 86400 seconds.")


def _address(spec: ParamSpec, raw: str) -> dict[str, str]:
    """An IP or CIDR as a v4 access-rule target: `{"target": …, "value": …}`."""
    value = raw.strip()
    message = (
        f"Invalid value for {spec.name}: use an IPv4 or IPv6 address, or a range of /16 or /24 "
        "(IPv4) or /32, /48 or /64 (IPv6)."
    )
    try:
        if "/" not in value:
            address = ipaddress.ip_address(value)
            return {"target": "ip" if address.version == 4 else "ip6", "value": str(address)}
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise invalid_input(message) from None
    full = 32 if network.version == 4 else 128
    if network.prefixlen == full:
        target = "ip" if network.version == 4 else "ip6"
        return {"target": target, "value": str(network.network_address)}
    allowed = (16, 24) if network.version == 4 else (32, 48, 64)
    if network.prefixlen not in allowed:
        raise invalid_input(message)
    return {"target": "ip_range", "value": str(network)}


def _url(spec: ParamSpec, raw: str) -> str:
    """A full URL to purge; a space is sent as %20, the form a browser requests it in."""
    value = raw.strip().replace(" ", "%20")
    if any(ch in _UNSAFE_CHARS or ch.isspace() for ch in value):
        raise invalid_input(f"Invalid value for {spec.name}: control characters are not allowed.")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise invalid_input(f"Invalid value for {spec.name}: give a full URL with http(s)://.")
    return value


def _names(spec: ParamSpec, raw: str) -> list[str]:
    """A comma-separated list; empty items are skipped (a Node library adds a trailing comma)."""
    names = [item.strip() for item in raw.split(",")]
    names = [name for name in names if name]
    if not names or any(ch in _UNSAFE_CHARS for name in names for ch in name):
        raise _bad(spec)
    return names


def _offset(spec: ParamSpec, raw: str) -> int:
    value = raw.strip()
    if not value:
        return 0
    if not _DIGITS.fullmatch(value) or len(value) > 12:
        raise invalid_input(f"Invalid value for {spec.name}: give a non-negative integer.")
    return int(value)


def _upper(spec: ParamSpec, raw: str) -> str:
    value = raw.strip().upper()
    if value in spec.reject:
        raise invalid_input(spec.reject[value])
    if spec.values and value not in spec.values:
        raise invalid_input(f"Invalid value for {spec.name}.")
    return value


KINDS: dict[str, Callable[[ParamSpec, str], Any]] = {
    "text": _text,
    "verbatim": _verbatim,
    "choice": _choice,
    "int": _integer,
    "switch": _switch,
    "ttl": _ttl,
    "address": _address,
    "url": _url,
    "names": _names,
    "offset": _offset,
    "record_type": _upper,
}


def validate(specs: Mapping[str, ParamSpec], params: Mapping[str, str]) -> dict[str, Any]:
    """The declared parameters, converted; absent optional ones are simply not there."""
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = params.get(name)
        # An empty value counts as missing, except that an optional text may be sent empty
        # on purpose (the steps decide what an empty `content` means).
        if raw is None or (
            raw.strip() == "" and (spec.kind not in ("text", "verbatim") or spec.required)
        ):
            if spec.default is not None:
                raw = spec.default
            elif spec.required:
                if spec.error != "input":
                    raise _bad(spec)
                raise invalid_input(f"Missing parameter {name}.")
            else:
                continue
        values[name] = KINDS[spec.kind](spec, raw)
    return values

"""DNS record rules of API v4: what a record body must hold, and how it is stored.

Pure functions, no state: `validate_record` turns a (merged) request body into `RecordFields`
or raises `ApiError`. The rules follow `shared/reference/v4-api.md` §7; the codes are listed in
`errors.py` and the README.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import idna

from .errors import ApiError, dns_field_error

RECORD_TYPES = frozenset(
    "A AAAA CAA CERT CNAME DNSKEY DS HTTPS LOC MX NAPTR NS PTR SMIMEA SRV SSHFP SVCB TLSA TXT URI"
    .split()
)
PROXIABLE_TYPES = frozenset({"A", "AAAA", "CNAME"})
# Types whose content v4 builds, read-only, from a structured `data` object.
DATA_TYPES = frozenset(
    "CAA CERT DNSKEY DS HTTPS LOC NAPTR SMIMEA SRV SSHFP SVCB TLSA URI".split()
)
HOST_CONTENT_TYPES = frozenset({"CNAME", "NS", "MX", "PTR"})
PRIORITY_TYPES = frozenset({"MX", "URI"})
# Fields a request may set; anything else in a body is ignored, as v4 does.
WRITABLE_FIELDS = (
    "type", "name", "content", "proxied", "ttl", "priority", "data", "comment", "tags",
)

TTL_MESSAGE = "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."
TXT_MAX_LENGTH = 2048

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# Addresses Cloudflare cannot proxy to: an origin there is unreachable from its edge. The
# documentation ranges (192.0.2.0/24, 2001:db8::/32) stay proxiable so examples keep working.
_UNPROXIABLE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)


@dataclass(frozen=True, slots=True)
class RecordFields:
    """The validated, normalised writable part of a record."""

    type: str
    name: str
    content: str
    proxied: bool
    ttl: int
    priority: int | None
    data: dict[str, Any] | None
    comment: str | None
    tags: tuple[str, ...]

    @property
    def proxiable(self) -> bool:
        """Whether v4 would let this record be proxied (A/AAAA to a public address, CNAME)."""
        if self.type not in PROXIABLE_TYPES:
            return False
        if self.type == "CNAME":
            return True
        address = ipaddress.ip_address(self.content)
        return not any(address in net for net in _UNPROXIABLE)

    @property
    def identity(self) -> tuple[str, str, str, int | None]:
        """What makes two records "identical" (81057): host names compare case-insensitively."""
        content = self.content.lower() if self.type in HOST_CONTENT_TYPES else self.content
        return (self.type, self.name, content, self.priority)

    def as_body(self) -> dict[str, Any]:
        """The fields as a request body, so a PATCH can be merged over them."""
        return {
            "type": self.type, "name": self.name, "content": self.content,
            "proxied": self.proxied, "ttl": self.ttl, "priority": self.priority,
            "data": dict(self.data) if self.data is not None else None,
            "comment": self.comment, "tags": list(self.tags),
        }


def to_ascii_host(value: str, *, wildcard: bool = False) -> str | None:
    """Lower-case punycode form of a host name, or None when it is not one.

    A final dot is dropped; `wildcard` allows "*" as the leftmost label (record names only).
    """
    host = value[:-1] if value.endswith(".") else value
    if not host or len(host) > 253:
        return None
    labels: list[str] = []
    for position, label in enumerate(host.split(".")):
        if wildcard and position == 0 and label == "*":
            labels.append(label)
            continue
        if not label.isascii():
            try:
                label = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError:
                return None
        label = label.lower()
        if not _LABEL.match(label):
            return None
        labels.append(label)
    ascii_host = ".".join(labels)
    return ascii_host if len(ascii_host) <= 253 else None


def record_name(value: Any, zone_name: str) -> str:
    """The stored FQDN: "@" and the zone name are the apex; other names must lie in the zone."""
    if not isinstance(value, str) or not value:
        raise dns_field_error("name is required and must be a string")
    if value == "@":
        return zone_name
    name = to_ascii_host(value, wildcard=True)
    if name is None:
        raise ApiError(400, 9000, f"DNS name is invalid: {value!r} is not a valid host name.")
    if name != zone_name and not name.endswith("." + zone_name):
        raise ApiError(
            400, 9000, f"DNS name is invalid: {value!r} is not in zone {zone_name}."
        )
    return name


def json_int(body: Mapping[str, Any], field: str) -> int | None:
    """An integer field of a JSON body: None when absent or null; 1004 when not a number.

    `true` is not a number here, although Python counts it as an int.
    """
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise dns_field_error(f"{field} must be a number")
    return value


def _content(rtype: str, value: Any) -> str:
    """Normalised content of a non-data type, refused with the type's own code."""
    if not isinstance(value, str) or not value:
        raise dns_field_error("content is required and must be a string")
    if rtype == "A":
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            raise ApiError(
                400, 9005, "Content for A record must be a valid IPv4 address."
            ) from None
    if rtype == "AAAA":
        try:
            return ipaddress.IPv6Address(value).compressed
        except ValueError:
            raise ApiError(
                400, 9006, "Content for AAAA record must be a valid IPv6 address."
            ) from None
    if rtype in HOST_CONTENT_TYPES:
        host = to_ascii_host(value)
        if host is None or _is_ip(host):
            raise ApiError(
                400, 9007, f"Content for {rtype} record is invalid: {value!r} is not a host name."
            )
        return host
    if rtype == "TXT" and len(value) > TXT_MAX_LENGTH:
        raise ApiError(
            400, 9102, f"Content for TXT record is too long (at most {TXT_MAX_LENGTH} characters)."
        )
    return value


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ranged(data: Mapping[str, Any], field: str, low: int, high: int, code: int) -> int:
    """A required integer inside `data`, within [low, high]."""
    value = json_int(data, field)
    if value is None:
        raise dns_field_error(f"data.{field} is required")
    if not low <= value <= high:
        raise ApiError(400, code, f"data.{field} must be between {low} and {high}.")
    return value


def _srv(name: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], str, int]:
    """SRV data, content and priority. The deprecated data.service/proto/name are dropped."""
    labels = name.split(".")
    if len(labels) < 3 or not labels[0].startswith("_") or not labels[1].startswith("_"):
        raise ApiError(
            400, 9101, f"SRV record name must have the form _service._proto.host, not {name!r}."
        )
    priority = _ranged(data, "priority", 0, 65535, 9100)
    weight = _ranged(data, "weight", 0, 65535, 9101)
    port = _ranged(data, "port", 0, 65535, 9101)
    target = data.get("target")
    host = to_ascii_host(target) if isinstance(target, str) else None
    if target != "." and (host is None or _is_ip(host)):
        raise ApiError(400, 9101, f"data.target must be a host name, not {target!r}.")
    target = "." if target == "." else host
    clean = {"priority": priority, "weight": weight, "port": port, "target": target}
    return clean, f"{weight} {port} {target}", priority


def _caa(data: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    flags = _ranged(data, "flags", 0, 255, 9101)
    tag, value = data.get("tag"), data.get("value")
    if tag not in ("issue", "issuewild", "iodef") or not isinstance(value, str):
        raise ApiError(
            400, 9101, "CAA data needs tag issue, issuewild or iodef and a string value."
        )
    return {"flags": flags, "tag": tag, "value": value}, f'{flags} {tag} "{value}"'


def _data_record(rtype: str, name: str, data: Any) -> tuple[dict[str, Any], str, int | None]:
    """Data, read-only content and (SRV) priority of a type carrying `data`.

    Types other than SRV and CAA are kept as sent, with content the data values in order:
    enough for a sandbox, not a check of their real syntax.
    """
    if not isinstance(data, dict):
        raise dns_field_error(f"data is required for {rtype} records and must be an object")
    if rtype == "SRV":
        return _srv(name, data)
    if rtype == "CAA":
        clean, content = _caa(data)
        return clean, content, None
    return dict(data), " ".join(str(v) for v in data.values()), None


def validate_record(body: Mapping[str, Any], zone_name: str) -> RecordFields:
    """Validate a complete record body (a create, a PUT, or a PATCH merged over the record).

    Fields left out take v4's defaults: proxied false, ttl 1, no comment, no tags.
    """
    rtype = body.get("type")
    if not isinstance(rtype, str):
        raise dns_field_error("type is required and must be a string")
    if rtype not in RECORD_TYPES:
        raise ApiError(400, 9020, f"Invalid DNS record type: {rtype!r}.")
    name = record_name(body.get("name"), zone_name)

    priority: int | None = None
    data: dict[str, Any] | None = None
    if rtype in DATA_TYPES:
        data, content, priority = _data_record(rtype, name, body.get("data"))
    else:
        content = _content(rtype, body.get("content"))
    if rtype in PRIORITY_TYPES:
        priority = json_int(body, "priority")
        if priority is None:
            raise dns_field_error(f"priority is required for {rtype} records")
        if not 0 <= priority <= 65535:
            raise ApiError(400, 9100, "priority must be between 0 and 65535.")

    ttl = json_int(body, "ttl")
    if ttl is None:
        ttl = 1
    if ttl != 1 and not 60 <= ttl <= 86400:
        raise ApiError(400, 9021, TTL_MESSAGE)

    proxied = body.get("proxied", False)
    if proxied is None:
        proxied = False
    if not isinstance(proxied, bool):
        raise dns_field_error("proxied must be a boolean")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise dns_field_error("comment must be a string")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise dns_field_error("tags must be a list of strings")

    fields = RecordFields(
        type=rtype, name=name, content=content, proxied=proxied, ttl=ttl, priority=priority,
        data=data, comment=comment, tags=tuple(tags),
    )
    if proxied and not fields.proxiable:
        if rtype in PROXIABLE_TYPES:
            raise ApiError(
                400, 9041, f"This record cannot be proxied: {content} is not a public address."
            )
        raise ApiError(400, 9041, f"This record type cannot be proxied: {rtype}.")
    return fields


def type_change_error(old: str, new: Any) -> ApiError:
    """In-place type changes reached end of life on 2026-06-30 (v4-api.md §7)."""
    return ApiError(
        400,
        9032,
        f"Changing a DNS record's type in place ({old} to {new}) is no longer supported "
        "(end of life 2026-06-30): delete the record and create a new one.",
    )


def conflict(new: RecordFields, others: list[RecordFields]) -> ApiError | None:
    """The first rule that `new` breaks against the zone's other records, if any.

    Identical records (81057) are checked first; then CNAME exclusivity (81053) and NS
    exclusivity (81056), both for records of the same name only.
    """
    if any(other.identity == new.identity for other in others):
        return ApiError(400, 81057, "Record already exists.")
    same_name = [other for other in others if other.name == new.name]
    for other in same_name:
        pair = {new.type, other.type}
        if "CNAME" in pair and pair <= {"A", "AAAA", "CNAME"}:
            return ApiError(
                400, 81053, "An A, AAAA, or CNAME record with that host already exists."
            )
        if "CNAME" in pair:
            return ApiError(400, 81053, "A CNAME record with that host already exists.")
        if "NS" in pair and len(pair) == 2:
            return ApiError(400, 81056, "An NS record with that host already exists.")
    return None

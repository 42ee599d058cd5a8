"""Stage 1: read a v1 call from any of the four transports real clients use.

GET with a query string; POST urlencoded; POST multipart; POST with an empty body and the
parameters in the query (`v1-api.md` §1.2). Query and body are merged, the body winning, and
the aliases `u`, `act`, `zs` become `email`, `a`, `zones`. Nothing here knows about actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import FormParser, MultipartState, parse_options_header

from proxy.errors import V1Error, invalid_input

ALIASES = {"u": "email", "act": "a", "zs": "zones"}


@dataclass(frozen=True)
class V1Request:
    """The merged parameters of one v1 call.

    `received` keeps every parameter under the name it arrived with, in arrival order, for
    the v1 request echo; `params` holds the canonical names the mapping table uses.
    """

    received: dict[str, str]
    params: dict[str, str]

    @property
    def action(self) -> str | None:
        action = self.params.get("a", "").strip()
        return action or None


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_fields: int = 1000


class BodyNotRead(V1Error):
    """A body refused before all of it was read: its answer must also close the connection,
    or the rest of the body would be read as the next request's head, or hold it open."""


class BodyTooLarge(BodyNotRead):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body larger than {limit} bytes.", "E_INVLDINPUT")


class BodyLate(BodyNotRead):
    def __init__(self) -> None:
        super().__init__("The request body did not arrive in time.", "E_INVLDINPUT")


def decode_urlencoded(data: bytes, limits: Limits) -> list[tuple[str, str]]:
    """`a=b&c=d` as PHP read it: `+` is a space, escapes are UTF-8, a bare key is empty."""
    pairs: list[tuple[str, str]] = []
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        if len(pairs) >= limits.max_fields:
            raise invalid_input(f"More than {limits.max_fields} parameters.")
        name, _, value = chunk.partition(b"=")
        pairs.append((_unescape(name), _unescape(value)))
    return pairs


def _unescape(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def decode_multipart(data: bytes, content_type: str, limits: Limits) -> list[tuple[str, str]]:
    """Fields of a multipart body; values are literal (no `+` decoding), files are skipped."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise invalid_input("Multipart body without a boundary.")

    pairs: list[tuple[str, str]] = []

    def on_field(field: object) -> None:
        name = getattr(field, "field_name", None) or b""
        value = getattr(field, "value", None) or b""
        pairs.append((name.decode("utf-8", "replace"), value.decode("utf-8", "replace")))

    parser = FormParser(
        "multipart/form-data",
        on_field,
        lambda _file: None,
        boundary=boundary,
        config={
            "MAX_BODY_SIZE": limits.max_body_bytes,
            "MAX_FIELDS": limits.max_fields,
            "MAX_FIELD_SIZE": limits.max_body_bytes,
            "MAX_MEMORY_FILE_SIZE": limits.max_body_bytes,
        },
    )
    try:
        parser.write(data)
        parser.finalize()
        # finalize() accepts a body cut before its closing boundary, silently dropping the
        # unfinished field: a rec_edit could then run without its service_mode.
        if getattr(parser.parser, "state", None) != MultipartState.END:
            raise invalid_input("Malformed multipart body.")
    except (FormParserError, ValueError) as exc:
        raise invalid_input("Malformed multipart body.") from exc
    finally:
        parser.close()
    if len(pairs) > limits.max_fields:
        raise invalid_input(f"More than {limits.max_fields} parameters.")
    return pairs


def parse(query: bytes, content_type: str | None, body: bytes, limits: Limits) -> V1Request:
    """Merge query and body into one V1Request (a repeated key: the last value wins)."""
    received: dict[str, str] = {}
    for name, value in decode_urlencoded(query, limits):
        received[name] = value

    if body:
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime == "multipart/form-data":
            pairs = decode_multipart(body, content_type or "", limits)
        else:
            # Urlencoded, but also a missing or unknown type: one old client sent the
            # invalid type `www-form-urlencoded`.
            pairs = decode_urlencoded(body, limits)
        for name, value in pairs:
            received[name] = value

    return V1Request(received=received, params=canonical(received))


def canonical(received: dict[str, str]) -> dict[str, str]:
    """Apply the aliases (the canonical name wins) and repair a raw `+` in the e-mail."""
    params = dict(received)
    for alias, name in ALIASES.items():
        if alias in params:
            value = params.pop(alias)
            params.setdefault(name, value)

    # `ops+cf@example.com` pasted unencoded decodes to `ops cf@example.com`; an address
    # cannot hold an unquoted space, so every space was a `+`.
    if "email" in params:
        params["email"] = params["email"].strip().replace(" ", "+")
    return params

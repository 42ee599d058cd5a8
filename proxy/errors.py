"""Every failure a v1 call can meet, and the v1 answer each one becomes.

    V1Error                      answered as a v1 error body (HTTP 200 unless `status` says)
    ├── Gone                     HTTP 410: the action has no v4 equivalent, or is unknown
    └── (factories below)        E_UNAUTH, E_INVLDINPUT, E_MAXAPI, "Invalid zone.", ...
    V4Error                      v4 answered with success=false; translated by `from_v4`
    UpstreamError                v4 could not be reached or answered garbage

v1 clients treat any status but 200 as a transport failure and never read the body, so every
API outcome, upstream trouble included, is HTTP 200; only actions that cannot work at all get
410 (`v1-api.md` §1.4, §2.5). Only three `err_code` values exist; a fourth breaks a Perl client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ErrCode = Literal["E_UNAUTH", "E_INVLDINPUT", "E_MAXAPI"]

# The exact texts clients match on (libcloud searches for "invalid zone" and
# "invalid record id"; shell scripts grep the raw JSON).
MSG_UNAUTH = "Unknown token or email"
MSG_INVALID_ZONE = "Invalid zone."
MSG_INVALID_RECORD = "Invalid record id."


class V1Error(Exception):
    """An answer in v1 error form: `{"request":{"act":…},"result":"error","msg":…}`."""

    def __init__(
        self,
        msg: str,
        err_code: ErrCode | None = None,
        *,
        echo_action: bool = True,
        status: int = 200,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.err_code = err_code
        self.echo_action = echo_action
        self.status = status


class Gone(V1Error):
    """HTTP 410 for actions the proxy cannot serve; `msg` says what replaced them."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, status=410)


def unauthorized() -> V1Error:
    return V1Error(MSG_UNAUTH, "E_UNAUTH", echo_action=False)


def invalid_zone() -> V1Error:
    return V1Error(MSG_INVALID_ZONE)


def invalid_record_id() -> V1Error:
    return V1Error(MSG_INVALID_RECORD)


def invalid_input(msg: str) -> V1Error:
    return V1Error(msg, "E_INVLDINPUT")


def rate_limited(msg: str = "Rate limit reached, retry later.") -> V1Error:
    return V1Error(msg, "E_MAXAPI", echo_action=False)


def upstream_failure(msg: str) -> V1Error:
    return V1Error(msg)


@dataclass
class V4Error(Exception):
    """v4 refused a call: its HTTP status and the `errors[]` items of its envelope."""

    status: int
    codes: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    retry_after: float | None = None

    # v4 answered, so the call reached it; only a server-side failure may be worth repeating.
    sent = True

    @property
    def retryable(self) -> bool:
        return self.status >= 500

    def __str__(self) -> str:
        pairs = ", ".join(f"{c}: {m}" for c, m in zip(self.codes, self.messages, strict=False))
        return f"v4 HTTP {self.status} ({pairs or 'no error items'})"

    @property
    def message(self) -> str:
        """v4's own words, passed on to v1 clients for validation errors (§2.5)."""
        return "; ".join(m for m in self.messages if m) or f"Cloudflare API v4 error {self.status}."


class UpstreamError(Exception):
    """v4 unreachable, timed out, 5xx, or an answer that is not a v4 envelope.

    `sent` is False only when the request certainly never reached v4 (no connection), so
    that even a create may be repeated; otherwise a write may have landed. `pending` is True
    when it went out and no answer came back in time: v4 may still carry it out later, after
    anything sent since, so such a write is never sent again.
    """

    def __init__(
        self, message: str, *, sent: bool = True, retryable: bool = True, pending: bool = False
    ) -> None:
        super().__init__(message)
        self.sent = sent
        self.retryable = retryable
        self.pending = pending


def ambiguous(exc: Exception) -> bool:
    """Whether a failed write may nevertheless have been carried out by v4."""
    if isinstance(exc, UpstreamError):
        return exc.sent
    return isinstance(exc, V4Error) and exc.status >= 500


def pending(exc: Exception) -> bool:
    """Whether a failed write may still be carried out by v4 later (it went out unanswered)."""
    return isinstance(exc, UpstreamError) and exc.pending


# v4's "an identical one already exists": records (81057), IP access rules (10009).
DUPLICATE_CODES = frozenset({81057, 10009})


def duplicate(exc: Exception) -> bool:
    return isinstance(exc, V4Error) and bool(DUPLICATE_CODES & set(exc.codes))


# v4 codes that mean "these credentials are not accepted" (v4-api.md §4).
_AUTH_CODES = {6003, 6102, 6103, 6111, 9103, 9106, 10000, 1000}
_NOT_FOUND_CODES = {7003, 7000, 81044, 1001}

Target = Literal["zone", "record", "input"]


def from_v4(err: V4Error, target: Target) -> V1Error:
    """Translate a refused v4 call, knowing what the call was about.

    `target` says what a "not found" means here: on a zone path it is `Invalid zone.`, on a
    record path `Invalid record id.`, elsewhere a plain input error.
    """
    codes = set(err.codes)
    if err.status == 429 or 971 in codes:
        return rate_limited()
    if codes & _AUTH_CODES or err.status == 401 or (err.status == 403 and not codes):
        return unauthorized()
    if err.status == 404 or codes & _NOT_FOUND_CODES:
        if target == "zone":
            return invalid_zone()
        if target == "record":
            return invalid_record_id()
    if err.status >= 500:
        return upstream_failure(f"Cloudflare API v4 failed: {err.message}")
    return invalid_input(err.message)

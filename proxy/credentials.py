"""v1 credentials, masked at the type level so no log line can carry them by accident."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

# What may travel in an HTTP header value: visible ASCII only. Anything else (CR/LF, NUL,
# spaces, non-ASCII) could split or corrupt the upstream request, so it is refused here.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,256}")


@dataclass(frozen=True)
class Credential:
    """A v1 `email` + `tkn` pair, which v4 takes as X-Auth-Email + X-Auth-Key."""

    email: str = field(repr=False)
    key: str = field(repr=False)

    @property
    def fingerprint(self) -> str:
        """A short, stable, non-reversible name for logs and cache keys."""
        digest = hashlib.sha256(f"{self.email.lower()}\0{self.key}".encode()).hexdigest()
        return digest[:12]

    def v4_headers(self) -> dict[str, str]:
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.key}

    def __repr__(self) -> str:
        return f"Credential(fp={self.fingerprint})"

    __str__ = __repr__


def credential_from(email: str | None, key: str | None) -> Credential | None:
    """The credential of a v1 call, or None when it cannot be one (missing or unsafe)."""
    if not email or not key:
        return None
    email, key = email.strip(), key.strip()
    if not _HEADER_SAFE.fullmatch(email) or not _HEADER_SAFE.fullmatch(key) or "@" not in email:
        return None
    return Credential(email, key)

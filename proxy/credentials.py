"""v1 credentials, masked at the type level so no log line can carry them by accident, and
who the proxy is towards v4 for them.

Two ways to reach v4 (`v4-api.md` §1):

    pass-through   the v1 `email` + `tkn` travel as X-Auth-Email + X-Auth-Key
    token mode     the proxy holds one v4 API token (`--v4-token`) and sends only that, as
                   `Authorization: Bearer`; a v1 pair is accepted only if it is listed in
                   `--v1-credentials`, where keys are stored as scrypt hashes

Either way a call gets an `UpstreamIdentity`: the headers it sends and the fingerprint its
caches, rate budget and 429 holds are keyed by. Logs keep showing the v1 pair's fingerprint.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

# What may travel in an HTTP header value: visible ASCII only. Anything else (CR/LF, NUL,
# spaces, non-ASCII) could split or corrupt the upstream request, so it is refused here.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,256}")


@dataclass(frozen=True)
class UpstreamIdentity:
    """Who the proxy is towards v4 on one call: the auth headers it sends, and the name that
    keys everything cached on v4's answers to them."""

    headers: Mapping[str, str] = field(repr=False, hash=False)
    fingerprint: str


@dataclass(frozen=True)
class Credential:
    """A v1 `email` + `tkn` pair, which v4 takes as X-Auth-Email + X-Auth-Key."""

    email: str = field(repr=False)
    key: str = field(repr=False)

    @cached_property
    def fingerprint(self) -> str:
        """A short, stable, non-reversible name for logs and cache keys."""
        digest = hashlib.sha256(f"{self.email.lower()}\0{self.key}".encode()).hexdigest()
        return digest[:12]

    def v4_headers(self) -> dict[str, str]:
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.key}

    def upstream(self) -> UpstreamIdentity:
        """Pass-through: v4 sees this very pair."""
        return UpstreamIdentity(self.v4_headers(), self.fingerprint)

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


def token_identity(token: str) -> UpstreamIdentity:
    """A v4 API token as the proxy's identity: Bearer only, never X-Auth-Key beside it."""
    if not _HEADER_SAFE.fullmatch(token):
        raise CredentialsFileError("v4-token: not a token (visible ASCII, at most 256 characters)")
    digest = hashlib.sha256(f"v4-token\0{token}".encode()).hexdigest()
    return UpstreamIdentity({"Authorization": f"Bearer {token}"}, digest[:12])


# --- token mode: the file of accepted v1 pairs ----------------------------------------------

SCHEME = "scrypt"
# scrypt cost: about 0.1 s and 16 MiB per check on a 2026 server core; a check that succeeded
# is remembered for the life of the process, so only a pair's first call pays it.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_MAX_MEMORY = 64 * 1024 * 1024
_LINE = re.compile(
    r"(?P<email>\S+)\s+scrypt\$(?P<n>\d+)\$(?P<r>\d+)\$(?P<p>\d+)\$(?P<salt>[A-Za-z0-9+/=]+)"
    r"\$(?P<hash>[A-Za-z0-9+/=]+)"
)
# Checks run in threads, so a burst of new pairs cannot take more than this much memory.
_CONCURRENT_CHECKS = 4
_REMEMBERED = 4096


class CredentialsFileError(ValueError):
    """The token-mode settings cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class HashedKey:
    """One accepted key as stored: scrypt parameters, salt, hash."""

    n: int
    r: int
    p: int
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)

    def matches(self, key: str) -> bool:
        found = _scrypt(key, self.salt, self.n, self.r, self.p, len(self.digest))
        return hmac.compare_digest(found, self.digest)

    def line(self, email: str) -> str:
        salt = base64.b64encode(self.salt).decode()
        digest = base64.b64encode(self.digest).decode()
        return f"{email} {SCHEME}${self.n}${self.r}${self.p}${salt}${digest}"


def _scrypt(key: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=_MAX_MEMORY)


def hash_key(key: str) -> HashedKey:
    """A v1 key hashed with a fresh salt, for a line of the credentials file."""
    salt = os.urandom(16)
    return HashedKey(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt,
                     _scrypt(key, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32))


def credentials_line(email: str, key: str) -> str:
    """The line `cf-v1-proxy hash-key` prints: `EMAIL scrypt$N$r$p$SALT$HASH`."""
    credential = credential_from(email, key)
    if credential is None:
        raise CredentialsFileError(
            "an e-mail with @ and a key, each visible ASCII without spaces, are needed"
        )
    return hash_key(credential.key).line(credential.email)


def parse_credentials(lines: Iterable[str], source: str) -> dict[str, list[HashedKey]]:
    """Accepted keys by lower-case e-mail. Every bad line is named, with its number.

    One pair per line; blank lines and lines starting with `#` are skipped. An e-mail may
    have several lines (a key being rotated): any of its keys is accepted.
    """
    accepted: dict[str, list[HashedKey]] = {}
    problems: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            email, hashed = _parse_line(line)
        except ValueError as exc:
            problems.append(f"{source} line {number}: {exc}")
            continue
        accepted.setdefault(email.lower(), []).append(hashed)
    if problems:
        raise CredentialsFileError("\n".join(problems))
    if not accepted:
        raise CredentialsFileError(f"{source}: no accepted e-mail/key pair")
    return accepted


def _parse_line(line: str) -> tuple[str, HashedKey]:
    # The message never repeats the line: it holds a hash, and may hold a pasted key.
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValueError(f"not `EMAIL {SCHEME}$N$r$p$SALT$HASH` (make lines with "
                         "`cf-v1-proxy hash-key EMAIL`)")
    email = match["email"]
    if "@" not in email or not _HEADER_SAFE.fullmatch(email):
        raise ValueError("the first field is not an e-mail address")
    n, r, p = int(match["n"]), int(match["r"]), int(match["p"])
    if n < 2**10 or n > 2**20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError("scrypt parameters out of range (N a power of 2 from 1024, r 1-32, "
                         "p 1-16)")
    if 128 * n * r > _MAX_MEMORY // 2:
        raise ValueError("scrypt parameters need too much memory")
    try:
        salt = base64.b64decode(match["salt"], validate=True)
        digest = base64.b64decode(match["hash"], validate=True)
    except ValueError:
        raise ValueError("salt or hash is not base64") from None
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        raise ValueError("salt shorter than 8 bytes, or hash not 16-64 bytes")
    return email, HashedKey(n, r, p, salt, digest)


def load_credentials(path: str | os.PathLike[str]) -> dict[str, list[HashedKey]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsFileError(f"v1-credentials: cannot read {path}: {exc}") from None
    return parse_credentials(text.splitlines(), str(path))


# --- the gate every call passes -------------------------------------------------------------


class Gate(Protocol):
    async def upstream_for(self, credential: Credential) -> UpstreamIdentity | None:
        """The identity to call v4 with for this v1 pair, or None: answer E_UNAUTH."""
        ...


class PassThrough:
    """Without token mode: the v1 pair itself goes to v4, which decides."""

    async def upstream_for(self, credential: Credential) -> UpstreamIdentity | None:
        return credential.upstream()


class TokenMode:
    """`--v4-token` + `--v1-credentials`: listed pairs reach v4 as the token, others nothing.

    A pair's key never leaves the proxy. Every accepted pair shares the token's identity, so
    they share its caches and rate budget, as they share what the token reaches.
    """

    def __init__(self, token: str, accepted: Mapping[str, list[HashedKey]]) -> None:
        self.identity = token_identity(token)
        self._accepted = {email.lower(): list(keys) for email, keys in accepted.items()}
        # Remembered verdicts, under a keyed hash of the pair that lives only in this process.
        self._secret = os.urandom(32)
        self._verified: dict[bytes, bool] = {}
        self._gate = asyncio.Semaphore(_CONCURRENT_CHECKS)
        # Checked against when the e-mail is unknown, so both refusals take the same time.
        self._decoy = [HashedKey(SCRYPT_N, SCRYPT_R, SCRYPT_P, b"\0" * 16, b"\0" * 32)]

    @classmethod
    def load(cls, token: str, path: str | os.PathLike[str]) -> TokenMode:
        return cls(token, load_credentials(path))

    async def upstream_for(self, credential: Credential) -> UpstreamIdentity | None:
        return self.identity if await self.accepts(credential) else None

    async def accepts(self, credential: Credential) -> bool:
        name = hmac.digest(self._secret, f"{credential.email.lower()}\0{credential.key}"
                           .encode(), "sha256")
        if self._verified.get(name):
            return True
        keys = self._accepted.get(credential.email.lower(), self._decoy)
        async with self._gate:
            ok = await asyncio.to_thread(self._check, keys, credential.key)
        if ok and keys is not self._decoy:
            if len(self._verified) >= _REMEMBERED:
                self._verified.clear()
            self._verified[name] = True
            return True
        return False

    @staticmethod
    def _check(keys: list[HashedKey], key: str) -> bool:
        return any([hashed.matches(key) for hashed in keys])


def gate_for(v4_token: str | None, v1_credentials: str | None) -> Gate:
    """The gate the settings ask for; CredentialsFileError names what is wrong with them."""
    if v4_token is None:
        return PassThrough()
    if v1_credentials is None:
        raise CredentialsFileError("v4-token needs v1-credentials (token mode)")
    return TokenMode.load(v4_token, v1_credentials)

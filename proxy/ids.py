"""v1 numbers for v4 ids.

v1 ids were small decimal numbers that clients store and sometimes cast to int; v4 ids are
32 hex characters. The v1 number is *derived* from the v4 id, so every proxy process, before
and after a restart, gives the same number with no shared state (`v4-api.md` §14.1). It is
cut to 53 bits so JavaScript and 64-bit parsers hold it exactly. Turning a number back into a
v4 id is a lookup (cache, then a listing of the zone), never arithmetic.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

V4_ID = re.compile(r"[0-9a-f]{32}")
V1_NUMBER = re.compile(r"[0-9]{1,20}")

_MAX = (1 << 53) - 1


@lru_cache(maxsize=1 << 16)  # a listing of 10k records asks for each number twice
def v1_number(v4_id: str) -> int:
    """The v1 number of a v4 id: 1 … 2^53-1 (0 means "no such zone" in zone_check)."""
    digest = hashlib.blake2b(v4_id.encode("ascii"), digest_size=8, person=b"cf-v1-proxy").digest()
    number = int.from_bytes(digest, "big") >> 11
    return number or _MAX


def is_v4_id(value: str) -> bool:
    return V4_ID.fullmatch(value) is not None


def parse_v1_number(value: str) -> int | None:
    """A client's `id` as a v1 number, or None when it cannot be one."""
    if not V1_NUMBER.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= _MAX else None

"""The token-mode credentials file, and the gate every v1 pair passes."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from proxy.credentials import (
    Credential,
    CredentialsFileError,
    HashedKey,
    PassThrough,
    TokenMode,
    credentials_line,
    gate_for,
    load_credentials,
    parse_credentials,
)

EMAIL = "app@example.com"
KEY = "an-old-v1-key"
TOKEN = "a-v4-api-token"


def cheap_line(email: str, key: str) -> str:
    """A valid line with the smallest scrypt cost the parser takes, to keep tests fast."""
    salt = b"saltsalt"
    digest = hashlib.scrypt(key.encode(), salt=salt, n=1024, r=1, p=1, dklen=16)
    return HashedKey(1024, 1, 1, salt, digest).line(email)


def accepts(mode: TokenMode, email: str, key: str) -> bool:
    return asyncio.run(mode.accepts(Credential(email, key)))


def test_a_printed_line_reads_back_and_matches_only_its_key() -> None:
    line = credentials_line(EMAIL, KEY)
    assert line.startswith(f"{EMAIL} scrypt$16384$8$1$") and KEY not in line
    accepted = parse_credentials([line], "file")
    (hashed,) = accepted[EMAIL]
    assert hashed.matches(KEY)
    assert not hashed.matches(KEY + "x")
    assert credentials_line(EMAIL, KEY) != line  # a fresh salt each time


def test_comments_blank_lines_case_and_several_keys_per_email() -> None:
    lines = ["# the accepted pairs", "", cheap_line("App@Example.com", "one"),
             "   ", cheap_line(EMAIL, "two"), cheap_line("ops@example.org", "three")]
    accepted = parse_credentials(lines, "file")
    assert sorted(accepted) == [EMAIL, "ops@example.org"]
    mode = TokenMode(TOKEN, accepted)
    assert accepts(mode, EMAIL, "one") and accepts(mode, "APP@example.com", "two")
    assert not accepts(mode, EMAIL, "three")
    assert not accepts(mode, "nobody@example.com", "one")


def test_every_bad_line_is_named_with_its_number_and_without_its_text() -> None:
    good = cheap_line(EMAIL, KEY)
    scheme = good.split()[1]
    lines = [
        good,
        "app@example.com sha256:0123abcd",  # 2: another scheme
        "app@example.com",  # 3: no hash
        f"no-at-sign {scheme}",  # 4
        "app@example.com scrypt$1000$8$1$c2FsdHNhbHQ=$" + "A" * 24,  # 5: N not a power of 2
        "app@example.com scrypt$1024$1$1$c2FsdA==$" + "A" * 24,  # 6: salt of 4 bytes
        "app@example.com scrypt$1048576$32$1$c2FsdHNhbHQ=$" + "A" * 24,  # 7: memory
        "# fine",
        "app@example.com scrypt$1024$1$1$c2FsdHNhbHQ$" + "A" * 24,  # 9: bad base64
    ]
    with pytest.raises(CredentialsFileError) as caught:
        parse_credentials(lines, "creds.txt")
    message = str(caught.value)
    assert [line.split(":")[0] for line in message.splitlines()] == [
        f"creds.txt line {n}" for n in (2, 3, 4, 5, 6, 7, 9)
    ]
    assert "sha256:0123abcd" not in message
    assert "not an e-mail" in message and "power of 2" in message and "base64" in message
    assert "memory" in message and "salt shorter" in message


def test_a_file_without_pairs_is_refused() -> None:
    with pytest.raises(CredentialsFileError, match="no accepted e-mail/key pair"):
        parse_credentials(["# nothing yet", ""], "creds.txt")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CredentialsFileError, match="cannot read .*missing"):
        load_credentials(tmp_path / "missing")
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(CredentialsFileError, match="cannot read"):
        load_credentials(tmp_path / "binary")


def test_gate_for_the_settings(tmp_path: Path) -> None:
    assert isinstance(gate_for(None, None), PassThrough)
    path = tmp_path / "creds"
    path.write_text(cheap_line(EMAIL, KEY) + "\n")
    gate = gate_for(TOKEN, str(path))
    assert isinstance(gate, TokenMode)
    identity = asyncio.run(gate.upstream_for(Credential(EMAIL, KEY)))
    assert identity is not None
    assert dict(identity.headers) == {"Authorization": f"Bearer {TOKEN}"}
    assert TOKEN not in repr(identity)
    assert asyncio.run(gate.upstream_for(Credential(EMAIL, "wrong"))) is None
    with pytest.raises(CredentialsFileError, match="needs v1-credentials"):
        gate_for(TOKEN, None)
    with pytest.raises(CredentialsFileError, match="v4-token"):
        gate_for("two words", str(path))


def test_pass_through_sends_the_pair_itself() -> None:
    credential = Credential(EMAIL, KEY)
    identity = asyncio.run(PassThrough().upstream_for(credential))
    assert identity is not None
    assert dict(identity.headers) == {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
    assert identity.fingerprint == credential.fingerprint


def test_all_accepted_pairs_share_the_tokens_fingerprint() -> None:
    mode = TokenMode(TOKEN, parse_credentials([cheap_line(EMAIL, KEY)], "f"))
    other = TokenMode(TOKEN + "2", parse_credentials([cheap_line(EMAIL, KEY)], "f"))
    assert mode.identity.fingerprint != other.identity.fingerprint
    assert mode.identity.fingerprint != Credential(EMAIL, KEY).fingerprint


def test_a_verified_pair_is_not_hashed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    mode = TokenMode(TOKEN, parse_credentials([cheap_line(EMAIL, KEY)], "f"))
    checks: list[str] = []
    original = HashedKey.matches

    def counting(self: HashedKey, key: str) -> bool:
        checks.append(key)
        return original(self, key)

    monkeypatch.setattr(HashedKey, "matches", counting)
    assert accepts(mode, EMAIL, KEY) and accepts(mode, EMAIL, KEY)
    assert len(checks) == 1
    # A refused pair is checked every time, and an unknown e-mail costs a check too, so the
    # answer's timing does not tell which e-mails are listed.
    assert not accepts(mode, EMAIL, "wrong") and not accepts(mode, EMAIL, "wrong")
    assert not accepts(mode, "stranger@example.com", KEY)
    assert len(checks) == 4

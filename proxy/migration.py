"""The migration report: every v1 action seen, by client, and what it becomes in v4.

Shown at `/_proxy/migration` (JSON) and `/_proxy/migration.html`, and kept across restarts in
a small SQLite file (`--migration-db`). Counting a call only touches a dict in memory; a
background task writes the counts out every few seconds and at shutdown, in a thread, so no
v1 call ever waits for the disk.

A row is (action, client user agent, credential fingerprint). The action is the table's name
for it, or `unknown`; the agent is cut short and masked as in the logs. The number of rows
is capped, so a client that changes its user agent or key on every call cannot grow the file
without bound: past the cap, new clients are counted together as `(other clients)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from proxy.mapping import MappingTable

log = logging.getLogger("proxy.migration")

FLUSH_SECONDS = 5.0
MAX_ROWS = 10_000
OTHER_CLIENTS = "(other clients)"
UNKNOWN = "unknown"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    action TEXT NOT NULL,
    agent TEXT NOT NULL,
    credential TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (action, agent, credential)
)
"""
_UPSERT = """
INSERT INTO seen (action, agent, credential, count, first_seen, last_seen)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (action, agent, credential) DO UPDATE SET
    count = count + excluded.count,
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen)
"""

Key = tuple[str, str, str]


@dataclass
class _Tally:
    count: int
    first: float
    last: float


@dataclass(frozen=True)
class Row:
    """One line of the report: an action as one client uses it, and its v4 equivalent."""

    action: str
    v4: str
    retired: bool
    replacement: str | None
    agent: str
    credential: str
    count: int
    first_seen: float
    last_seen: float

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "v4": self.v4,
            "retired": self.retired,
            "replacement": self.replacement,
            "agent": self.agent,
            "credential": self.credential,
            "count": self.count,
            "first_seen": _when(self.first_seen),
            "last_seen": _when(self.last_seen),
        }


class MigrationReport:
    """Counts in memory, written to SQLite by `start()`'s background task."""

    def __init__(self, table: MappingTable, path: str) -> None:
        self.table = table
        self.path = path
        self._pending: dict[Key, _Tally] = {}
        self._keys: set[Key] = set()
        self._lock = threading.Lock()
        self._db = self._open(":memory:")
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    # Called for every v1 call: a dict update, nothing else.
    def seen(self, action: str, agent: str, credential: str | None, when: float) -> None:
        key = (action, agent, credential or "-")
        if key not in self._keys:
            if len(self._keys) >= MAX_ROWS:
                key = (action, OTHER_CLIENTS, "-")
            self._keys.add(key)
        tally = self._pending.get(key)
        if tally is None:
            self._pending[key] = _Tally(1, when, when)
        else:
            tally.count += 1
            tally.last = when

    async def start(self) -> None:
        """Open the file (or stay in memory) and write out every FLUSH_SECONDS."""
        if self.path:
            self._keys.update(await asyncio.to_thread(self._attach, self.path))
        self._task = asyncio.create_task(self._flush_every(FLUSH_SECONDS))

    async def stop(self) -> None:
        """Write out what is left, then close the file."""
        self._closing.set()
        if self._task is not None:
            await self._task
        await self.flush()
        with self._lock:
            self._db.close()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            await asyncio.to_thread(self._write, pending)
        except sqlite3.Error as exc:
            log.warning("migration report: %d counts kept for the next write (%s)",
                        len(pending), exc)
            for key, tally in pending.items():
                self._merge(key, tally)

    async def rows(self) -> list[Row]:
        """Every row, retired actions first, then by action and the busiest client first."""
        await self.flush()
        raw = await asyncio.to_thread(self._read)
        rows = [self._row(*fields) for fields in raw]
        rows.sort(key=lambda row: (not row.retired, row.action, -row.count, row.agent))
        return rows

    def _row(self, action: str, agent: str, credential: str, count: int, first: float,
             last: float) -> Row:
        entry = self.table.find(action)
        if entry is None:
            replacement: str | None = "Not a v1 action cf-v1-proxy knows; answered 410."
            return Row(action, "", True, replacement, agent, credential, count, first, last)
        return Row(action, entry.v4, entry.gone is not None, entry.gone, agent, credential,
                   count, first, last)

    async def _flush_every(self, seconds: float) -> None:
        # Never cancelled mid-write: `stop()` sets `_closing`, and the loop ends after a flush.
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)
            await self.flush()

    def _merge(self, key: Key, tally: _Tally) -> None:
        now = self._pending.get(key)
        if now is None:
            self._pending[key] = tally
        else:
            now.count += tally.count
            now.first = min(now.first, tally.first)
            now.last = max(now.last, tally.last)

    # The rest runs in worker threads, one at a time.

    def _open(self, where: str) -> sqlite3.Connection:
        db = sqlite3.connect(where, check_same_thread=False, isolation_level=None)
        db.execute(_SCHEMA)
        return db

    def _attach(self, path: str) -> list[Key]:
        """Move to the file at `path` and return the rows it holds; if it cannot be used,
        say so and stay in memory."""
        file = Path(path).expanduser()
        db: sqlite3.Connection | None = None
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            db = self._open(str(file))
            db.execute("PRAGMA journal_mode=WAL")
            with self._lock:
                # Anything counted before the file was opened moves into it; this is also the
                # proof that the file can be written.
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(_UPSERT, self._db.execute("SELECT * FROM seen").fetchall())
                keys = db.execute("SELECT action, agent, credential FROM seen").fetchall()
                self._db.close()
                self._db = db
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            log.warning("migration report kept in memory only: %s cannot be used (%s)",
                        file, exc)
            return []
        log.info("migration report in %s", file)
        return keys

    def _write(self, pending: dict[Key, _Tally]) -> None:
        items = [(*key, t.count, t.first, t.last) for key, t in pending.items()]
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(_UPSERT, items)

    def _read(self) -> list[tuple[str, str, str, int, float, float]]:
        with self._lock:
            return self._db.execute(
                "SELECT action, agent, credential, count, first_seen, last_seen FROM seen"
            ).fetchall()


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def as_json(rows: list[Row]) -> dict[str, Any]:
    return {
        "generated": _when(time.time()),
        "calls": sum(row.count for row in rows),
        "rows": [row.as_json() for row in rows],
    }


def as_html(rows: list[Row]) -> str:
    """A plain page: one table, every value escaped, retired actions flagged."""
    lines = []
    for row in rows:
        flag = ' <span class="retired">retired</span>' if row.retired else ""
        v4 = row.v4 or f"none: {row.replacement or ''}"
        lines.append(
            f'<tr{" class=retired-row" if row.retired else ""}>'
            f"<td><code>{_e(row.action)}</code>{flag}</td>"
            f"<td>{_e(v4)}</td><td>{_e(row.agent)}</td><td><code>{_e(row.credential)}</code></td>"
            f'<td class="n">{row.count}</td><td class="t">{_shown(row.last_seen)}</td></tr>'
        )
    retired = len({row.action for row in rows if row.retired})
    summary = (
        f"{sum(row.count for row in rows)} v1 calls, {len({r.action for r in rows})} actions, "
        f"{len({(r.agent, r.credential) for r in rows})} clients; "
        f"retired actions in use: {retired}."
    )
    body = "\n".join(lines) or '<tr><td colspan="6">No v1 call seen yet.</td></tr>'
    return _PAGE.format(summary=_e(summary), generated=_shown(time.time()), rows=body)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _shown(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cf-v1-proxy migration report</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left;
  vertical-align: top; }}
th {{ background: #f4f4f4; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.t {{ white-space: nowrap; }}
tr.retired-row {{ background: #fff4f0; }}
span.retired {{ background: #c0392b; color: #fff; border-radius: 3px; padding: 0 .4em;
  font-size: 80%; margin-left: .4em; }}
</style>
</head>
<body>
<h1>Migration report</h1>
<p>Every Cloudflare API v1 action this proxy has answered, by client, with what it becomes in
API v4. Retired actions have no v4 equivalent: those clients need changing first.</p>
<p id="summary">{summary} Generated {generated} UTC.</p>
<table id="report">
<thead><tr><th>v1 action</th><th>v4 equivalent</th><th>client user agent</th>
<th>credential fingerprint</th><th>calls</th><th>last seen (UTC)</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p>Also as JSON at <a href="/_proxy/migration">/_proxy/migration</a>.</p>
</body>
</html>
"""

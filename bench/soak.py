"""Soak: hundreds of concurrent v1 clients through a `cf-v1-proxy` process, in front of a v4
that misbehaves on a share of its requests.

    python -m bench.soak --seconds 600 --clients 200 --fault-rate 0.05

Each client loops over rec_new (a name of its own), rec_edit and rec_delete of its records,
rec_load_all and sec_lvl, and remembers every write the proxy acknowledged. At the end the
v4 state must hold every acknowledged record exactly once, with its last acknowledged content,
and none that was acknowledged deleted; no name may be there twice. The proxy's memory (VmRSS)
is sampled every second; its log (stderr) must hold no credential. `tests/faults/test_soak.py`
runs the same soak for about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import EMAIL, KEY, OTHER_EMAIL, OTHER_KEY, base_seed
from tests.support.faulty_upstream import (
    Fault,
    FaultyUpstream,
    ProxyProcess,
    SeenRequest,
    delay,
    garbage,
    no_success,
    reset,
    server_error,
    slow,
    truncate,
)

ZONE = "example.com"
SMALL_ZONE = "example.org"
SECRETS = (EMAIL, KEY, OTHER_EMAIL, OTHER_KEY, EMAIL.replace("+", "%2B").replace("@", "%40"))
# What an upstream failure may answer; anything else from a call that should work is wrong.
UPSTREAM_MESSAGES = ("Cloudflare API v4 ",)
READ_TIMEOUT = 1.0

# The faults a request may meet: brief or longer than the read timeout, before or after v4
# carried the request out.
FAULTS: tuple[Callable[[random.Random], Fault], ...] = (
    lambda r: delay(r.uniform(0.01, 0.3)),
    lambda r: slow(READ_TIMEOUT + 0.5),
    lambda r: reset(),
    lambda r: reset(after=True),
    lambda r: truncate(),
    lambda r: server_error(r.choice((500, 502, 503, 504))),
    lambda r: server_error(502, html=True, forward=r.random() < 0.5),
    lambda r: garbage(forward=r.random() < 0.5),
    lambda r: no_success(forward=r.random() < 0.5),
)
# An answer held past the read timeout: a read is asked again, while a write, which may still
# land, is waited for and never sent twice (V4Session.request). `late_writes=False` keeps this
# fault to reads.
LATE = delay(READ_TIMEOUT + 0.5)


@dataclass
class SoakConfig:
    seconds: float = 60.0
    clients: int = 200
    fault_rate: float = 0.05
    warmup: float = 10.0
    seed: int = 1
    # Share of v4 requests also checked against the OpenAPI schema (~1.5 ms each).
    schema_sample: float = 0.05
    # Whether writes too may reach v4 late, after the proxy timed out (see LATE).
    late_writes: bool = True
    log_dir: Path | None = None


@dataclass
class Tracked:
    """One record a client created: what the proxy acknowledged about it."""

    name: str
    rec_id: str | None = None
    v4_id: str | None = None
    content: str | None = None
    # live: created and every later write acknowledged; deleted: deletion acknowledged;
    # unsure: a write was answered with an error, so v4 may or may not have done it.
    state: str = "live"


@dataclass
class SoakReport:
    seconds: float = 0.0
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    rss_kib: list[tuple[float, int]] = field(default_factory=list)
    v4_requests: int = 0
    v4_faults: int = 0
    acknowledged_creates: int = 0
    acknowledged_deletes: int = 0
    leaks: list[str] = field(default_factory=list)
    upstream_violations: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def rss_after(self, seconds: float) -> int:
        """The first sample taken at or after `seconds` into the run."""
        return next(kib for at, kib in self.rss_kib if at >= seconds)

    @property
    def rss_end(self) -> int:
        return self.rss_kib[-1][1]

    def summary(self) -> str:
        ok = sum(n for (_, result), n in self.calls.items() if result == "success")
        lines = [
            f"{self.seconds:.0f} s: {self.total_calls} v1 calls "
            f"({self.total_calls / max(self.seconds, 1):.0f}/s), {ok} succeeded; "
            f"{self.v4_requests} v4 requests, {self.v4_faults} with a fault",
            f"acknowledged: {self.acknowledged_creates} creates, "
            f"{self.acknowledged_deletes} deletes",
            "errors: " + (", ".join(f"{m!r} x{n}" for m, n in self.errors.most_common(8))
                          or "none"),
        ]
        if self.rss_kib:
            lines.append(f"proxy VmRSS: start {self.rss_kib[0][1] / 1024:.1f} MiB, "
                         f"end {self.rss_end / 1024:.1f} MiB, "
                         f"peak {max(k for _, k in self.rss_kib) / 1024:.1f} MiB")
        lines += [f"PROBLEM: {p}" for p in self.problems[:20]]
        lines += [f"LEAK: {p}" for p in self.leaks[:5]]
        lines += [f"V4 VIOLATION: {p}" for p in self.upstream_violations[:5]]
        return "\n".join(lines)


class Client:
    """One v1 client with records of its own."""

    def __init__(self, number: int, http: httpx.AsyncClient, url: str, report: SoakReport,
                 rng: random.Random) -> None:
        self.number = number
        self.http = http
        self.url = f"{url}/api_json.html"
        self.report = report
        self.rng = rng
        self.records: list[Tracked] = []
        self.created = 0

    async def call(self, action: str, **params: str) -> dict[str, Any] | None:
        data = {"a": action, "email": EMAIL, "tkn": KEY, **params}
        try:
            response = await self.http.post(self.url, data=data)
        except httpx.HTTPError as exc:
            self.report.problems.append(f"{action}: no answer from the proxy ({exc!r})")
            return None
        if response.status_code != 200 or not response.headers.get(
                "content-type", "").startswith("application/json"):
            self.report.problems.append(f"{action}: HTTP {response.status_code} "
                                        f"{response.text[:200]!r}")
            return None
        body: dict[str, Any] = response.json()
        result = str(body.get("result"))
        self.report.calls[action, result] += 1
        if result != "success":
            msg = str(body.get("msg"))
            self.report.errors[msg] += 1
            expected = msg.startswith(UPSTREAM_MESSAGES)
            if not expected and body.get("err_code") != "E_MAXAPI":
                self.report.problems.append(f"{action} {params}: unexpected error {body}")
        return body

    def live(self) -> list[Tracked]:
        return [r for r in self.records if r.state == "live"]

    async def step(self) -> None:
        live = self.live()
        roll = self.rng.random()
        if roll < 0.3 and len(live) < 2:
            await self.rec_new()
        elif roll < 0.5 and live:
            await self.rec_edit(self.rng.choice(live))
        elif roll < 0.65 and live:
            await self.rec_delete(self.rng.choice(live))
        elif roll < 0.9:
            zone = ZONE if self.rng.random() < 0.1 else SMALL_ZONE
            await self.call("rec_load_all", z=zone)
        else:
            await self.call("sec_lvl", z=ZONE, v=self.rng.choice(("low", "med", "high")))

    def address(self) -> str:
        return f"198.51.100.{self.rng.randrange(1, 255)}"

    async def rec_new(self) -> None:
        self.created += 1
        record = Tracked(f"soak-{self.number}-{self.created}.{ZONE}", content=self.address())
        self.records.append(record)
        body = await self.call("rec_new", z=ZONE, type="A", name=record.name,
                               content=str(record.content), ttl="1")
        if body is None or body["result"] != "success":
            record.state = "unsure"
            return
        obj = body["response"]["rec"]["obj"]
        record.rec_id, record.v4_id = str(obj["rec_id"]), str(obj["rec_tag"])
        self.report.acknowledged_creates += 1
        if (obj["name"], obj["content"]) != (record.name, record.content):
            self.report.problems.append(f"rec_new {record.name}: acknowledged as {obj}")

    async def rec_edit(self, record: Tracked) -> None:
        content = self.address()
        body = await self.call("rec_edit", z=ZONE, id=str(record.rec_id), type="A",
                               name=record.name, content=content)
        if body is None or body["result"] != "success":
            record.state = "unsure"
            return
        record.content = content

    async def rec_delete(self, record: Tracked) -> None:
        body = await self.call("rec_delete", z=ZONE, id=str(record.rec_id))
        if body is None or body["result"] != "success":
            record.state = "unsure"
            return
        record.state = "deleted"
        self.report.acknowledged_deletes += 1

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await self.step()


def check_state(clients: list[Client], upstream: FaultyUpstream, report: SoakReport) -> None:
    """Every acknowledged write is in v4, exactly once; no soak name is there twice."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for record in upstream.records(ZONE):
        by_name.setdefault(record["name"], []).append(record)
    for name, found in by_name.items():
        if name.startswith("soak-") and len(found) > 1:
            report.problems.append(f"{name}: {len(found)} records")

    for client in clients:
        for tracked in client.records:
            found = by_name.get(tracked.name, [])
            if tracked.state == "live":
                if [(r["id"], r["content"]) for r in found] != [(tracked.v4_id,
                                                                tracked.content)]:
                    report.problems.append(f"{tracked.name}: acknowledged as {tracked.v4_id} "
                                           f"{tracked.content}, v4 has {found}")
            elif tracked.state == "deleted" and found:
                report.problems.append(f"{tracked.name}: acknowledged deleted, v4 has {found}")


def leaks_in(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in SECRETS if s.lower() in lowered]


async def _drive(config: SoakConfig, proxy: ProxyProcess, report: SoakReport,
                 on_tick: Callable[[SoakReport], None] | None) -> list[Client]:
    rng = random.Random(config.seed)
    started = time.monotonic()
    until = started + config.seconds
    # Idle connections are dropped well before the proxy's 5 s keep-alive timeout, or a call
    # sent just as the proxy closes one would fail for a reason that is no fault of either.
    limits = httpx.Limits(max_connections=config.clients,
                          max_keepalive_connections=config.clients, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        clients = [Client(n, http, proxy.url, report, random.Random(rng.random()))
                   for n in range(config.clients)]
        running = [asyncio.create_task(c.run(until)) for c in clients]

        next_tick = started + 10
        while not all(task.done() for task in running):
            now = time.monotonic()
            report.seconds = now - started
            report.rss_kib.append((report.seconds, proxy.rss_kib()))
            if on_tick is not None and now >= next_tick:
                next_tick += 10
                on_tick(report)
            await asyncio.wait(running, timeout=1.0)
        for task in running:
            task.result()
        report.seconds = time.monotonic() - started
        report.rss_kib.append((report.seconds, proxy.rss_kib()))
    return clients


def run_soak(config: SoakConfig,
             on_tick: Callable[[SoakReport], None] | None = None) -> SoakReport:
    """Run one soak; the report holds the numbers and every problem found."""
    report = SoakReport()
    rng = random.Random(config.seed)

    def choose(seen: SeenRequest) -> Fault | None:
        if rng.random() >= config.fault_rate:
            return None
        if rng.random() < 1 / (len(FAULTS) + 1) and (config.late_writes or not seen.is_write()):
            return LATE
        return rng.choice(FAULTS)(rng)

    log_dir = config.log_dir or Path(tempfile.mkdtemp(prefix="cf-v1-soak-"))
    with FaultyUpstream(base_seed(), keep_alive=True,
                        schema_sample=config.schema_sample) as upstream:
        upstream.chooser = choose
        args = ("--read-timeout", str(READ_TIMEOUT), "--connect-timeout", "1",
                "--call-deadline", "5", "--rate-budget", "100000000/1", "--log-level", "debug",
                "--migration-db", "")
        with ProxyProcess(upstream.url, args, log_dir=log_dir) as proxy:
            clients = asyncio.run(_drive(config, proxy, report, on_tick))
            upstream.chooser = None
            upstream.settle(timeout=30)
            check_state(clients, upstream, report)
        report.v4_requests = len(upstream.requests)
        report.v4_faults = sum(1 for r in upstream.requests if r.fault is not None)
        report.upstream_violations = list(upstream.violations)
        report.leaks = leaks_in(proxy.stderr())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0,
                        help="how long the clients run (default 300)")
    parser.add_argument("--clients", type=int, default=200,
                        help="concurrent v1 clients (default 200)")
    parser.add_argument("--fault-rate", type=float, default=0.05,
                        help="share of v4 requests that meet a fault (default 0.05)")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds before memory growth is measured from (default 10)")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of the clients' and the faults' choices (default 1)")
    parser.add_argument("--schema-sample", type=float, default=0.05,
                        help="share of v4 requests checked against the OpenAPI subset "
                        "(default 0.05)")
    parser.add_argument("--no-late-writes", action="store_true",
                        help="answers held past the read timeout hit reads only")
    args = parser.parse_args(argv)
    config = SoakConfig(seconds=args.seconds, clients=args.clients, fault_rate=args.fault_rate,
                        warmup=args.warmup, seed=args.seed, schema_sample=args.schema_sample,
                        late_writes=not args.no_late_writes)

    def tick(report: SoakReport) -> None:
        ok = sum(n for (_, result), n in report.calls.items() if result == "success")
        rss = report.rss_kib[-1][1] / 1024 if report.rss_kib else 0.0
        print(f"{report.seconds:6.0f} s  {report.total_calls:7d} calls "
              f"({report.total_calls / report.seconds:5.0f}/s)  {ok:7d} ok  "
              f"RSS {rss:6.1f} MiB  problems {len(report.problems)}", flush=True)

    report = run_soak(config, tick)
    print(report.summary())
    growth = report.rss_end / report.rss_after(config.warmup) - 1
    print(f"VmRSS growth after {config.warmup:g} s of warm-up: {growth:+.1%}")
    failed = report.problems or report.leaks or report.upstream_violations
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

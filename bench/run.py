"""The performance benchmark: the proxy, the floor forwarder and the bare stub, in one run.

    python -m bench.run            # about 6 minutes on 2 cores; --seconds 2 for a quick look

Starts `bench.stub_upstream` (a fixed-answer v4), the proxy as `python -m proxy serve
--upstream <stub>` with one worker and with `--workers 2`, and `bench.floor` (the leanest
aiohttp forward of the same calls), then drives each with wrk over loopback at 1 and at 64
connections for every case in CASES. "direct" is wrk sending the case's v4 requests to the
stub itself, one after another on each connection: a case's direct latency is the sum of its
requests' p50s, its rate the request rate divided by its number of requests.

Per row: requests per second, p50 and p99 latency, CPU per request of the server under test
(utime+stime of its processes, /proc/<pid>/stat, over the measured run), v4 calls per v1
call (counted at the stub over a few sequential calls whose answers are checked), peak RSS
(VmHWM, reset before each case; the largest process), and the proxy's ratios to the floor
and to direct. Then the targets of the performance issue, each with its figure and verdict.

wrk comes from Debian: when missing it is installed with apt-get (root only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.stub_upstream import EMAIL, HOME_ID, KEY, SMALL_ZONE, ZONE_IDS
from proxy.ids import v1_number

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = (1, 64)
PAGE = 1000  # the proxy's page size for listings


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, str]
    # The v4 requests the case becomes on a warm cache: (method, path, JSON body or None).
    direct: tuple[tuple[str, str, dict[str, Any] | None], ...]
    seconds_factor: float = 1.0


def _case_list() -> list[Case]:
    small = ZONE_IDS[SMALL_ZONE]
    home = f"/zones/{small}/dns_records/{HOME_ID}"
    edit = {"type": "A", "name": "home.bench.example", "content": "192.0.2.1", "ttl": 1}

    def listing(zone: str, records: int) -> tuple[tuple[str, str, None], ...]:
        pages = -(-records // PAGE)
        return tuple(("GET", f"/zones/{ZONE_IDS[zone]}/dns_records?page={page}&per_page={PAGE}",
                      None) for page in range(1, pages + 1))

    return [
        Case("sec_lvl", {"a": "sec_lvl", "z": SMALL_ZONE, "v": "high"},
             (("PATCH", f"/zones/{small}/settings/security_level", {"value": "high"}),)),
        Case("rec_new", {"a": "rec_new", "z": SMALL_ZONE, "type": "A", "name": "new",
                         "content": "192.0.2.9", "ttl": "1"},
             (("POST", f"/zones/{small}/dns_records",
               {"type": "A", "name": "new.bench.example", "content": "192.0.2.9", "ttl": 1}),)),
        # As DDNS clients send it: no service_mode.
        Case("rec_edit", {"a": "rec_edit", "z": SMALL_ZONE, "id": str(v1_number(HOME_ID)),
                          "type": "A", "name": "home", "content": "192.0.2.1", "ttl": "1"},
             (("GET", home, None), ("PATCH", home, edit))),
        Case("rec_load_all 1k", {"a": "rec_load_all", "z": "records1k.example"},
             listing("records1k.example", 1000)),
        Case("rec_load_all 10k", {"a": "rec_load_all", "z": "records10k.example"},
             listing("records10k.example", 10_000), seconds_factor=2.0),
    ]


CASES = _case_list()


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server under test, started as a child process; its whole process tree is measured."""

    name: str
    command: list[str]
    log: Path
    ready_path: str = "/"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        command = [arg.replace("{port}", str(self.port)) for arg in self.command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CF_V1_PROXY_")}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(self.url + self.ready_path, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def pids(self) -> list[int]:
        """The process and all its descendants (uvicorn's workers)."""
        assert self.process is not None
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLK_TCK

    def settle(self) -> None:
        """Wait until calls left over from the last run (their clients gone) have ended."""
        before = self.cpu_seconds()
        for _ in range(200):
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - before < 0.02:
                return
            before = now

    def reset_peak_rss(self) -> None:
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass  # then VmHWM is the peak since the process started

    def peak_rss_mb(self) -> float:
        peak = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        return peak / 1024


# --- load -----------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


LUA = """
local requests = {%(requests)s}
local counter = 0
request = function()
  counter = counter + 1
  local r = requests[(counter - 1) %% #requests + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK {\\"requests\\":%%d,\\"us\\":%%d,\\"p50\\":%%d,\\"p99\\":%%d,\\"errors\\":%%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_script(requests: list[tuple[str, str, dict[str, str], bytes]]) -> str:
    def quote(text: str) -> str:
        return '"' + "".join(ch if ch.isalnum() or ch in " /?&=.-_:,{}" else f"\\{ord(ch):03d}"
                             for ch in text) + '"'

    rows = []
    for method, path, headers, body in requests:
        head = ", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in headers.items())
        rows.append(f"{{{quote(method)}, {quote(path)}, {{{head}}}, {quote(body.decode())}}}")
    return LUA % {"requests": ", ".join(rows)}


def wrk(url: str, script: Path, connections: int, seconds: float) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "60s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    data = json.loads(line[4:])
    return Load(data["requests"], data["us"] / 1e6, data["p50"] / 1000, data["p99"] / 1000,
                data["errors"])


def v1_request(case: Case) -> tuple[str, str, dict[str, str], bytes]:
    body = urlencode({**case.params, "email": EMAIL, "tkn": KEY}).encode()
    return ("POST", "/api_json.html",
            {"Content-Type": "application/x-www-form-urlencoded"}, body)


def v4_requests(case: Case) -> list[tuple[str, str, dict[str, str], bytes]]:
    headers = {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
    found = []
    for method, path, body in case.direct:
        if body is None:
            found.append((method, path, headers, b""))
        else:
            found.append((method, path, {**headers, "Content-Type": "application/json"},
                          json.dumps(body).encode()))
    return found


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing it from Debian (apt-get install wrk)", flush=True)
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing and this is not root: run `apt-get install wrk` first")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    connections: int
    target: str
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None = None
    v4_per_v1: float | None = None
    rss_mb: float | None = None
    errors: int = 0


def median_row(runs: list[Row]) -> Row:
    """One row of the median of each figure over repeated runs of the same measurement."""

    def median(attr: str) -> Any:
        values = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
        return statistics.median(values) if values else None

    first = runs[0]
    return Row(first.case, first.connections, first.target, median("rate"), median("p50_ms"),
               median("p99_ms"), median("cpu_ms"), first.v4_per_v1, median("rss_mb"),
               sum(r.errors for r in runs))


def calls_at_stub(stub: Server) -> int:
    return int(httpx.get(stub.url + "/__calls", timeout=5).text)


def settled_calls(stub: Server) -> int:
    """The stub's count once calls left over from a load run (still in flight) have ended."""
    count = calls_at_stub(stub)
    while True:
        time.sleep(0.3)
        now = calls_at_stub(stub)
        if now == count:
            return count
        count = now


def v4_per_v1(server: Server, stub: Server, case: Case, calls: int = 10) -> float:
    """v4 calls per v1 call on a warm cache, over sequential calls whose answers must succeed."""
    with httpx.Client(timeout=60) as client:
        body = {**case.params, "email": EMAIL, "tkn": KEY}
        client.post(server.url + "/api_json.html", data=body)  # warm
        before = settled_calls(stub)
        for _ in range(calls):
            answer = client.post(server.url + "/api_json.html", data=body).json()
            if answer.get("result") != "success":
                raise SystemExit(f"{server.name} {case.name}: {str(answer)[:300]}")
        return (calls_at_stub(stub) - before) / calls


def measure(server: Server, stub: Server, case: Case, script: Path, connections: int,
            seconds: float, target: str) -> Row:
    wrk(server.url + "/api_json.html", script, connections, 1)  # warm every connection
    server.settle()
    server.reset_peak_rss()
    cpu = server.cpu_seconds()
    load = wrk(server.url + "/api_json.html", script, connections, seconds * case.seconds_factor)
    cpu = server.cpu_seconds() - cpu
    return Row(case.name, connections, target, load.rate, load.p50_ms, load.p99_ms,
               cpu * 1000 / load.requests if load.requests else None, None,
               server.peak_rss_mb(), load.errors)


def measure_direct(stub: Server, case: Case, script: Path, connections: int,
                   seconds: float) -> Row:
    load = wrk(stub.url + "/", script, connections, seconds * case.seconds_factor)
    n = len(case.direct)
    # One v1 call's worth: its v4 requests one after another.
    return Row(case.name, connections, "direct", load.rate / n, load.p50_ms * n,
               load.p99_ms * n, errors=load.errors)


async def _list_directly(stub: Server, case: Case, seconds: float) -> list[float]:
    """A v4 client listing the zone itself: every page in turn, each decoded (aiohttp)."""
    import aiohttp

    headers = {"X-Auth-Email": EMAIL, "X-Auth-Key": KEY}
    times: list[float] = []
    async with aiohttp.ClientSession(stub.url) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end or len(times) < 5:
            started = time.perf_counter()
            records: list[Any] = []
            for _, path, _ in case.direct:
                async with http.get(path, headers=headers) as response:
                    records.extend(json.loads(await response.read())["result"])
            times.append((time.perf_counter() - started) * 1000)
    return times


# --- report ---------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if value < 1000 else f"{value:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.2f}×"


def print_table(rows: list[Row], direct_listing: dict[str, float]) -> None:
    head = (f"{'case':<17}{'conc':>4}  {'target':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'CPU ms/req':>11}{'v4/v1':>6}{'RSS MB':>8}  {'CPU÷floor':>9}{'p50÷floor':>10}"
            f"{'p50÷direct':>11}{'+p50 ms':>8}{'req/s÷direct':>13}")
    print(head)
    print("-" * len(head))
    last = None
    for row in rows:
        if last is not None and (row.case, row.connections) != last:
            print()
        last = (row.case, row.connections)
        same = {r.target: r for r in rows
                if (r.case, r.connections) == (row.case, row.connections)}
        floor, direct = same.get("floor"), same.get("direct")
        ratios = ""
        if row.target.startswith("proxy"):
            ratios = (
                f"  {ratio(row.cpu_ms, floor.cpu_ms if floor else None):>9}"
                f"{ratio(row.p50_ms, floor.p50_ms if floor else None):>10}"
                f"{ratio(row.p50_ms, direct.p50_ms if direct else None):>11}"
                f"{fmt(row.p50_ms - direct.p50_ms if direct else None):>8}"
                f"{ratio(row.rate, direct.rate if direct else None):>13}"
            )
        flag = f"  ({row.errors} errors)" if row.errors else ""
        print(f"{row.case:<17}{row.connections:>4}  {row.target:<10}{row.rate:>8.0f}"
              f"{fmt(row.p50_ms):>9}{fmt(row.p99_ms):>9}{fmt(row.cpu_ms, 3):>11}"
              f"{fmt(row.v4_per_v1, 1):>6}{fmt(row.rss_mb, 0):>8}{ratios}{flag}")
    if direct_listing:
        print("\nlisting directly: a v4 client (aiohttp, json.loads) reading every page in turn,"
              " p50 ms")
        for name, ms in direct_listing.items():
            print(f"  {name:<17}{ms:>8.1f}")


def find(rows: list[Row], case: str, connections: int, target: str) -> Row | None:
    return next((r for r in rows if (r.case, r.connections, r.target)
                 == (case, connections, target)), None)


def print_targets(rows: list[Row], direct_listing: dict[str, float],
                  calls: dict[str, float]) -> None:
    print("\ntargets (proxy with one worker unless named)")
    verdicts: list[tuple[str, str, bool | None]] = []
    for case in ("sec_lvl", "rec_new"):
        proxy, floor = find(rows, case, 64, "proxy"), find(rows, case, 64, "floor")
        if proxy and floor and proxy.cpu_ms and floor.cpu_ms:
            share = proxy.cpu_ms / floor.cpu_ms
            verdicts.append((f"{case} CPU per call at 64 conns ≤ 1.75 × floor",
                             f"{proxy.cpu_ms:.3f} / {floor.cpu_ms:.3f} ms = {share:.2f}×",
                             share <= 1.75))
    for case in ("sec_lvl", "rec_new", "rec_edit"):
        proxy, direct = find(rows, case, 1, "proxy"), find(rows, case, 1, "direct")
        if proxy and direct:
            added = proxy.p50_ms - direct.p50_ms
            if case == "rec_edit":  # two v4 calls: shown, but the target is for one-call actions
                verdicts.append((f"{case} added p50 at 1 conn (two v4 calls)",
                                 f"{added:.2f} ms", None))
            else:
                verdicts.append((f"{case} added p50 at 1 conn ≤ 1 ms", f"{added:.2f} ms",
                                 added <= 1.0))
    wanted = {"sec_lvl": 1, "rec_new": 1, "rec_edit": 2, "rec_load_all 1k": 1,
              "rec_load_all 10k": 10, "rec_delete": 1, "cache_lvl": 1, "devmode": 1,
              "ipv46": 1, "async": 1, "fpurge_ts": 1, "zone_file_purge": 1}
    for name, value in calls.items():
        limit = wanted.get(name)
        if limit is not None:
            verdicts.append((f"{name} v4 calls per v1 call ≤ {limit}", f"{value:g}",
                             value <= limit))
    for name in ("rec_load_all 10k",):
        proxy = find(rows, name, 1, "proxy")
        listed = direct_listing.get(name)
        if proxy and listed:
            share = proxy.p50_ms / listed
            verdicts.append((f"{name} time ≤ 1.3 × listing directly",
                             f"{proxy.p50_ms:.1f} / {listed:.1f} ms = {share:.2f}×",
                             share <= 1.3))
        peak = max((r.rss_mb or 0 for r in rows if r.case == name and r.target == "proxy"),
                   default=None)
        if peak:
            verdicts.append((f"{name} peak RSS ≤ 150 MB", f"{peak:.0f} MB", peak <= 150))
    for text, figure, ok in verdicts:
        mark = {True: "holds", False: "MISSED", None: "info"}[ok]
        print(f"  {mark:<7}{text:<50}{figure}")


# --- main -----------------------------------------------------------------------------------


# Actions beyond the load cases whose v4 calls per v1 call are checked (warm cache).
EXTRA_CALL_CHECKS: dict[str, dict[str, str]] = {
    "cache_lvl": {"a": "cache_lvl", "z": SMALL_ZONE, "v": "agg"},
    "devmode": {"a": "devmode", "z": SMALL_ZONE, "v": "0"},
    "ipv46": {"a": "ipv46", "z": SMALL_ZONE, "v": "1"},
    "async": {"a": "async", "z": SMALL_ZONE, "v": "a"},
    "fpurge_ts": {"a": "fpurge_ts", "z": SMALL_ZONE, "v": "1"},
    "zone_file_purge": {"a": "zone_file_purge", "z": SMALL_ZONE,
                        "url": "http://bench.example/a.css"},
    "rec_delete": {"a": "rec_delete", "z": SMALL_ZONE, "id": str(v1_number(HOME_ID))},
}


def main() -> None:
    parser = argparse.ArgumentParser(description="cf-v1-proxy performance benchmark")
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="measured seconds per run (the 10k listing runs twice as long)")
    parser.add_argument("--no-workers", action="store_true", help="skip the --workers 2 runs")
    parser.add_argument("--cases", nargs="*", metavar="CASE",
                        help="only these cases (names as printed, e.g. sec_lvl)")
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="measure every row N times, in turns, and print the median of "
                        "each figure (N × the time)")
    args = parser.parse_args()
    ensure_wrk()
    began = time.monotonic()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cf-v1-bench-")))
        py = sys.executable
        stub = Server("stub", [py, "-m", "bench.stub_upstream", "--port", "{port}"],
                      tmp / "stub.log", "/__calls")
        stub.start()
        stack.callback(stub.stop)
        proxy_args = [py, "-m", "proxy", "serve", "--upstream", stub.url, "--port", "{port}",
                      "--rate-budget", "100000000/1", "--migration-db", ""]
        targets = [Server("proxy", proxy_args, tmp / "proxy.log", "/healthz")]
        if not args.no_workers:
            targets.append(Server("proxy ×2", [*proxy_args, "--workers", "2"],
                                  tmp / "proxy2.log", "/healthz"))
        targets.append(Server("floor", [py, "-m", "bench.floor", "--port", "{port}",
                                        "--upstream", stub.url], tmp / "floor.log"))
        for server in targets:
            server.start()
            stack.callback(server.stop)

        rows: list[Row] = []
        calls: dict[str, float] = {}
        cases = [c for c in CASES if not args.cases or c.name in args.cases]
        for case in cases:
            v1_script = tmp / "v1.lua"
            v1_script.write_text(lua_script([v1_request(case)]))
            v4_script = tmp / "v4.lua"
            v4_script.write_text(lua_script(v4_requests(case)))
            runs: dict[tuple[str, int], list[Row]] = {}
            per_call: dict[str, float] = {}
            for server in targets:
                per_call[server.name] = v4_per_v1(server, stub, case)
            calls[case.name] = per_call["proxy"]
            # In turns, so that a noisy spell of the machine spreads over every target.
            for _ in range(max(1, args.repeat)):
                for server in targets:
                    for connections in CONCURRENCY:
                        row = measure(server, stub, case, v1_script, connections, args.seconds,
                                      server.name)
                        row.v4_per_v1 = per_call[server.name]
                        runs.setdefault((server.name, connections), []).append(row)
                        print(f"  {case.name} {server.name} c={connections}: "
                              f"{row.rate:.0f} req/s", file=sys.stderr, flush=True)
                for connections in CONCURRENCY:
                    runs.setdefault(("direct", connections), []).append(
                        measure_direct(stub, case, v4_script, connections, args.seconds))
            rows += [median_row(measured) for measured in runs.values()]

        for name, params in EXTRA_CALL_CHECKS.items():
            calls[name] = v4_per_v1(targets[0], stub, Case(name, params, ()))

        listing: dict[str, float] = {}
        for case in cases:
            if case.name.startswith("rec_load_all"):
                times = asyncio.run(_list_directly(stub, case, min(args.seconds, 3)))
                listing[case.name] = statistics.median(times)

        order = {"proxy": 0, "proxy ×2": 1, "floor": 2, "direct": 3}
        rows.sort(key=lambda r: ([c.name for c in CASES].index(r.case), r.connections,
                                 order[r.target]))
        repeat = f", median of {args.repeat} runs" if args.repeat > 1 else ""
        print(f"\ncf-v1-proxy benchmark: {os.cpu_count()} cores, {args.seconds:g} s per run"
              f"{repeat}, wrk on loopback; took {time.monotonic() - began:.0f} s\n")
        print_table(rows, listing)
        print_targets(rows, listing, calls)
        if args.json:
            args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))


if __name__ == "__main__":
    main()

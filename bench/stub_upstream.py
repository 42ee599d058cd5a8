"""A fast stub of Cloudflare API v4 for the benchmark: fixed answers, no state, no checks.

    python -m bench.stub_upstream --port 8901

It answers only the v4 routes the benchmarked v1 actions call, at the root (the proxy runs
with `--upstream http://127.0.0.1:PORT`):

    GET    /zones?name=NAME                      the zone, for the three zones in ZONES
    PATCH  /zones/{id}/settings/{setting}        a fixed setting
    POST   /zones/{id}/dns_records               a fixed record
    GET    /zones/{id}/dns_records?page=&per_page=   a page of the zone's records, result_info
    GET    /zones/{id}/dns_records/{rid}         a fixed record with that id
    PATCH  /zones/{id}/dns_records/{rid}         the same
    DELETE /zones/{id}/dns_records/{rid}         {"id": rid}
    POST   /zones/{id}/purge_cache               {"id": id}

`GET /__calls` answers how many v4 requests it has served (itself not counted). Each answer is
built once per distinct request line and then served from a dict, so the stub costs little
CPU beside the proxy on the same cores: it runs on uvloop with the httptools parser, as a bare
asyncio protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httptools
import uvloop

EMAIL = "bench@example.com"
KEY = "0123456789abcdef0123456789abcdef01234"  # fixed, so the proxy's zone cache stays warm
SMALL_ZONE = "bench.example"
# zone name -> number of records
ZONES = {SMALL_ZONE: 3, "records1k.example": 1000, "records10k.example": 10_000}
STAMP = "2024-01-01T00:00:00.000000Z"


def v4_id(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


ZONE_IDS = {name: v4_id("zone", name) for name in ZONES}
ZONE_NAMES = {zid: name for name, zid in ZONE_IDS.items()}
# The record the bench edits (an A record, as a DDNS client updates).
HOME_ID = v4_id("record", SMALL_ZONE, 0)


def zone(name: str) -> dict[str, Any]:
    return {
        "id": ZONE_IDS[name], "name": name, "status": "active", "paused": False,
        "type": "full", "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None, "original_registrar": None, "original_dnshost": None,
        "account": {"id": v4_id("account"), "name": "bench"},
        "owner": {"id": v4_id("user"), "type": "user", "email": None},
        "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website",
                 "legacy_id": "free"},
        "permissions": ["#dns_records:edit", "#zone_settings:edit"],
        "created_on": STAMP, "modified_on": STAMP, "activated_on": STAMP,
    }


def record(zone_name: str, index: int, record_id: str | None = None) -> dict[str, Any]:
    name = "home" if index == 0 else f"host{index}"
    return {
        "id": record_id or v4_id("record", zone_name, index),
        "zone_id": ZONE_IDS[zone_name], "zone_name": zone_name,
        "name": f"{name}.{zone_name}", "type": "A",
        "content": f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
        "proxiable": True, "proxied": index % 2 == 1, "ttl": 1, "locked": False,
        "meta": {"auto_added": False, "managed_by_apps": False,
                 "managed_by_argo_tunnel": False, "source": "primary"},
        "comment": None, "tags": [], "created_on": STAMP, "modified_on": STAMP,
    }


def envelope(result: Any, info: dict[str, int] | None = None) -> bytes:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return json.dumps(body, separators=(",", ":")).encode()


ERROR_404 = json.dumps({"success": False, "errors": [{"code": 7003, "message": "No route"}],
                        "messages": [], "result": None}).encode()


@lru_cache(maxsize=4096)
def answer(method: str, url: str) -> tuple[int, bytes]:
    """The fixed answer for a request line: (status, body)."""
    split = urlsplit(url)
    parts = split.path.strip("/").split("/")
    query = {k: v[-1] for k, v in parse_qs(split.query).items()}
    if parts[:1] != ["zones"]:
        return 404, ERROR_404
    if len(parts) == 1 and method == "GET":
        name = query.get("name")
        found = [zone(name)] if name in ZONES else []
        info = {"page": 1, "per_page": 50, "count": len(found), "total_count": len(found),
                "total_pages": 1}
        return 200, envelope(found, info)
    zone_name = ZONE_NAMES.get(parts[1]) if len(parts) > 1 else None
    if zone_name is None:
        return 404, ERROR_404
    rest = parts[2:]
    if len(rest) == 2 and rest[0] == "settings" and method == "PATCH":
        return 200, envelope({"id": rest[1], "value": "on" if rest[1] != "security_level"
                              else "high", "editable": True, "modified_on": STAMP,
                              "time_remaining": 0})
    if rest == ["purge_cache"] and method == "POST":
        return 200, envelope({"id": parts[1]})
    if rest == ["dns_records"] and method == "POST":
        return 200, envelope(record(zone_name, 1_000_000, v4_id("new", zone_name)))
    if rest == ["dns_records"] and method == "GET":
        per_page = int(query.get("per_page", 100))
        page = int(query.get("page", 1))
        total = ZONES[zone_name]
        first = (page - 1) * per_page
        items = [record(zone_name, i) for i in range(first, min(total, first + per_page))]
        info = {"page": page, "per_page": per_page, "count": len(items), "total_count": total,
                "total_pages": max(1, -(-total // per_page))}
        return 200, envelope(items, info)
    if len(rest) == 2 and rest[0] == "dns_records":
        if method in ("GET", "PATCH"):
            return 200, envelope(record(zone_name, 0, rest[1]))
        if method == "DELETE":
            return 200, envelope({"id": rest[1]})
    return 404, ERROR_404


class Stats:
    calls = 0


REASONS = {200: b"OK", 404: b"Not Found"}


class StubProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        assert self.transport is not None
        method = self.parser.get_method().decode()
        url = self.url.decode()
        if url == "/__calls":
            status, body = 200, str(Stats.calls).encode()
        else:
            Stats.calls += 1
            status, body = answer(method, url)
        head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        self.transport.write(head % (status, REASONS[status], len(body)) + body)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(StubProtocol, host, port, backlog=1024)
    print(f"stub v4 upstream on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()

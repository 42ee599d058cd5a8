"""The floor: the leanest Python forward of a v1 form POST to v4 JSON calls and back.

    python -m bench.floor --port 8902 --upstream http://127.0.0.1:8901

aiohttp's server and client on uvloop, no framework, no checks, no logging: it makes the same
v4 calls as the proxy for the benchmarked actions (with the same warm caches: zone ids, record
ids) and answers the v4 result in a minimal v1-like envelope. Whatever the proxy costs beyond
this is the price of its translation, its checks and its HTTP stack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import aiohttp
import uvloop
from aiohttp import web

from proxy.ids import v1_number

LEVELS = {"help": "under_attack", "high": "high", "med": "medium", "low": "low",
          "eoff": "essentially_off"}
PER_PAGE = 1000


class Floor:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.http: aiohttp.ClientSession | None = None
        self.zones: dict[str, str] = {}
        self.records: dict[int, str] = {}

    async def call(self, method: str, path: str, headers: dict[str, str],
                   body: Any = None) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.request(method, self.upstream + path, json=body,
                                     headers=headers) as response:
            answer: dict[str, Any] = json.loads(await response.read())
            return answer

    async def zone_id(self, name: str, headers: dict[str, str]) -> str:
        if name not in self.zones:
            answer = await self.call("GET", f"/zones?name={name}", headers)
            self.zones[name] = answer["result"][0]["id"]
        return self.zones[name]

    async def listing(self, zone: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        path = f"/zones/{zone}/dns_records?per_page={PER_PAGE}&page="
        first = await self.call("GET", path + "1", headers)
        records: list[dict[str, Any]] = first["result"]
        rest = await asyncio.gather(*(
            self.call("GET", path + str(page), headers)
            for page in range(2, first["result_info"]["total_pages"] + 1)
        ))
        for answer in rest:
            records.extend(answer["result"])
        return records

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        action = form.get("a")
        headers = {"X-Auth-Email": str(form["email"]), "X-Auth-Key": str(form["tkn"])}
        zone = await self.zone_id(str(form["z"]), headers)
        records = f"/zones/{zone}/dns_records"
        result: Any
        if action == "sec_lvl":
            body = {"value": LEVELS[str(form["v"])]}
            result = (await self.call("PATCH", f"/zones/{zone}/settings/security_level",
                                      headers, body))["result"]
        elif action == "rec_new":
            body = {"type": form["type"], "name": form["name"], "content": form["content"],
                    "ttl": int(str(form.get("ttl", 1)))}
            result = (await self.call("POST", records, headers, body))["result"]
        elif action == "rec_edit":
            number = int(str(form["id"]))
            if number not in self.records:
                self.records.update(
                    (v1_number(r["id"]), r["id"]) for r in await self.listing(zone, headers))
            path = f"{records}/{self.records[number]}"
            await self.call("GET", path, headers)
            body = {"type": form["type"], "name": form["name"], "content": form["content"],
                    "ttl": int(str(form.get("ttl", 1)))}
            result = (await self.call("PATCH", path, headers, body))["result"]
        elif action == "rec_load_all":
            result = {"recs": {"objs": await self.listing(zone, headers)}}
        else:
            return web.json_response({"result": "error", "msg": "unknown action"})
        payload = {"response": result, "result": "success", "msg": None}
        return web.Response(body=json.dumps(payload).encode(), content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8902)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    floor = Floor(args.upstream)

    async def start(_: web.Application) -> None:
        floor.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def stop(_: web.Application) -> None:
        assert floor.http is not None
        await floor.http.close()

    app = web.Application()
    app.router.add_post("/api_json.html", floor.handle)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None,
                loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()

"""/metrics: parsed with prometheus-client's own parser, it shows the calls a test made."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import KEY, RunningProxy

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(proxy: RunningProxy) -> tuple[str, Samples]:
    response = httpx.get(f"{proxy.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_show_the_v1_and_v4_calls_a_test_made(proxy: RunningProxy) -> None:
    for _ in range(2):
        assert proxy.v1(a="rec_load_all", z="example.com").json()["result"] == "success"
    assert proxy.v1("POST", a="sec_lvl", z="example.com", v="high").json()["result"] == "success"
    assert proxy.v1(a="rec_load_all", z="nowhere.example").json()["result"] == "error"
    assert proxy.v1(a="stats", z="example.com").status_code == 410

    text, samples = scrape(proxy)

    v1 = "cf_v1_proxy_v1_calls_total"
    assert value(samples, v1, action="rec_load_all", result="success") == 2
    assert value(samples, v1, action="rec_load_all", result="error") == 1
    assert value(samples, v1, action="sec_lvl", result="success") == 1
    assert value(samples, v1, action="stats", result="gone") == 1
    assert value(samples, "cf_v1_proxy_v1_call_seconds_count", action="rec_load_all") == 3

    v4 = "cf_v1_proxy_v4_calls_total"
    records = "/zones/{id}/dns_records"
    assert value(samples, v4, method="GET", route=records, status="200") == 2
    assert value(samples, v4, method="PATCH", route="/zones/{id}/settings/security_level",
                 status="200") == 1
    # One zone lookup for example.com, one for the zone that does not exist.
    assert value(samples, v4, method="GET", route="/zones", status="200") == 2
    assert value(samples, "cf_v1_proxy_v4_call_seconds_count", method="GET", route=records) == 2
    assert sum(v for (name, _), v in samples.items() if name == v4) == len(proxy.v4_calls)

    lookups = "cf_v1_proxy_zone_cache_lookups_total"
    assert value(samples, lookups, result="miss") == 2
    assert value(samples, lookups, result="hit") == 2
    assert value(samples, "cf_v1_proxy_rate_refusals_total", reason="budget") == 0

    # No v4 id, zone id or client text in any label.
    assert not re.search(r"[0-9a-f]{32}", text)
    assert "example.com" not in text and "nowhere" not in text


def test_labels_never_carry_client_text(proxy: RunningProxy) -> None:
    assert proxy.v1(a=f"rec_load_all{KEY}", z="example.com").status_code == 410
    assert proxy.v1(a="<b>made-up</b>").status_code == 410

    text, samples = scrape(proxy)

    assert value(samples, "cf_v1_proxy_v1_calls_total", action="unknown", result="gone") == 2
    assert KEY not in text and "made-up" not in text


def test_rate_budget_refusals_are_counted(start_proxy: Callable[..., RunningProxy]) -> None:
    # rec_load_all reserves 2 calls (zone lookup + listing): the second call does not fit.
    proxy = start_proxy(rate_budget=(3, 300.0))
    assert proxy.v1(a="rec_load_all", z="example.com").json()["result"] == "success"
    refused = proxy.v1(a="rec_load_all", z="example.com").json()
    assert refused["err_code"] == "E_MAXAPI"

    _, samples = scrape(proxy)

    assert value(samples, "cf_v1_proxy_rate_refusals_total", reason="budget") == 1
    assert value(samples, "cf_v1_proxy_v1_calls_total", action="rec_load_all",
                 result="error") == 1


def test_each_app_counts_only_its_own_calls(start_proxy: Callable[..., RunningProxy]) -> None:
    first, second = start_proxy(), start_proxy()
    first.v1(a="zone_load_multi")
    first.v1(a="zone_load_multi")
    second.v1(a="zone_load_multi")

    calls = "cf_v1_proxy_v1_calls_total"
    assert value(scrape(first)[1], calls, action="zone_load_multi", result="success") == 2
    assert value(scrape(second)[1], calls, action="zone_load_multi", result="success") == 1

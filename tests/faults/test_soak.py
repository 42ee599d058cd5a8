"""A bounded soak: 200 concurrent v1 clients for about a minute through a proxy process, in
front of a v4 that misbehaves on about 5 % of its requests (`bench/soak.py` runs it longer).

It proves under load what the fault suite proves one call at a time: no write the proxy
acknowledged is lost or done twice, every answer is v1 JSON, the proxy's memory levels off
after warm-up, and its log (DEBUG, on stderr) never holds a key or an e-mail.
CF_V1_SOAK_SECONDS changes the length.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.soak import SoakConfig, run_soak

SOAK_SECONDS = float(os.environ.get("CF_V1_SOAK_SECONDS", "60"))
WARMUP_SECONDS = min(10.0, SOAK_SECONDS / 6)


def test_a_minute_of_concurrent_clients_and_faults_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    # Answers held past the read timeout hit writes as well as reads.
    report = run_soak(SoakConfig(seconds=SOAK_SECONDS, clients=200, fault_rate=0.05,
                                 warmup=WARMUP_SECONDS, late_writes=True, log_dir=tmp_path))
    print(report.summary())

    assert not report.problems, "\n".join(report.problems[:20])
    assert not report.upstream_violations, "\n".join(report.upstream_violations[:20])
    assert not report.leaks, report.leaks
    # The soak did what it claims: real load, real faults, writes acknowledged both ways.
    assert report.total_calls >= 5 * SOAK_SECONDS
    assert report.v4_faults >= 10
    assert report.acknowledged_creates >= 50 and report.acknowledged_deletes >= 10
    baseline, end = report.rss_after(WARMUP_SECONDS), report.rss_end
    assert end < baseline * 1.10, f"VmRSS grew from {baseline} KiB to {end} KiB"

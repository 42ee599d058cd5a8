"""Every upstream fault, met by a read, idempotent writes and creates, through a real socket.

For each: the exact v1 answer (HTTP 200, v1 JSON, never an err_code for an upstream failure),
and the v4 state afterwards: a write the proxy called a success is there, exactly once; a read
or an idempotent write that met one fault is repeated and succeeds; a create that may have
landed is looked for before it is sent again.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

import pytest

from tests.e2e.conftest import EMAIL, KEY, OTHER_EMAIL, OTHER_KEY
from tests.faults.conftest import V1, ZONE, Rig, ordered, secret_forms, v1_http_client
from tests.support.faulty_upstream import (
    V4_5XX_MESSAGE,
    Fault,
    FaultyUpstream,
    Predicate,
    ProxyProcess,
    SeenRequest,
    delay,
    garbage,
    matching,
    no_success,
    rate_limited,
    refuse,
    reset,
    server_error,
    slow,
    truncate,
)

UNREACHABLE = "Cloudflare API v4 could not be reached."
TIMEOUT = "Cloudflare API v4 did not answer in time."
BROKE = "Cloudflare API v4 broke off its answer."
FAILED_5XX = f"Cloudflare API v4 failed: {V4_5XX_MESSAGE}"
MAXAPI = ordered(result="error", msg="Rate limit reached, retry later.", err_code="E_MAXAPI")


def no_envelope(status: int) -> str:
    return f"Cloudflare API v4 answered HTTP {status} without a valid v4 JSON body."


LIST_RECORDS = matching("GET", "/zones/{id}/dns_records")
POST_RECORD = matching("POST", "/zones/{id}/dns_records")
DELETE_RECORD = matching("DELETE", "/zones/{id}/dns_records/{id}")
PATCH_SEC_LVL = matching("PATCH", "/zones/{id}/settings/security_level")
PURGE = matching("POST", "/zones/{id}/purge_cache")
LIST_RULES = matching("GET", "/user/firewall/access_rules/rules")
POST_RULE = matching("POST", "/user/firewall/access_rules/rules")
ANY: Predicate = lambda seen: True  # noqa: E731

_unique = itertools.count(1)

# One fault on the first attempt of the call under test; the next attempt goes through.
ONE_FAULT = [
    pytest.param(delay(0.2), id="late-within-read-timeout"),
    # Past the read timeout (0.5 s), within the call deadline (3 s): a read is asked again,
    # a write waited for.
    pytest.param(delay(1.2), id="late-past-read-timeout"),
    pytest.param(slow(0.7), id="slow-answer-after-write"),
    pytest.param(refuse(), id="connection-refused-unread"),
    pytest.param(reset(), id="reset-before-forwarding"),
    pytest.param(reset(after=True), id="reset-after-write"),
    pytest.param(truncate(), id="truncated-body"),
    pytest.param(server_error(503), id="5xx-v4-envelope"),
    pytest.param(server_error(502, html=True, forward=True), id="5xx-html-after-write"),
    pytest.param(garbage(), id="garbage-200"),
    pytest.param(garbage(forward=True), id="garbage-200-after-write"),
    pytest.param(no_success(forward=True), id="json-without-success-after-write"),
]


def inject(upstream: FaultyUpstream, fault: Fault, target: Predicate, *, times: int = 1,
           before: int = 0) -> None:
    """`fault` on the next `times` requests `target` accepts.

    A refusal happens before the request is read, so it goes by position instead: it hits
    the connection after the `before` requests that come first.
    """
    if fault.kind == "refuse":
        upstream.plan(*([None] * before), *([fault] * times))
    else:
        upstream.plan(*([fault] * times), when=target)


READ_TIMEOUT, CALL_DEADLINE = 0.5, 3.0  # tests.faults.conftest.fast_settings


def answered_in_time(fault: Fault, *, write: bool) -> bool:
    """A read waits for its answer up to the read timeout; a write that went out, up to the
    call deadline."""
    late = fault.kind in ("delay", "slow")
    return late and fault.seconds < (CALL_DEADLINE if write else READ_TIMEOUT)


def first_attempt_landed(fault: Fault) -> bool:
    """Whether the faulted write was carried out before the proxy gave up on it."""
    return fault.forward or answered_in_time(fault, write=True)


def attempts_seen(fault: Fault, *, write: bool) -> int:
    """Requests the upstream reads for a call that meets `fault` once (a refused connection
    is never read)."""
    return 1 if answered_in_time(fault, write=write) or fault.kind == "refuse" else 2


def posts_seen(fault: Fault) -> int:
    """POSTs the upstream reads for a create that meets `fault` once."""
    return 1 if first_attempt_landed(fault) or fault.kind == "refuse" else 2


def error(action: str, msg: str) -> dict[str, Any]:
    """v1's answer to an upstream failure: the action echoed, the message, no err_code."""
    return ordered(request=ordered(act=action), result="error", msg=msg)


# --- one fault: the call is repeated, or looked into, and succeeds ----------------------------


@pytest.mark.parametrize("fault", ONE_FAULT)
def test_a_read_meets_one_fault_and_succeeds_on_the_next_attempt(rig: Rig, fault: Fault) -> None:
    inject(rig.upstream, fault, LIST_RECORDS)

    body = rig.v1("rec_load_all", z=ZONE)

    assert body["result"] == "success", body
    names = sorted((r["type"], r["name"], r["content"]) for r in rig.upstream.records())
    assert sorted((o["type"], o["name"], o["content"]) for o in
                  body["response"]["recs"]["objs"]) == names
    assert len(rig.upstream.seen(LIST_RECORDS)) == attempts_seen(fault, write=False)


@pytest.mark.parametrize("fault", ONE_FAULT)
def test_sec_lvl_meets_one_fault_and_its_patch_is_repeated(rig: Rig, fault: Fault) -> None:
    wanted = {"high": "low", "low": "high"}.get(rig.upstream.setting("security_level"), "high")
    inject(rig.upstream, fault, PATCH_SEC_LVL)

    body = rig.v1("sec_lvl", z=ZONE, v=wanted)

    assert body["result"] == "success", body
    assert body["response"]["zone"]["obj"]["zone_name"] == ZONE
    assert rig.upstream.setting("security_level") == wanted
    assert len(rig.upstream.seen(PATCH_SEC_LVL)) == attempts_seen(fault, write=True)


@pytest.mark.parametrize("fault", ONE_FAULT)
def test_a_purge_meets_one_fault_and_is_repeated(rig: Rig, fault: Fault) -> None:
    purges = rig.upstream.purges()
    inject(rig.upstream, fault, PURGE)

    body = rig.v1("fpurge_ts", z=ZONE, v="1")
    rig.upstream.settle()

    assert body["result"] == "success", body
    sent = rig.upstream.seen(PURGE)
    assert len(sent) == attempts_seen(fault, write=True)
    # Purging twice is purging once: every attempt that reached v4 was carried out.
    assert rig.upstream.purges() - purges == sum(1 for s in sent if s.landed) >= 1


@pytest.mark.parametrize("fault", ONE_FAULT)
def test_rec_new_meets_one_fault_and_creates_the_record_exactly_once(
    rig: Rig, fault: Fault
) -> None:
    label = f"create-{next(_unique)}"
    inject(rig.upstream, fault, POST_RECORD)

    body = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.33", ttl="1")
    rig.upstream.settle()  # a late first attempt reaches v4 only now

    assert body["result"] == "success", body
    created = [r for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]
    assert len(created) == 1, created
    obj = body["response"]["rec"]["obj"]
    assert (obj["name"], obj["content"], obj["rec_tag"]) == (
        f"{label}.{ZONE}", "192.0.2.33", created[0]["id"])
    # A create that may have landed is looked for, and sent again only if it is absent.
    posts = rig.upstream.seen(POST_RECORD)
    assert len(posts) == posts_seen(fault), [str(p) for p in posts]
    assert sum(1 for p in posts if p.landed) == 1


@pytest.mark.parametrize("fault", ONE_FAULT)
def test_wl_meets_one_fault_and_creates_the_rule_exactly_once(rig: Rig, fault: Fault) -> None:
    ip = f"198.51.100.{next(_unique) % 250 + 1}"
    inject(rig.upstream, fault, POST_RULE, before=1)  # the rule is looked up first

    body = rig.v1("wl", key=ip, z=ZONE)
    rig.upstream.settle()

    assert body == ordered(response=ordered(result=ordered(ip=ip, action="WL")),
                           result="success", msg=None)
    assert [r for r in rig.upstream.rules() if r[2] == ip] == [("user", "whitelist", ip)]
    posts = rig.upstream.seen(POST_RULE)
    assert len(posts) == posts_seen(fault), [str(p) for p in posts]
    assert sum(1 for p in posts if p.landed) == 1
    assert rig.v1("nul", key=ip)["result"] == "success"


# --- the same fault on every attempt: the exact v1 error -------------------------------------

PERSISTENT = [
    pytest.param(delay(0.7), TIMEOUT, id="late-past-read-timeout"),
    pytest.param(reset(), BROKE, id="reset-before-forwarding"),
    pytest.param(reset(after=True), BROKE, id="reset-after-forwarding"),
    pytest.param(truncate(), BROKE, id="truncated-body"),
    pytest.param(server_error(503), FAILED_5XX, id="5xx-v4-envelope"),
    pytest.param(server_error(502, html=True), no_envelope(502), id="5xx-html"),
    pytest.param(garbage(), no_envelope(200), id="garbage-200"),
    pytest.param(no_success(), no_envelope(200), id="json-without-success"),
]


@pytest.mark.parametrize(("fault", "msg"), PERSISTENT)
def test_a_read_that_keeps_failing_answers_the_exact_v1_error_after_three_attempts(
    rig: Rig, fault: Fault, msg: str, caplog: pytest.LogCaptureFixture
) -> None:
    inject(rig.upstream, fault, LIST_RECORDS, times=3)

    body = rig.v1("rec_load_all", z=ZONE)

    assert body == error("rec_load_all", msg)
    assert len(rig.upstream.seen(LIST_RECORDS)) == 3
    # Each failure is logged with its method and v4 path.
    path = f"GET /zones/{rig.upstream.zone_id()}/dns_records"
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "proxy.upstream" and r.levelno == logging.WARNING]
    assert sum(path in line for line in warnings) == 3, warnings


def test_connections_refused_unread_answer_broke_off_or_unreachable(rig: Rig) -> None:
    # An RST right after the handshake reaches the client while it writes or reads (broke
    # off), or while it is still setting the socket up (no connection): both are fine.
    refused = rig.upstream.refused
    rig.upstream.plan(refuse(), refuse(), refuse())

    body = rig.v1("rec_load_all", z=ZONE)

    assert body in (error("rec_load_all", BROKE), error("rec_load_all", UNREACHABLE))
    assert rig.upstream.refused - refused == 3 and not rig.upstream.seen()


@pytest.mark.parametrize(("fault", "msg"), [
    pytest.param(reset(after=True), BROKE, id="reset-after-forwarding"),
    pytest.param(server_error(503), FAILED_5XX, id="5xx-v4-envelope"),
    pytest.param(no_success(), no_envelope(200), id="json-without-success"),
])
def test_sec_lvl_that_keeps_failing_answers_the_exact_v1_error(
    rig: Rig, fault: Fault, msg: str
) -> None:
    inject(rig.upstream, fault, PATCH_SEC_LVL, times=3)

    body = rig.v1("sec_lvl", z=ZONE, v="high")

    assert body == error("sec_lvl", msg)
    assert len(rig.upstream.seen(PATCH_SEC_LVL)) == 3


@pytest.mark.parametrize(("fault", "msg"), [
    pytest.param(reset(), BROKE, id="reset-before-forwarding"),
    pytest.param(server_error(503), FAILED_5XX, id="5xx-v4-envelope"),
    pytest.param(server_error(502, html=True), no_envelope(502), id="5xx-html"),
    pytest.param(garbage(), no_envelope(200), id="garbage-200"),
    pytest.param(no_success(), no_envelope(200), id="json-without-success"),
])
def test_rec_new_that_never_lands_is_sent_twice_and_answers_the_v1_error(
    rig: Rig, fault: Fault, msg: str
) -> None:
    label = f"never-{next(_unique)}"
    inject(rig.upstream, fault, POST_RECORD, times=5)

    body = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.34")

    assert body == error("rec_new", msg)
    assert len(rig.upstream.seen(POST_RECORD)) == 2  # once, and once more after looking
    assert len(rig.upstream.seen(LIST_RECORDS)) == 1
    assert not [r for r in rig.upstream.records() if r["name"].startswith(label + ".")]


@pytest.mark.parametrize("fault", [
    pytest.param(slow(0.7), id="slow-answer-after-write"),
    pytest.param(reset(after=True), id="reset-after-write"),
    pytest.param(truncate(), id="truncated-body"),
    pytest.param(server_error(502, forward=True), id="5xx-after-write"),
    pytest.param(garbage(forward=True), id="garbage-after-write"),
])
def test_rec_new_whose_every_answer_is_lost_finds_its_record_and_succeeds(
    rig: Rig, fault: Fault
) -> None:
    label = f"lost-{next(_unique)}"
    inject(rig.upstream, fault, POST_RECORD, times=5)

    body = rig.v1("rec_new", z=ZONE, type="TXT", name=label, content=" spaced text ")

    assert body["result"] == "success", body
    assert body["response"]["rec"]["obj"]["content"] == " spaced text "
    created = [r for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]
    assert [r["content"] for r in created] == [" spaced text "]
    assert len(rig.upstream.seen(POST_RECORD)) == 1


def test_rec_new_that_lands_only_after_the_proxy_gave_up_leaves_one_record(rig: Rig) -> None:
    # The POST reaches v4 only after the call deadline: the proxy answers that v4 did not
    # answer in time, and neither looks nor posts again (that POST might land after it).
    label = f"late-{next(_unique)}"
    inject(rig.upstream, delay(CALL_DEADLINE + 0.5), POST_RECORD)

    body = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.35")
    rig.upstream.settle()

    assert body == error("rec_new", TIMEOUT)
    created = [r for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]
    assert len(created) == 1
    assert [p.status for p in rig.upstream.seen(POST_RECORD)] == [200]
    assert not rig.upstream.seen(LIST_RECORDS)


def test_a_setter_unanswered_until_the_deadline_is_sent_once_and_answers_the_timeout(
    rig: Rig,
) -> None:
    wanted = {"high": "low", "low": "high"}.get(rig.upstream.setting("security_level"), "high")
    inject(rig.upstream, slow(CALL_DEADLINE + 0.5), PATCH_SEC_LVL, times=3)

    started = time.monotonic()
    body = rig.v1("sec_lvl", z=ZONE, v=wanted)
    rig.upstream.settle()

    assert body == error("sec_lvl", TIMEOUT)
    assert time.monotonic() - started < CALL_DEADLINE + 1.0
    assert len(rig.upstream.seen(PATCH_SEC_LVL)) == 1
    assert rig.upstream.setting("security_level") == wanted  # it did land, once


# --- writes that reach v4 after the proxy gave up on them ---------------------------------

PATCH_RECORD = matching("PATCH", "/zones/{id}/dns_records/{id}")


def test_a_create_that_lands_late_never_brings_back_a_deleted_record(rig: Rig) -> None:
    label = f"zombie-{next(_unique)}"
    inject(rig.upstream, delay(1.2), POST_RECORD)  # v4 gets the first POST only at 1.2 s

    created = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.40")
    deleted = rig.v1("rec_delete", z=ZONE, id=created["response"]["rec"]["obj"]["rec_id"])
    rig.upstream.settle()

    assert created["result"] == deleted["result"] == "success"
    assert not [r for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]


@pytest.mark.parametrize("action", ["rec_new", "wl"])
def test_a_create_whose_first_post_lands_between_look_and_repost_succeeds(
    rig: Rig, action: str
) -> None:
    # POST 1 gets a 503 and did not land; the look finds nothing; then, before POST 2
    # reaches v4, the same record (rule) appears, as if POST 1 had reached it after all.
    # v4 refuses POST 2 as a duplicate: the proxy looks again and answers success.
    number = next(_unique)
    target = POST_RECORD if action == "rec_new" else POST_RULE
    rig.upstream.plan(server_error(503), when=target)
    state = rig.upstream.state

    def land_first(seen: SeenRequest) -> None:
        if target(seen) and len(rig.upstream.seen(target)) == 2:
            if action == "rec_new":
                zone = next(z for z in state.zones.values() if z.name == ZONE)
                state.create_record(zone, seen.body)
            else:
                user = state.user_by_key(EMAIL, KEY)
                assert user is not None
                state.create_rule(state.user_scope(user, seen.path), seen.body)

    rig.upstream.chooser = land_first

    if action == "rec_new":
        name = f"between-{number}"
        body = rig.v1("rec_new", z=ZONE, type="A", name=name, content="192.0.2.44")
        assert body["response"]["rec"]["obj"]["name"] == f"{name}.{ZONE}"
        mine = [r for r in rig.upstream.records() if r["name"] == f"{name}.{ZONE}"]
        assert len(mine) == 1
    else:
        ip = f"203.0.113.{number % 250 + 1}"
        body = rig.v1("wl", key=ip)
        assert [r for r in rig.upstream.rules() if r[2] == ip] == [("user", "whitelist", ip)]
        assert rig.v1("nul", key=ip)["result"] == "success"

    assert body["result"] == "success", body
    assert [s.status for s in rig.upstream.seen(target)] == [None, 400]


def test_an_edit_repeated_after_a_timeout_is_not_undone_by_its_late_first_attempt(
    rig: Rig,
) -> None:
    label = f"reorder-{next(_unique)}"
    created = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.41")
    rec_id = created["response"]["rec"]["obj"]["rec_id"]
    inject(rig.upstream, delay(1.2), PATCH_RECORD)

    first = rig.v1("rec_edit", z=ZONE, id=rec_id, content="192.0.2.42")
    second = rig.v1("rec_edit", z=ZONE, id=rec_id, content="192.0.2.43")
    rig.upstream.settle()

    assert first["result"] == second["result"] == "success"
    mine = [r["content"] for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]
    assert mine == ["192.0.2.43"]


# --- rules of repetition ------------------------------------------------------------------


def test_a_v4_refusal_is_never_repeated_nor_looked_into(rig: Rig) -> None:
    body = rig.v1("rec_new", z=ZONE, type="A", name="www", content="192.0.2.1")

    assert body == ordered(request=ordered(act="rec_new"), result="error",
                           msg="Record already exists.", err_code="E_INVLDINPUT")
    assert [(s.method, s.status) for s in rig.upstream.seen()] == [("POST", 400)]


def test_a_repeated_delete_that_finds_nothing_counts_as_done(rig: Rig) -> None:
    label = f"gone-{next(_unique)}"
    created = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.36")
    rec_id = created["response"]["rec"]["obj"]["rec_id"]
    inject(rig.upstream, reset(after=True), DELETE_RECORD)

    body = rig.v1("rec_delete", z=ZONE, id=rec_id)

    assert body["result"] == "success", body
    assert [s.status for s in rig.upstream.seen(DELETE_RECORD)] == [200, 404]
    assert not [r for r in rig.upstream.records() if r["name"] == f"{label}.{ZONE}"]


@pytest.mark.parametrize("fault", [
    pytest.param(reset(), id="reset-before-forwarding"),
    pytest.param(reset(after=True), id="reset-after-write"),
])
def test_a_type_change_whose_post_is_lost_leaves_exactly_the_new_record(
    rig: Rig, fault: Fault
) -> None:
    label = f"retype-{next(_unique)}"
    created = rig.v1("rec_new", z=ZONE, type="A", name=label, content="192.0.2.37")
    rec_id = created["response"]["rec"]["obj"]["rec_id"]
    rig.upstream.forget()
    inject(rig.upstream, fault, POST_RECORD)

    body = rig.v1("rec_edit", z=ZONE, id=rec_id, type="CNAME", name=label,
                  content="target.example.net")

    assert body["result"] == "success", body
    mine = [(r["type"], r["content"]) for r in rig.upstream.records()
            if r["name"] == f"{label}.{ZONE}"]
    assert mine == [("CNAME", "target.example.net")]
    assert len(rig.upstream.seen(POST_RECORD)) == (1 if fault.forward else 2)


def test_retries_zero_gives_up_after_the_first_attempt(start_proxy: Any,
                                                       upstream: FaultyUpstream) -> None:
    v1 = start_proxy(retries=0)
    assert v1("rec_load_all", z=ZONE)["result"] == "success"
    upstream.forget()
    inject(upstream, reset(), LIST_RECORDS)

    assert v1("rec_load_all", z=ZONE) == error("rec_load_all", BROKE)
    assert len(upstream.seen()) == 1


def test_the_call_deadline_bounds_all_attempts_together(start_proxy: Any,
                                                        upstream: FaultyUpstream) -> None:
    v1 = start_proxy(call_deadline=1.2, retries=5)
    assert v1("rec_load_all", z=ZONE)["result"] == "success"
    upstream.forget()
    inject(upstream, delay(2), LIST_RECORDS, times=6)

    started = time.monotonic()
    body = v1("rec_load_all", z=ZONE)

    assert body == error("rec_load_all", TIMEOUT)
    assert time.monotonic() - started < 1.2 + 0.5
    assert len(upstream.seen(LIST_RECORDS)) <= 3


# --- no connection at all ------------------------------------------------------------------


def test_no_connection_answers_could_not_be_reached_and_logs_method_and_path(
    start_proxy: Any, upstream: FaultyUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    v1 = start_proxy()
    upstream.pause()

    started = time.monotonic()
    body = v1("rec_load_all", z=ZONE)

    assert body == error("rec_load_all", UNREACHABLE)
    assert time.monotonic() - started < 2
    assert not upstream.seen()
    warnings = [r.getMessage() for r in caplog.records if r.name == "proxy.upstream"
                and r.levelno == logging.WARNING]
    assert sum("v4 GET /zones: no connection" in w for w in warnings) == 3, warnings

    upstream.resume()
    assert v1("rec_load_all", z=ZONE)["result"] == "success"


def test_a_create_that_never_connected_is_repeated_and_made_once(
    start_proxy: Any, upstream: FaultyUpstream
) -> None:
    v1 = start_proxy(retries=5, call_deadline=6.0)
    assert v1("rec_load_all", z=ZONE)["result"] == "success"  # the zone is now cached
    upstream.forget()
    upstream.unreachable_for(0.4)

    body = v1("rec_new", z=ZONE, type="A", name="offline", content="192.0.2.38")

    assert body["result"] == "success", body
    assert [(s.method, s.status) for s in upstream.seen()] == [("POST", 200)]
    assert len([r for r in upstream.records() if r["name"] == f"offline.{ZONE}"]) == 1


# --- 429 and the rate budget -------------------------------------------------------------


def test_a_429_answers_e_maxapi_at_once_and_blocks_the_key_until_retry_after(
    start_proxy: Any, upstream: FaultyUpstream
) -> None:
    v1 = start_proxy()
    assert v1("rec_load_all", z=ZONE)["result"] == "success"
    upstream.forget()
    upstream.plan(rate_limited("1"))

    limited_at = time.monotonic()
    assert v1("rec_load_all", z=ZONE) == MAXAPI
    assert len(upstream.seen()) == 1  # never repeated

    # Blocked: neither a read nor a write reaches v4, for this key only.
    assert v1("rec_load_all", z=ZONE) == MAXAPI
    assert v1("sec_lvl", z=ZONE, v="high") == MAXAPI
    assert len(upstream.seen()) == 1
    other = v1("rec_load_all", z="example.net", email=OTHER_EMAIL, tkn=OTHER_KEY)
    assert other["result"] == "success"

    upstream.forget()
    time.sleep(max(0.0, limited_at + 1.1 - time.monotonic()))
    assert v1("rec_load_all", z=ZONE)["result"] == "success"
    assert len(upstream.seen()) == 1


def test_a_429_without_retry_after_blocks_for_a_minute(
    start_proxy: Any, upstream: FaultyUpstream
) -> None:
    v1 = start_proxy()
    upstream.plan(rate_limited(None))

    assert v1("rec_load_all", z=ZONE) == MAXAPI
    time.sleep(1.1)
    assert v1("rec_load_all", z=ZONE) == MAXAPI
    assert len(upstream.seen()) == 1


def test_a_429_without_a_v4_envelope_is_a_rate_limit_too(
    start_proxy: Any, upstream: FaultyUpstream
) -> None:
    v1 = start_proxy()
    upstream.plan(rate_limited("30", envelope=False))

    assert v1("sec_lvl", z=ZONE, v="high") == MAXAPI
    assert v1("sec_lvl", z=ZONE, v="high") == MAXAPI
    assert len(upstream.seen()) == 1


def test_a_429_on_a_create_is_neither_repeated_nor_looked_into(
    start_proxy: Any, upstream: FaultyUpstream
) -> None:
    v1 = start_proxy()
    assert v1("rec_load_all", z=ZONE)["result"] == "success"
    upstream.forget()
    upstream.plan(rate_limited("1"), when=POST_RECORD)

    assert v1("rec_new", z=ZONE, type="A", name="limited", content="192.0.2.39") == MAXAPI
    assert [s.method for s in upstream.seen()] == ["POST"]
    assert not [r for r in upstream.records() if r["name"] == f"limited.{ZONE}"]


def test_the_rate_budget_answers_e_maxapi_before_any_v4_call_once_spent(
    upstream: FaultyUpstream, tmp_path: Any
) -> None:
    with ProxyProcess(upstream.url, ("--rate-budget", "5/60", "--log-level", "debug"),
                      log_dir=tmp_path) as proxy, v1_http_client() as http:
        v1 = V1(proxy.url, http)
        answers = []
        for _ in range(6):
            before = len(upstream.seen())
            answers.append((v1("rec_load_all", z=ZONE), len(upstream.seen()) - before))

        refused = [(body, calls) for body, calls in answers if body["result"] == "error"]
        assert refused, answers
        for body, calls in refused:
            assert body == ordered(result="error", msg=(
                "Rate limit reached: at most 5 Cloudflare API calls per 60 seconds for this "
                "key; retry later."), err_code="E_MAXAPI")
            assert calls == 0
        assert answers[0][0]["result"] == "success"
        assert len(upstream.seen()) <= 5
        # The budget is the key's own: another key still gets through.
        other = v1("rec_load_all", z="example.net", email=OTHER_EMAIL, tkn=OTHER_KEY)
        assert other["result"] == "success"
    log = proxy.stderr()
    assert "rate budget" in log
    assert "result=error" in log and "action=rec_load_all" in log
    assert not [secret for secret in secret_forms() if secret.lower() in log.lower()]

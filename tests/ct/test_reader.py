"""Direct log reading against the lab's CT log: both APIs, restart, 429, forged heads, bad entries."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.ct.labhelp import log_infos
from watcher.context import Context
from watcher.core.models import Candidate, Event, Finding, FindingStatus, LogPosition, OwnedDomain
from watcher.discovery.ct.entries import Entry, names
from watcher.discovery.ct.reader import LogReader, open_api

LOOKALIKES = ["hoshizora-sec-login.top", "www-hoshizora-sec-co-jp.k7x2.top", "hoshizora-sec.co.jp.login-check.cn",
              "xn--hoshizora-se-khk.com", "kaede-sec-support.cn"]


def _seed(log, n_noise: int = 600) -> list[int]:  # type: ignore[no-untyped-def]
    """Lookalikes spread among noise so a batch boundary falls between them."""
    idx = []
    for i, name in enumerate(LOOKALIKES):
        log.add_noise(n_noise // len(LOOKALIKES))
        idx.append(log.add_certificate([name, "www." + name] if i % 2 else [name], precert=bool(i % 2)))
    log.add_noise(50)
    log.integrate()
    return idx


def _matched_events(ctx: Context) -> list[dict]:
    with Session(ctx.engine) as s:
        return [e.detail for e in s.exec(select(Event).where(Event.action == "ct.matched"))]


@pytest.mark.parametrize("api", ["rfc6962", "static"])
def test_restart_mid_run_matches_every_entry_exactly_once(lab_ct, ct_ctx: Context, matcher, api: str) -> None:
    idx = _seed(lab_ct)
    info = log_infos(lab_ct, api)[0]
    first = LogReader(ct_ctx, info, matcher=matcher).run(max_batches=2)  # "crash" after two batches
    assert first.read == 2 * 256
    with Session(ct_ctx.engine) as s:
        assert s.exec(select(LogPosition)).one().next_index == 512
    second = LogReader(ct_ctx, info, matcher=matcher).run()  # a new process resumes
    size = lab_ct.sth.size
    assert first.read + second.read == size
    events = _matched_events(ct_ctx)
    by_index: dict[int, list[str]] = {}
    for e in events:
        by_index.setdefault(e["index"], []).append(e["name"])
    assert sorted(by_index) == idx  # every lookalike entry, and no noise
    assert all(len(v) == len(set(v)) for v in by_index.values())  # each name exactly once
    assert len(events) == sum(len(v) for v in by_index.values())
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
        assert (pos.next_index, pos.tree_size, pos.entries_processed, pos.api) == (size, size, size, api)
        cands = {c.domain: c for c in s.exec(select(Candidate))}
    assert "hoshizora-sec-login.top" in cands
    c = cands["www-hoshizora-sec-co-jp.k7x2.top"]
    assert c.source.value == "ct" and c.facts["issuer"] == "Lab Trusted CA" and c.facts["index"] == idx[1]
    assert c.facts["precert"] is True and {"flattened", "cheap_tld"} <= {r["kind"] for r in c.reasons}
    # a third run finds nothing new to read
    assert LogReader(ct_ctx, info, matcher=matcher).run().read == 0


def test_both_apis_read_the_same_entries(lab_ct) -> None:
    _seed(lab_ct, 300)
    a = open_api(log_infos(lab_ct, "rfc6962")[0])
    b = open_api(log_infos(lab_ct, "static")[0])
    ha, hb = a.head(), b.head()
    assert (ha.size, ha.root) == (hb.size, hb.root)
    ea = [x for i in range(0, ha.size, 256) for x in a.fetch(i, min(ha.size, i + 256), want_hash=True)]
    eb = [x for i in range(0, hb.size, 256) for x in b.fetch(i, min(hb.size, i + 256), want_hash=True)]
    assert len(ea) == len(eb) == ha.size
    assert all(isinstance(x, Entry) for x in ea + eb)
    assert [x.leaf_hash for x in ea] == [x.leaf_hash for x in eb]  # type: ignore[union-attr]
    assert [names(x) for x in ea] == [names(x) for x in eb]  # type: ignore[arg-type]


@pytest.mark.reliability(
    "CT log answers 429 (Retry-After 2) three times, then 500 twice",
    "the reader waits as told, backs off without Retry-After, then reads every entry",
    area="CT logs",
)
def test_429_then_recovery(lab_ct, ct_ctx: Context, matcher, observe) -> None:
    _seed(lab_ct, 100)
    waits: list[float] = []
    lab_ct.fail_next(3, status=429, retry_after=2)
    res = LogReader(ct_ctx, log_infos(lab_ct, "rfc6962")[0], matcher=matcher, sleep=waits.append).run()
    assert res.error == "" and res.read == lab_ct.sth.size
    assert waits[:3] == [2.0, 2.0, 2.0]  # Retry-After honoured, no real sleeping in the test
    lab_ct.fail_next(2, status=500)
    res = LogReader(ct_ctx, log_infos(lab_ct, "rfc6962")[0], matcher=matcher, sleep=waits.append).run()
    assert res.error == "" and waits[3:] == [1.0, 2.0]  # exponential backoff without Retry-After
    observe(f"waited {waits[:3]} s for the 429s, {waits[3:]} s for the 500s; every entry read, no error")


def test_log_that_keeps_failing_is_recorded_not_raised(lab_ct, ct_ctx: Context, matcher) -> None:
    _seed(lab_ct, 10)
    lab_ct.fail_next(50, status=503, retry_after=1)
    res = LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher, sleep=lambda _s: None).run()
    assert "503" in res.error
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
    assert pos.state == "failing" and "503" in pos.last_error


@pytest.mark.parametrize("api", ["rfc6962", "static"])
@pytest.mark.reliability(
    "CT log ({api}) serves a forged signed tree head",
    "nothing read from it, a ct_log_invalid Finding opens; resolved when the log is honest again",
    area="CT logs",
)
def test_forged_tree_head_is_rejected(lab_ct, ct_ctx: Context, matcher, api: str, observe) -> None:
    _seed(lab_ct, 100)
    info = log_infos(lab_ct, api)[0]
    LogReader(ct_ctx, info, matcher=matcher).run()
    lab_ct.add_certificate("hoshizora-secure-account.top")
    lab_ct.integrate()
    lab_ct.forge_sth(True)
    res = LogReader(ct_ctx, info, matcher=matcher).run()
    assert "verification" in res.error and res.read == 0
    with Session(ct_ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == "ct_log_invalid")).one()
        assert f.status == FindingStatus.OPEN and f.subject == info.url
        observe(f"0 entries read, error {res.error[:60]!r}, Finding {f.kind} open")
        assert s.exec(select(Candidate).where(Candidate.domain == "hoshizora-secure-account.top")).first() is None
    lab_ct.forge_sth(False)
    res = LogReader(ct_ctx, info, matcher=matcher).run()
    assert res.error == "" and res.read == 1
    with Session(ct_ctx.engine) as s:
        assert s.exec(select(Finding).where(Finding.kind == "ct_log_invalid")).one().status == FindingStatus.RESOLVED
    observe("after the log recovered: 1 entry read, Finding resolved")


def test_forged_history_fails_consistency(lab_ct, ct_ctx: Context, matcher) -> None:
    _seed(lab_ct, 20)
    info = log_infos(lab_ct, "rfc6962")[0]
    LogReader(ct_ctx, info, matcher=matcher).run()
    with Session(ct_ctx.engine) as s:  # as if the log had shown us another tree before
        pos = s.exec(select(LogPosition)).one()
        pos.root_hash = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        pos.tree_size -= 3
        s.add(pos)
        s.commit()
    lab_ct.add_noise(10)
    res = LogReader(ct_ctx, info, matcher=matcher).run()
    assert "consistency" in res.error


@pytest.mark.parametrize("api", ["rfc6962", "static"])
@pytest.mark.reliability(
    "CT log ({api}): two logged entries are garbage bytes, not certificates (one where a lookalike would be)",
    "each is a recorded bad entry (index, reason, bytes kept as evidence); every other entry is read",
    area="CT logs",
)
def test_garbage_entry_is_recorded_and_skipped(lab_ct, ct_ctx: Context, matcher, api: str, observe) -> None:
    _seed(lab_ct, 100)
    junk = [lab_ct.add_der(b"\xff" * 40), lab_ct.add_der(b"\x30\x03\x02\x01", precert=True)]
    lab_ct.add_certificate("hoshizora-sec-after-junk.top")
    lab_ct.integrate()
    res = LogReader(ct_ctx, log_infos(lab_ct, api)[0], matcher=matcher).run()
    assert res.error == "" and res.read == lab_ct.sth.size and res.failed == 2
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
        assert pos.entries_failed == 2 and pos.next_index == lab_ct.sth.size
        failed = [e.detail for e in s.exec(select(Event).where(Event.action == "ct.entry_failed"))]
        domains = set(s.exec(select(Candidate.domain)))
    assert sorted(d["index"] for d in failed) == junk
    assert all(ct_ctx.evidence.exists(d["der_sha256"]) for d in failed)
    assert {"kaede-sec-support.cn", "hoshizora-sec-after-junk.top"} <= domains  # the rest still read
    observe(f"{res.failed} bad entries recorded at {junk} with their bytes as evidence; "
            f"{res.read - res.failed} others read, the lookalike after them found")


@pytest.mark.parametrize("api", ["rfc6962", "static"])
@pytest.mark.reliability(
    "CT log ({api}) serves bytes for an entry that are not the leaf it logged",
    "rfc6962: the batch fails verification against the tree head (ct_log_invalid Finding, nothing of it "
    "committed); static: that entry fails its hash-tile check and is a recorded bad entry",
    area="CT logs",
)
def test_entry_not_in_the_tree_is_caught(lab_ct, ct_ctx: Context, matcher, api: str, observe) -> None:
    idx = _seed(lab_ct, 100)
    lab_ct.malform_entry(idx[0])  # a lookalike entry swapped for other bytes
    res = LogReader(ct_ctx, log_infos(lab_ct, api)[0], matcher=matcher).run()
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
        invalid = s.exec(select(Finding).where(Finding.kind == "ct_log_invalid")).first()
    if api == "rfc6962":
        assert "verification" in res.error and invalid is not None
        assert pos.next_index <= idx[0]  # nothing from the forged batch was committed
        observe(f"verification failed ({res.error[:70]!r}); position stays at {pos.next_index}, before the "
                f"forged entry {idx[0]}; Finding {invalid.kind} open")
    else:
        assert res.error == "" and res.failed == 1 and pos.next_index == lab_ct.sth.size and invalid is None
        observe(f"entry {idx[0]} recorded as bad (leaf hash does not match the hash tile); the other "
                f"{res.read - 1} read")


def test_own_certificate_updates_inventory_and_flags_unexpected_issuer(lab_ct, ct_ctx: Context, matcher) -> None:
    lab_ct.add_certificate(["campaign.hoshizora-sec.co.jp"])
    lab_ct.add_certificate(["secure.hoshizora-sec.co.jp"], issuer="Unexpected CA")
    lab_ct.add_certificate(["www.hoshizora-hd.co.jp"], issuer="Unexpected CA")  # the group's: never ours
    lab_ct.integrate()
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()
    with Session(ct_ctx.engine) as s:
        owned = {o.name: o for o in s.exec(select(OwnedDomain))}
        findings = list(s.exec(select(Finding).where(Finding.kind == "cert_issuer")))
        assert not list(s.exec(select(Candidate)))
    assert owned["campaign.hoshizora-sec.co.jp"].source.value == "ct"
    assert "secure.hoshizora-sec.co.jp" in owned and "www.hoshizora-hd.co.jp" not in owned
    assert [f.subject for f in findings] == ["secure.hoshizora-sec.co.jp"]
    assert "Unexpected CA" in findings[0].title


def test_start_at_now_skips_history(lab_ct, ctx: Context, matcher) -> None:
    _seed(lab_ct, 20)
    info = log_infos(lab_ct, "static")[0]
    assert LogReader(ctx, info, matcher=matcher).run().read == 0
    lab_ct.add_certificate("hoshizora-login.top")
    lab_ct.integrate()
    assert LogReader(ctx, info, matcher=matcher).run().read == 1


@pytest.mark.reliability("a CT log's URL names a host that resolves to 169.254.169.254 (lab mode off)",
                         "the log is unavailable with the guard's reason, at once (no retries); nothing is fetched",
                         area="fetch guard (watcher's HTTP client)")
def test_ct_log_requests_pass_the_fetch_guard(lab_ct, lab_dns, tmp_path, observe) -> None:
    import dataclasses

    from tests.conftest import make_settings
    from watcher.discovery.ct.client import LogUnavailable

    _seed(lab_ct, 50)
    settings = make_settings(tmp_path, service={"lab_mode": False}, crawl={"proxy": "", "allow_addresses": []},
                             dns={"nameservers": [lab_dns.host], "port": lab_dns.port, "timeout": 1.0, "retries": 0})
    info = log_infos(lab_ct, "rfc6962")[0]
    # The log on loopback is a configured endpoint: read through the guard as before.
    assert open_api(info, settings=settings).head().size > 0
    lab_dns.set("ct.log.test", "A", "169.254.169.254")
    port = info.url.split(":")[2].split("/")[0]
    api = open_api(dataclasses.replace(info, url=f"http://ct.log.test:{port}/"), settings=settings,
                   sleep=lambda _s: pytest.fail("a refusal is not retried"))
    with pytest.raises(LogUnavailable, match="metadata") as refused:
        api.head()
    observe(f"the loopback log read as before; LogUnavailable: {refused.value}")

"""Phishing URL feeds pulled by the ``feeds`` job from the lab's web (each publisher's real format,
served through the lab's forward proxy as through an egress proxy): every format yields candidates, a
conditional GET brings nothing twice, a cap stops a huge file, a silent feed opens a Finding."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from watcher.core.config import FeedSettings
from watcher.core.models import Candidate, FeedState, Finding, FindingKind, FindingStatus, Report, Source
from watcher.discovery import feeds

FORMATS = {  # feed name -> (lab format, omamori format, extra settings)
    "jpcert": ("jpcert", "jpcert", {}),
    "openphish": ("openphish", "openphish", {}),
    "phishtank-json": ("phishtank-json", "phishtank", {}),
    "phishtank-csv": ("phishtank-csv", "phishtank", {}),
    "urlhaus": ("urlhaus", "urlhaus", {}),
    "partner-csv": ("csv", "csv", {"url_field": "phishing_link", "date_field": "observed",
                                    "description_field": "label"}),
    "partner-json": ("json", "json", {"records": "data.items", "url_field": "link", "date_field": "seen",
                                      "description_field": "brand"}),
}


def entries(name: str) -> list[dict[str, str]]:
    tag = name.replace("-", "")
    return [
        # names the brand in its description, nothing in the URL
        {"date": "2025/03/01 10:00:00", "url": f"https://{tag}-k3v9q.xyz/login.php", "brand": "ほしぞら証券"},
        # the brand in the host (the matcher)
        {"date": "2025/03/01 10:01:00", "url": f"https://hoshizora-{tag}-login.top/", "brand": "Other"},
        # the brand only in the path
        {"date": "2025/03/01 10:02:00", "url": f"http://{tag}.a8b7.shop/hoshizora/login.php", "brand": ""},
        # another firm's phishing: not ours
        {"date": "2025/03/01 10:03:00", "url": f"https://{tag}-paypal-verify.com/", "brand": "PayPal"},
    ]


@pytest.fixture
def feed_ctx(lab_web, make_synced_ctx):
    for name, (fmt, _ours, _extra) in FORMATS.items():
        lab_web.publish(f"{name}.feeds.test", "feed", format=fmt, entries=entries(name))
    ctx = make_synced_ctx(crawl={"proxy": lab_web.proxy_url, "ca_file": lab_web.ca_file})
    ctx.settings.feeds = [FeedSettings(name=name, url=f"https://{name}.feeds.test/list", format=ours, **extra)
                          for name, (_fmt, ours, extra) in FORMATS.items()]
    return ctx


def test_a_feed_in_each_format_yields_candidates_for_our_brand(feed_ctx):
    out = feeds.run(feed_ctx)
    with Session(feed_ctx.engine) as s:
        cands = {c.domain: c for c in s.exec(select(Candidate))}
        for name in FORMATS:
            assert out[name]["status"] == 200 and out[name]["rows"] == 4, (name, out[name])
            tag = name.replace("-", "")
            mine = {f"hoshizora-{tag}-login.top", f"{tag}.a8b7.shop"}
            if name != "openphish":  # a plain list has no description to name the brand
                mine.add(f"{tag}-k3v9q.xyz")
            assert mine <= set(cands), (name, sorted(cands))
            assert f"{tag}-paypal-verify.com" not in cands
            for d in mine:
                c = cands[d]
                assert c.source == Source.FEED and c.brand_id is not None and c.facts["feed"] == name
                assert any(r["kind"] == "feed" and name in r["detail"] for r in c.reasons)
            path = cands[f"{tag}.a8b7.shop"]
            assert any(r["kind"] == "in_path" and "hoshizora" in r["detail"] for r in path.reasons)
        assert len(s.exec(select(Report).where(Report.channel == "feed")).all()) == 3 * len(FORMATS) - 1


def test_a_feed_is_read_once_then_asked_conditionally(feed_ctx, lab_web):
    feeds.run(feed_ctx)
    again = feeds.run(feed_ctx)
    assert {r["status"] for r in again.values()} == {304}
    with Session(feed_ctx.engine) as s:
        st = s.exec(select(FeedState).where(FeedState.name == "jpcert")).one()
        assert st.etag and st.last_modified and st.last_status == 304
    # New rows: the next pull reads them, and only them.
    lab_web.publish("jpcert.feeds.test", "feed", format="jpcert",
                    entries=[*entries("jpcert"), {"url": "https://hoshizora-new.top/", "brand": "ほしぞら"}])
    third = feeds.run(feed_ctx)
    assert third["jpcert"]["status"] == 200 and third["jpcert"]["new_rows"] == 1


def test_a_feed_larger_than_its_cap_is_refused_and_the_others_still_run(feed_ctx, lab_web):
    lab_web.publish("big.feeds.test", "feed", format="openphish",
                    entries=[{"url": f"https://x{i}.example-phish.top/"} for i in range(5000)])
    feed_ctx.settings.feeds = [FeedSettings(name="big", url="https://big.feeds.test/", format="openphish",
                                            max_bytes=4096), *feed_ctx.settings.feeds[:1]]
    out = feeds.run(feed_ctx)
    assert "max_bytes" in out["big"]["error"] and out["jpcert"]["status"] == 200
    with Session(feed_ctx.engine) as s:
        assert "max_bytes" in s.exec(select(FeedState).where(FeedState.name == "big")).one().last_error


def test_a_silent_feed_opens_a_finding_that_new_content_resolves(feed_ctx, lab_web, clock):
    feed_ctx.settings.feeds = feed_ctx.settings.feeds[:1]
    feeds.run(feed_ctx)
    clock.advance(hours=49)
    feeds.run(feed_ctx)  # 304: nothing new for two days
    with Session(feed_ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == FindingKind.FEED_SILENT)).one()
        assert f.subject == "feed:jpcert" and f.status == FindingStatus.OPEN
    lab_web.publish("jpcert.feeds.test", "feed", format="jpcert",
                    entries=[*entries("jpcert"), {"url": "https://hoshizora-later.top/", "brand": "ほしぞら"}])
    feeds.run(feed_ctx)
    with Session(feed_ctx.engine) as s:
        assert s.exec(select(Finding).where(Finding.kind == FindingKind.FEED_SILENT)).one().status == \
            FindingStatus.RESOLVED


def test_the_feeds_command_lists_and_pulls(feed_ctx, monkeypatch):
    from typer.testing import CliRunner

    from watcher.cli import app
    from watcher.commands import invocation

    monkeypatch.setattr(invocation, "context", lambda *a, **k: feed_ctx)
    monkeypatch.setattr("watcher.commands.feeds.context", lambda *a, **k: feed_ctx)
    out = CliRunner().invoke(app, ["feeds", "pull", "jpcert"])
    assert out.exit_code == 0, out.output
    assert '"feed": "jpcert"' in out.output and '"candidates_created": 3' in out.output
    listed = CliRunner().invoke(app, ["feeds", "list"])
    assert listed.exit_code == 0 and "jpcert" in listed.output and "200" in listed.output
    bad = CliRunner().invoke(app, ["--lang", "en", "feeds", "pull", "nope"])
    assert bad.exit_code == 2 and "no feed 'nope'" in bad.output

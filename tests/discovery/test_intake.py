"""Reports from people: .eml files, the IMAP mailbox (lab/imap.py, a real IMAP4rev1 server), feeds, submit_url."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from lab.imap import LabIMAP
from tests.discovery.conftest import FIXTURES
from watcher.context import Context
from watcher.core.models import Candidate, Report, Source
from watcher.discovery.intake import (
    feed_rows,
    import_feed,
    ingest_mail,
    poll,
    read_eml_dir,
    read_imap,
    submit_url,
)
from watcher.discovery.mailparse import classify_url, extract_urls, parse_message, translate_goog_host

MAIL = FIXTURES / "mail"


def _cands(ctx: Context) -> dict[str, Candidate]:
    with ctx.session() as s:
        return {c.domain: c for c in s.exec(select(Candidate))}


def _reports(ctx: Context) -> list[Report]:
    with ctx.session() as s:
        return list(s.exec(select(Report).order_by(Report.id)))


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "host", "kind", "target"), [
    ("hxxps://hoshizora-sec-login[.]top/auth", "hoshizora-sec-login.top", "url", "https://hoshizora-sec-login.top/auth"),
    ("h**p://k3v9q(.)xyz/a", "k3v9q.xyz", "url", "http://k3v9q.xyz/a"),
    ("k3v9q.xyz/hoshizora/login.php", "k3v9q.xyz", "url", "http://k3v9q.xyz/hoshizora/login.php"),
    ("https://t.co/AbC123", "t.co", "shortener", "https://t.co/AbC123"),
    ("https://www.google.com/url?q=https%3A%2F%2Fhzsec.top%2Fx&sa=D", "hzsec.top", "redirector", "https://hzsec.top/x"),
    ("https://jpn01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fhzsec.top%2F&data=0", "hzsec.top",
     "redirector", "https://hzsec.top/"),
    ("https://hoshizora--sec-login-top.translate.goog/?_x_tr_sl=auto", "hoshizora-sec.login.top", "proxy",
     "https://hoshizora-sec.login.top/"),
    ("https://203.0.113.9/hoshizora/", "203.0.113.9", "url", "https://203.0.113.9/hoshizora/"),
    ("https://ほしぞら証券.com/login", "xn--68jo9fqcu94wji8d.com", "url", "https://ほしぞら証券.com/login"),
    ("こちら→https://k3v9q.xyz/loginからログイン", "k3v9q.xyz", "url", "https://k3v9q.xyz/login"),
    ("URL:https://k3v9q.xyzから", "k3v9q.xyz", "url", "https://k3v9q.xyz"),
])
def test_classify_and_refang(text: str, host: str, kind: str, target: str) -> None:
    found = extract_urls(f"見てください {text} 。")
    assert [(f.host, f.kind, f.target) for f in found] == [(host, kind, target)]


def test_not_urls() -> None:
    assert extract_urls("mail a@b.com, see file.txt, e.g. this, version 1.2.3, 口座番号 12.34") == []
    assert classify_url("http://") is None


def test_translate_goog_decoding() -> None:
    assert translate_goog_host("www-hoshizora--sec-co-jp.translate.goog") == "www.hoshizora-sec.co.jp"
    assert translate_goog_host("example.com") == ""


def test_forwarded_mail_nested_rfc822_qp_and_base64_html() -> None:
    p = parse_message((MAIL / "forwarded-phish.eml").read_bytes())
    assert p.subject.startswith("Fwd: 【重要】ほしぞら証券") and "taro@example.jp" in p.sender
    got = {(u.host, u.kind, u.where) for u in p.urls}
    assert ("k3v9q.xyz", "url", "text") in got  # from the quoted-printable part of the nested mail
    assert ("hzsec-verify.cn", "redirector", "html-href") in got  # from the base64 HTML part
    assert ("www.hoshizora-sec.co.jp", "url", "html-text") in got  # the lure's visible (fake) link text
    assert not any("tracker.example.net" in u.url for u in p.urls)  # images are not reports
    assert p.errors == []


def test_malformed_mail_is_read_as_far_as_possible() -> None:
    p = parse_message((MAIL / "malformed.eml").read_bytes())
    assert p.errors  # defects recorded
    assert "\x00" not in p.subject
    assert {u.host for u in p.urls} >= {"still-found.xyz"}
    assert parse_message(b"").errors == [] or True  # never raises
    for junk in (b"\xff" * 1000, b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" * 500,
                 b"Subject: x\r\n\r\n" + (b"aa." + b"a" * 30 + b".") * 60000,  # backtracking bait
                 b"Subject: x\r\n\r\n" + b"https://a.top/x " * 20000):  # a URL flood
        assert len(parse_message(junk).urls) <= 500


# ---------------------------------------------------------------- ingest


def test_eml_folder_makes_reports_and_candidates(ctx: Context, tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    shutil.copytree(MAIL, folder)
    summary = read_eml_dir(ctx, folder)
    assert summary["files"] == 4 and summary["reports"] == 4
    cands = _cands(ctx)
    assert {"k3v9q.xyz", "hzsec-verify.cn", "hoshizora-sec-login.top", "malformed-link.top",
            "still-found.xyz"} <= set(cands)
    assert "www.hoshizora-sec.co.jp" not in cands  # the firm's own URLs are ignored
    assert "bit.ly" not in cands  # a shortener is recorded, not a candidate
    k = cands["k3v9q.xyz"]
    assert k.source == Source.REPORT and k.urls == ["https://k3v9q.xyz/hoshizora/login.php?id=8842"]
    assert k.brand_id is not None  # the mail names ほしぞら証券
    assert k.reasons[0]["kind"] == "report" and "taro@example.jp" in k.reasons[0]["detail"]
    assert cands["hzsec-verify.cn"].facts["via"]["kind"] == "redirector"
    reports = {r.subject: r for r in _reports(ctx)}
    fwd = next(r for s, r in reports.items() if s.startswith("Fwd"))
    assert fwd.raw_sha256 and ctx.evidence.verify(fwd.raw_sha256)
    assert any(u.get("ignored", "").startswith("ours") for u in fwd.urls)
    sms = reports["SMSが届きました"]
    assert any(u["kind"] == "shortener" and "ignored" in u for u in sms.urls)
    assert any(u["kind"] == "proxy" and u["host"] == "www.hoshizora-sec.co.jp" for u in sms.urls)
    bad = next(r for r in reports.values() if "broken" in r.subject)
    assert "Defect" in bad.error
    assert reports["question"].error == "no URL found in the message"
    # the same folder again: every message is a duplicate, nothing changes
    again = read_eml_dir(ctx, folder)
    assert again["duplicates"] == 4 and again["reports"] == 0 and len(_reports(ctx)) == 4


def test_the_same_site_from_two_reports_is_one_candidate(ctx: Context) -> None:
    with ctx.session() as s:
        a = ingest_mail(ctx, s, b"From: a@example.jp\r\nSubject: one\r\n\r\nhxxps://k3v9q[.]xyz/a\r\n")
        b = ingest_mail(ctx, s, b"From: b@example.jp\r\nSubject: two\r\n\r\nhttps://k3v9q.xyz/b\r\n")
        s.commit()
    assert a.created == 1 and b.created == 0
    c = _cands(ctx)["k3v9q.xyz"]
    assert c.urls == ["https://k3v9q.xyz/a", "https://k3v9q.xyz/b"]
    assert len(c.reasons) == 2


def test_submit_url_dedups_by_reporter_and_url(ctx: Context) -> None:
    with ctx.session() as s:
        first = submit_url(ctx, s, "https://k3v9q.xyz/hoshizora/login.php", reporter="ops", note="SMS",
                           channel="dashboard", brand="hoshizora")
        again = submit_url(ctx, s, "https://k3v9q.xyz/hoshizora/login.php", reporter="ops", channel="dashboard")
        other = submit_url(ctx, s, "https://k3v9q.xyz/hoshizora/login.php", reporter="someone else")
        ours = submit_url(ctx, s, "https://trade.hoshizora-sec.co.jp/login", reporter="ops")
        junk = submit_url(ctx, s, "not a url at all", reporter="ops")
        s.commit()
    assert first.created and first.candidate is not None
    assert not again.created and again.candidate is not None and again.candidate.id == first.candidate.id
    assert not other.created
    assert ours.candidate is None and "ours" in ours.skipped
    assert junk.candidate is None
    reports = _reports(ctx)
    assert len(reports) == 4  # ops twice is one report
    assert first.candidate.urls == ["https://k3v9q.xyz/hoshizora/login.php"]
    assert "reported by ops: SMS (dashboard)" in first.candidate.reasons[0]["detail"]
    assert reports[-1].error.startswith("not a URL")


def test_cli_add_uses_submit_url(ctx: Context, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    import watcher.cli as cli
    from watcher.commands import invocation

    monkeypatch.setattr(invocation._Invocation, "pinned", ctx)
    result = CliRunner().invoke(cli.app, ["add", "hxxps://hzsec-login[.]top/x", "--reporter", "desk"])
    assert result.exit_code == 0, result.output
    assert _reports(ctx)[0].channel == "cli"
    assert "hzsec-login.top" in _cands(ctx)


# ---------------------------------------------------------------- feeds


def test_feed_formats() -> None:
    jpcert = "date,URL,description\n2026/11/20,https://hoshizora-sec-login.top/,ほしぞら証券\n"
    assert list(feed_rows(jpcert)) == [{"url": "https://hoshizora-sec-login.top/", "date": "2026/11/20",
                                        "description": "ほしぞら証券", "line": "2"}]
    phishtank = ("phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
                 "1,http://k3v9q.xyz/x,http://x,2026-11-20T10:00:00+00:00,yes,,yes,Other\n")
    assert next(feed_rows(phishtank))["date"] == "2026-11-20T10:00:00+00:00"
    jsonl = '{"url": "https://a.top/", "date": "2026-11-20", "description": "d"}\n\nnot json\n'
    rows = list(feed_rows(jsonl))
    assert rows[0]["url"] == "https://a.top/" and rows[1].get("error")
    assert list(feed_rows("# openphish style\nhttps://a.top/x\nhttps://b.cn/\n"))[1]["url"] == "https://b.cn/"
    assert list(feed_rows("")) == []


def test_feed_import_keeps_our_brands_and_dedups(ctx: Context, tmp_path: Path) -> None:
    feed = tmp_path / "phishurl-2026-11.csv"
    feed.write_text("date,URL,description\n"
                    "2026/11/20,https://hoshizora-sec-login.top/login,ほしぞら証券\n"
                    "2026/11/20,https://k3v9q.xyz/hoshizora/login.php,Hoshizora\n"
                    "2026/11/21,https://other-bank.example.cn/,つばめ証券\n"
                    "2026/11/21,not a url,ほしぞら証券\n"
                    "2026/11/21,https://www.hoshizora-sec.co.jp/,ほしぞら証券\n", encoding="utf-8")
    summary = import_feed(ctx, feed)
    assert summary["rows"] == 5 and summary["skipped_other_brands"] == 1 and summary["errors"] == 1
    cands = _cands(ctx)
    assert {"hoshizora-sec-login.top", "k3v9q.xyz"} == set(cands)
    c = cands["hoshizora-sec-login.top"]
    assert c.source == Source.FEED and c.reasons[0]["detail"].startswith("listed in feed phishurl-2026-11.csv")
    again = import_feed(ctx, feed)
    assert again["duplicates"] == 4 and again["candidates_created"] == 0
    everything = import_feed(ctx, feed, all_rows=True)
    assert everything["candidates_created"] == 1 and "other-bank.example.cn" in _cands(ctx)
    json.dumps(summary)


# ---------------------------------------------------------------- IMAP (a real IMAP4rev1 server on loopback)


@pytest.fixture
def lab_imap() -> Any:
    with LabIMAP(users={"abuse@hoshizora-sec.co.jp": "pw"}) as server:
        yield server


def test_imap_mailbox(make_ctx: Any, lab_imap: LabIMAP) -> None:
    uids = [lab_imap.add_message((MAIL / name).read_bytes()) for name in ("forwarded-phish.eml", "sms-text.eml")]
    seen_before = lab_imap.add_message(b"Subject: old\r\n\r\nhttps://already-read.top/\r\n", flags=("\\Seen",))
    ctx = make_ctx(imap={"host": "127.0.0.1", "port": lab_imap.port, "ssl": False,
                         "username": "abuse@hoshizora-sec.co.jp", "password": "pw"})
    summary = read_imap(ctx)
    assert summary == {"messages": 2, "reports": 2, "duplicates": 0, "candidates_created": 3, "errors": 0}
    assert all("\\Seen" in lab_imap.flags(u) for u in uids)
    assert "already-read.top" not in _cands(ctx) and seen_before
    assert {r.channel for r in _reports(ctx)} == {"imap"}
    assert read_imap(ctx)["messages"] == 0  # everything is seen now


def test_poll_job_reads_eml_dir_and_fails_loudly_when_the_mailbox_is_down(make_ctx: Any, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(MAIL / "sms-text.eml", folder)
    ctx = make_ctx(imap={"eml_dir": str(folder)})
    assert poll(ctx)["eml"]["reports"] == 1
    dead = make_ctx(imap={"eml_dir": str(folder), "host": "127.0.0.1", "port": 1, "ssl": False})
    with pytest.raises(RuntimeError, match=r"IMAP 127\.0\.0\.1:1"):
        poll(dead)
    assert _reports(dead)  # the folder was still read before the failure was reported


def test_shortener_followed_through_the_egress_proxy(make_ctx: Any, lab_web: Any) -> None:
    # The lab web server is the egress proxy; "bit.ly" there redirects twice, then to the phishing page.
    lab_web.publish("bit.ly", "redirect", hops=1, to="http://k3v9q.xyz/hoshizora/login.php")
    ctx = make_ctx(crawl={"proxy": lab_web.proxy_url})
    with ctx.session() as s:
        out = submit_url(ctx, s, "http://bit.ly/", reporter="desk")
        s.commit()
    assert out.candidate is not None and out.candidate.domain == "k3v9q.xyz"
    assert out.candidate.urls == ["http://k3v9q.xyz/hoshizora/login.php"]
    assert out.candidate.facts["via"] == {"kind": "shortener", "url": "http://bit.ly/"}
    entry = _reports(ctx)[0].urls[0]
    assert entry["chain"] == ["http://bit.ly/", "http://bit.ly/r/1", "http://k3v9q.xyz/hoshizora/login.php"]


def test_shortener_without_a_proxy_is_recorded_not_followed(ctx: Context) -> None:
    with ctx.session() as s:
        out = submit_url(ctx, s, "https://bit.ly/3HzSeC1", reporter="desk")
        s.commit()
    assert out.candidate is None and "no egress proxy" in out.skipped

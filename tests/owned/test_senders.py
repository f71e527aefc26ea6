"""The road to p=reject: a day of reports from four receivers (lab/reports.py), ingested, the senders named
through the lab's DNS (reverse DNS, the firm's SPF and the platforms' includes), and the one figure."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from lab.reports import write_sample
from watcher.core.config import ROOT
from watcher.owned import dmarc, senders

SENDERS_ZONE = ROOT / "data" / "lab" / "zones" / "mail" / "senders.zone"


def firm_dns(dns) -> None:
    dns.add_zone("hoshizora-sec.co.jp")
    dns.set("hoshizora-sec.co.jp", "TXT", "v=spf1 ip4:192.0.2.25 include:sendgrid.net include:cust-spf.exacttarget.com -all")
    dns.set("mail.hoshizora-sec.co.jp", "A", "192.0.2.25")
    dns.add_zone("hzsec.com")
    dns.set("hzsec.com", "TXT", "v=spf1 ip4:192.0.2.26 -all")
    dns.set("mail.hzsec.com", "A", "192.0.2.26")
    dns.load_zone(SENDERS_ZONE.read_text(encoding="utf-8"))


@pytest.fixture
def reported(make_ctx, lab_dns, tmp_path: Path):
    firm_dns(lab_dns)
    folder = tmp_path / "rua"
    ctx = make_ctx(dns=lab_dns, imap={"dmarc_dir": str(folder)})
    write_sample(folder, now=ctx.now())
    out = dmarc.ingest(ctx)["folder"]
    assert out["refused"] == 0 and out["by_kind"] == {"aggregate": 8, "failure": 1, "tls": 1}, out
    assert senders.enrich(ctx)["records"] == 32
    return ctx


def test_senders_are_named(reported) -> None:
    ctx = reported
    with Session(ctx.engine) as s:
        rows = senders.named_senders(s, ctx.now().replace(year=2025), ctx.brands, "hoshizora-sec.co.jp")
    by = {r.name: r for r in rows}
    # "" is the spoofer without reverse DNS: shown as "unknown sender" / 不明な送信元
    assert set(by) == {"hoshizora-sec.co.jp", "Twilio SendGrid", "Salesforce Marketing Cloud", "Google Workspace",
                       "OCN (ISP)", ""}
    assert by[""].as_dict("ja")["sender"] == "不明な送信元" and not by[""].legitimate
    own = by["hoshizora-sec.co.jp"]
    assert own.legitimate and own.why == "spf" and own.failing == 0
    sg = by["Twilio SendGrid"]
    assert sg.legitimate and sg.dkim_aligned == sg.messages and sg.spf_aligned == 0 and sg.failing == 0
    sfmc = by["Salesforce Marketing Cloud"]
    assert sfmc.legitimate and sfmc.failing == sfmc.messages > 0
    assert sfmc.fix is not None and "s6.exacttarget.com" in sfmc.fix.render("en")
    assert "DKIM" in sfmc.fix.render("ja")
    ocn = by["OCN (ISP)"]
    assert not ocn.legitimate and ocn.failing == ocn.messages
    assert by["Google Workspace"].why == "forwarded" and by["Google Workspace"].failing == 0


def test_ready_for_reject(reported) -> None:
    ctx = reported
    with Session(ctx.engine) as s:
        ready = {r.domain: r for r in senders.ready_for_reject(ctx, s)}
    main = ready["hoshizora-sec.co.jp"]
    assert main.policy == "none" and not main.ready
    assert 0.85 < main.share < 0.95  # everything but Salesforce Marketing Cloud aligns
    assert [s.name for s in main.failing_senders] == ["Salesforce Marketing Cloud"]
    assert main.unauthorised_failing == main.unauthorised_messages > 0  # the spoofers: what reject stops
    assert "not ready" in main.verdict().render("en") and "p=reject" in main.verdict().render("ja")
    hz = ready["hzsec.com"]
    assert hz.policy == "reject" and hz.share == 1.0 and hz.ready
    assert "already" in hz.verdict().render("en")
    assert main.as_dict()["failing_senders"][0]["sender"] == "Salesforce Marketing Cloud"


def test_a_dns_failure_is_retried_at_the_next_run(make_ctx, lab_dns, tmp_path: Path) -> None:
    firm_dns(lab_dns)
    lab_dns.set_rcode("34.12.89.167.in-addr.arpa", "SERVFAIL")
    folder = tmp_path / "rua"
    ctx = make_ctx(dns=lab_dns, imap={"dmarc_dir": str(folder)})
    write_sample(folder, now=ctx.now())
    dmarc.ingest(ctx)
    senders.enrich(ctx)
    lab_dns.set_rcode("34.12.89.167.in-addr.arpa", None)
    assert senders.enrich(ctx)["records"] == 4  # SendGrid's record in each receiver's report, named now
    assert senders.enrich(ctx) == {"reports": 0, "ips": 0}

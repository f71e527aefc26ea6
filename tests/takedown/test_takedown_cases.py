"""One case of each kind on the lab, read back from the lab's SMTP server as an abuse desk reads it.

- a fresh phishing domain: registrar + hosting network + the CERTs, and the browser blocklists;
- a .jp name: its designated registrar (found from JPRS WHOIS and the designated-registrar table);
  one whose registrar published no address goes to JPRS and JPCERT/CC and opens a Finding;
- a hacked site: its host and its owner are asked to remove the content at the path, no registrar;
- a lure with a shortener link: the shortener is asked, the lure goes to the CERT and the host.

Every message: its XARF report passes the published schema, every evidence file it names is attached
(named by its sha256, byte for byte), and every claim of the letter is checked against the case's
evidence. Then the answers: a bounce and an auto-reply with a ticket number come back over IMAPS and
are attached without a person; the reminder is a fresh message threaded to the ticket.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlmodel import Session, select

from lab.smtp import StoredMessage
from lab.testing import wait_for
from lab.world import World
from tests.takedown.tdlab import add_candidate, lab_settings, png, take_snapshot
from tests.takedown.xarf import validate
from watcher.core.models import (
    BlocklistStatus,
    BlocklistSubmission,
    Candidate,
    CandidateStatus,
    Finding,
    FindingKind,
    RecipientKind,
    RequestStatus,
    Snapshot,
    TakedownMode,
    TakedownRequest,
)
from watcher.core.reasons import Reason
from watcher.core.texts import text
from watcher.discovery import intake
from watcher.takedowns import blocklists, followup, letters, replies, requests

PHISH = "hoshizora-sec-login.top"
JP_NAME = "hoshizora-login.jp"
JP_ORPHAN = "hoshizora-support.jp"
HACKED = "yamada-koumuten.com"
KIT = "/wp-content/uploads/hz/login.php"
LURE_TARGET = "k3v9q.xyz"
SHORT = "https://bit.ly/3hzLure"

# What the real scorer writes (catalogue texts), so the letters render them in both languages.
REASONS = [Reason.said("visual", text("capture.visual_match", url="https://trade.hoshizora-sec.co.jp/login",
                                      p=2, d=3, colour=""), 45).as_dict(),
           Reason.said("credential_form", text("capture.credential_form", what=text("capture.what.password"), host="kit.example"), 30).as_dict(),
           Reason.said("brand_name", text("capture.brand_name", found="ほしぞら証券"), 20).as_dict()]


@pytest.fixture
def world(lab_world: Any) -> World:
    w: World = lab_world("data/lab/small.toml", run_events=False, suspend_delay=0.2)
    w.act_blocklist_delay(0.3)
    w.apply("register_lookalike", name=JP_NAME, registrar="JPRS Lab Designated Registrar", address="203.0.113.20",
            site="clone-exact")
    w.apply("register_lookalike", name=JP_ORPHAN, registrar="Obscure JP Registrar K.K.", address="203.0.113.21",
            site="clone-exact")
    w.apply("register_domain", name=HACKED, registrar="Lab Registrar K.K.", registrant="Yamada Koumuten",
            registrant_email="info@yamada-koumuten.com", created="2009-04-01", address="203.0.113.30",
            site="hacked", site_options={"path": KIT}, statuses=[])
    w.apply("register_lookalike", name=LURE_TARGET, address="203.0.113.45", site="clone-partial",
            site_options={"path": "/hoshizora/login.php"})
    w.apply("publish", host="bit.ly", kind="shortener",
            options={"links": {"/3hzLure": f"https://{LURE_TARGET}/hoshizora/login.php"}})
    return w


@pytest.fixture
def ctx(tmp_path: Any, world: World, make_synced_ctx: Any) -> Any:
    mailbox = world.endpoints()["imap"]
    url = world.endpoints()["blocklists"]["url"]
    c = make_synced_ctx(lab_settings(
        tmp_path, world,
        smtp={"reply_to": mailbox["user"]},
        rdap={"whois_servers": {"jp": f"{world.whois.host}:{world.whois.port}"}},
        imap={"host": mailbox["host"], "port": mailbox["port"], "ssl": True, "ca_file": mailbox["ca_file"],
              "username": mailbox["user"], "password": mailbox["password"],
              "takedown_folder": mailbox["takedown_folder"]},
        takedown={"cert_parties": ["jpcert", "antiphishing"]},
        blocklists={"webrisk_url": url, "webrisk_project": "424242", "webrisk_api_key": "lab-key",
                    "netcraft_url": url, "netcraft_email": "brand-security@hzsec.com", "apwg_member": True,
                    "apwg_url": url, "apwg_token": "lab-token", "timeout": 5.0}))
    with Session(c.engine) as s:
        from watcher.core.models import Brand

        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        brand.references = [{"url": "https://trade.hoshizora-sec.co.jp/login",
                             "screenshot_sha256": c.evidence.put(png((20, 60, 140), "official"))}]
        s.add(brand)
        s.commit()
    return c


def confirm_and_send(ctx: Any, cand: Candidate) -> list[TakedownRequest]:
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        drafts = requests.confirm(ctx, s, c, actor="analyst:sato", reason="phishing")
        requests.approve_all(ctx, s, c, actor="approver:tanaka")
        s.commit()
    followup.run(ctx)
    return drafts


def messages_to(world: World, address: str) -> list[StoredMessage]:
    return [m for m in world.smtp.messages() if address in m.rcpt_tos]


def section(body: str, lang: str) -> list[str]:
    """The lines of the letter's "why it is phishing" section."""
    head = "■ フィッシングサイトと判断した理由" if lang == "ja" else "Why it is phishing:"
    lines = body.split(head, 1)[1].strip("\n").splitlines()
    out = []
    for line in lines:
        if not line.startswith("- "):
            break
        out.append(line[2:])
    return out


def check_message(ctx: Any, m: StoredMessage, cand: Candidate, snap: Snapshot, req: TakedownRequest) -> dict[str, Any]:
    """Everything a desk relies on, checked against the case's evidence; returns the XARF report."""
    msg = m.message
    assert msg["Message-ID"] == req.message_id
    lang = req.language
    body = msg.get_body(("plain",)).get_content()
    files = {a.get_filename(): a for a in msg.iter_attachments()}
    # Each claim of the "why" section is one of this case's reasons, in the letter's language.
    claims = section(body, lang)
    assert claims and set(claims) <= set(letters.reason_sentences(snap.reasons, lang)), claims
    if lang == "ja":
        assert all(re.search(r"[ぁ-んァ-ヶ一-龥]", c) for c in claims), claims  # no English jargon
    # The URLs (defanged) and addresses are the evidence's.
    for url in cand.urls:
        assert url.replace("http", "hxxp", 1).replace(".", "[.]") in body
    for ip in (snap.dns.get("records") or {}).get("A", []):
        assert ip in body
    # Every file is attached byte for byte, named by its hash; the report lists and inlines them.
    report_part = next(a for n, a in files.items() if n.startswith("xarf."))
    report = json.loads(report_part.get_content())
    validate(report)
    for name, part in files.items():
        if name.startswith("xarf."):
            continue
        if part.get_content_type() != "message/rfc822":
            data = part.get_payload(decode=True)  # the bytes as stored, whatever the type
            assert hashlib.sha256(data).hexdigest() in name, name
        assert any(e["filename"] == name for e in report["omamori"]["evidence_files"])
    assert {e["hash"] for e in report["evidence"]} <= {"sha256:" + e["sha256"] for e in report["omamori"]["evidence_files"]}
    assert report["source_identifier"] == cand.domain and report["url"] == cand.urls[0]
    # The report states the same claims, in English (one language for a machine-read report).
    assert len(report["omamori"]["reasons"]) == len(claims)
    assert lang != "en" or report["omamori"]["reasons"] == claims
    return report


def test_a_fresh_phishing_domain_goes_to_registrar_host_certs_and_blocklists(ctx, world, clock):
    cand = add_candidate(ctx, PHISH)
    snap = take_snapshot(ctx, world, cand, reasons=REASONS)
    drafts = confirm_and_send(ctx, cand)
    kinds = {d.recipient: d.recipient_kind for d in drafts}
    assert kinds == {"abuse@cheapnames.test": RecipientKind.REGISTRAR, "abuse@lab-hosting.test": RecipientKind.HOSTING,
                     "phishing@jpcert.test": RecipientKind.CERT, "info@antiphishing.test": RecipientKind.CERT}
    assert {d.mode for d in drafts} == {TakedownMode.SUSPEND}
    for d in drafts:
        (m,) = messages_to(world, d.recipient)
        check_message(ctx, m, cand, snap, d)
    ja = messages_to(world, "phishing@jpcert.test")[0].message.get_body(("plain",)).get_content()
    assert "画面が公式ページ https://trade.hoshizora-sec.co.jp/login と一致します" in ja
    en = messages_to(world, "abuse@cheapnames.test")[0].message.get_body(("plain",)).get_content()
    assert "Please suspend the domain name" in en and "a form asks for a password" in en

    # The blocklists: one submission per service, listed later; the case's two clocks.
    world.act_blocklist_delay(3600)  # not listed while omamori's clock stands still...
    out = blocklists.run(ctx)
    assert out["services"] == ["webrisk", "netcraft", "apwg"] and out["submitted"] == 3
    assert out["listed"] == 0
    clock.advance(minutes=3)
    world.act_blocklist_delay(0)  # ...and listed when it has moved three minutes on
    assert blocklists.run(ctx)["listed"] == 3
    wait_for(lambda: "client hold" in (world.rdap.domain(PHISH).statuses if world.rdap.domain(PHISH) else []))
    with Session(ctx.engine, expire_on_commit=False) as s:
        subs = s.exec(select(BlocklistSubmission)).all()
        assert {(b.service, b.status) for b in subs} == {(n, BlocklistStatus.LISTED) for n in ("webrisk", "netcraft",
                                                                                                "apwg")}
        c = s.get(Candidate, cand.id)
        c.status, c.down_at = CandidateStatus.DOWN, ctx.now() + timedelta(hours=5)
        s.add(c)
        s.commit()
        times = blocklists.case_times(s, c)
    assert times["time_to_blocklisted_seconds"] == 180.0 and times["time_to_down_seconds"] == 5 * 3600 + 180.0
    assert {w.service for w in world.blocklists.submissions} == {"webrisk", "netcraft", "apwg"}


def test_a_jp_name_goes_to_its_designated_registrar_or_to_jprs_with_a_finding(ctx, world):
    cand = add_candidate(ctx, JP_NAME)
    snap = take_snapshot(ctx, world, cand, reasons=REASONS)
    drafts = confirm_and_send(ctx, cand)
    registrar = next(d for d in drafts if d.recipient_kind == RecipientKind.REGISTRAR)
    assert (registrar.recipient, registrar.language) == ("abuse@jp-registrar.test", "ja")
    check_message(ctx, messages_to(world, "abuse@jp-registrar.test")[0], cand, snap, registrar)

    orphan = add_candidate(ctx, JP_ORPHAN)
    take_snapshot(ctx, world, orphan, reasons=REASONS)
    drafts = confirm_and_send(ctx, orphan)
    assert {"info@jprs.test", "phishing@jpcert.test"} <= {d.recipient for d in drafts}
    body = messages_to(world, "info@jprs.test")[-1].message.get_body(("plain",)).get_content()
    assert "指定事業者の連絡先を確認できませんでした" in body
    with Session(ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == FindingKind.TAKEDOWN_NO_REGISTRAR)).one()
        assert f.subject == JP_ORPHAN and "Obscure JP Registrar" in f.detail


def test_a_hacked_site_asks_host_and_owner_to_remove_the_content(ctx, world):
    cand = add_candidate(ctx, HACKED, reasons=[{"kind": "report", "detail": "reported by a customer", "points": 20}])
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        c.urls = [f"https://{HACKED}{KIT}"]
        s.add(c)
        s.commit()
    cand.urls = [f"https://{HACKED}{KIT}"]
    snap = take_snapshot(ctx, world, cand, reasons=REASONS)
    drafts = confirm_and_send(ctx, cand)
    by = {d.recipient: d for d in drafts}
    assert by["info@yamada-koumuten.com"].recipient_kind == RecipientKind.OWNER  # the owner, at their own domain
    assert by["abuse@lab-hosting.test"].recipient_kind == RecipientKind.HOSTING
    assert not any(d.recipient_kind == RecipientKind.REGISTRAR for d in drafts)  # nobody suspends a victim's domain
    assert {d.mode for d in drafts} == {TakedownMode.REMOVE_CONTENT}
    for d in drafts:
        (m,) = messages_to(world, d.recipient)
        report = check_message(ctx, m, cand, snap, d)
        assert "mode:remove-content" in report["tags"]
        body = m.message.get_body(("plain",)).get_content()
        assert KIT in body and "Please suspend the domain" not in body and "ドメイン名の利用停止" not in body
    # No name-based claim for a name with no lexical link to the brand.
    assert all("imitates" not in line for d in drafts for line in section(d.body, d.language))


def test_a_lure_with_a_shortener_link_asks_the_shortener_and_carries_the_lure(ctx, world):
    lure = EmailMessage()
    lure["From"] = "ほしぞら証券 <info@hoshizora-secure.example>"
    lure["To"] = "customer@example.jp"
    lure["Subject"] = "【重要】お取引の確認"
    lure.set_content(f"本人確認のため、以下からログインしてください。\n{SHORT}\n")
    forward = EmailMessage()
    forward["From"] = "Customer <customer@example.jp>"
    forward["To"] = "abuse@hoshizora-sec.co.jp"
    forward["Subject"] = "Fwd: 【重要】お取引の確認"
    forward.set_content("このメールは本物ですか？")
    forward.add_attachment(lure)
    with Session(ctx.engine, expire_on_commit=False) as s:
        res = intake.ingest_mail(ctx, s, forward.as_bytes(), channel="eml", name="lure.eml")
        s.commit()
        cand = s.exec(select(Candidate).where(Candidate.domain == LURE_TARGET)).one()
    assert res.created == 1 and cand.facts["via"] == {"kind": "shortener", "url": SHORT}
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        c.status = CandidateStatus.CHECKED
        s.add(c)
        s.commit()
    snap = take_snapshot(ctx, world, cand, reasons=REASONS)
    drafts = confirm_and_send(ctx, cand)
    by = {d.recipient: d for d in drafts}
    assert by["abuse@shortener.test"].recipient_kind == RecipientKind.SHORTENER
    for d in drafts:
        (m,) = messages_to(world, d.recipient)
        check_message(ctx, m, cand, snap, d)
        lures = [a for a in m.message.iter_attachments() if a.get_content_type() == "message/rfc822"]
        if d.recipient_kind in (RecipientKind.CERT, RecipientKind.HOSTING, RecipientKind.SHORTENER):
            (part,) = lures
            inner = part.get_content()
            assert inner["Subject"] == "【重要】お取引の確認"  # the lure itself, not the customer's forward
            assert "customer@example.jp" not in str(inner["From"])
        else:
            assert lures == []  # the registrar gets no customer mail
    body = messages_to(world, "abuse@shortener.test")[0].message.get_body(("plain",)).get_content()
    assert "hxxps://bit[.]ly/3hzLure" in body and SHORT not in body


def test_a_bounce_and_a_ticket_come_back_over_imaps_and_the_reminder_threads_to_the_ticket(ctx, world, clock):
    world.apply("desk_autoreply", address="abuse@cheapnames.test", prefix="CN")
    world.apply("mailbox_bounce", address="abuse@lab-hosting.test")
    cand = add_candidate(ctx, PHISH)
    take_snapshot(ctx, world, cand, reasons=REASONS)
    with Session(ctx.engine) as s:  # the registrar's desk must not suspend before the reminder is due
        pass
    world.registrar_behaviour.clear()
    world.smtp.desks.clear()
    drafts = confirm_and_send(ctx, cand)
    by = {d.recipient: d for d in drafts}
    out = replies.run(ctx)
    assert out["bounce"] == 1 and out["autoreply"] == 1 and out["unmatched"] == 0
    assert world.imap.commands.count("STORE") == 2  # both marked seen once attached
    assert replies.run(ctx)["messages"] == 0
    with Session(ctx.engine, expire_on_commit=False) as s:
        registrar = s.get(TakedownRequest, by["abuse@cheapnames.test"].id)
        hosting = s.get(TakedownRequest, by["abuse@lab-hosting.test"].id)
        assert registrar.ticket == "CN-1001" and registrar.status == RequestStatus.SENT
        assert hosting.status == RequestStatus.FAILED and "5.1.1" in hosting.last_error
        f = s.exec(select(Finding).where(Finding.kind == FindingKind.TAKEDOWN_BOUNCED)).one()
        assert f.subject == f"request:{hosting.id}" and "User unknown" in f.detail
    with Session(ctx.engine) as s:
        c = s.get(Candidate, cand.id)
        assert c.status == CandidateStatus.REPORTED

    clock.advance(hours=49)
    sent_before = len(world.smtp.messages())
    assert followup.run(ctx)["reminded"] >= 1
    reminder = next(m for m in world.smtp.messages()[sent_before:] if m.rcpt_tos == ["abuse@cheapnames.test"])
    msg = reminder.message
    assert msg["Message-ID"] != registrar.message_id
    assert msg["In-Reply-To"] == registrar.ticket_message_id
    assert registrar.message_id in msg["References"] and registrar.ticket_message_id in msg["References"]
    assert "[CN-1001]" in msg["Subject"] and "CN-1001" in msg.get_body(("plain",)).get_content()
    assert email.utils.parsedate_to_datetime(msg["Date"]) == ctx.now().replace(microsecond=0)
    # The desk files the reminder in the ticket: no second auto-reply.
    assert len([r for r in world.responder.sent if r["kind"] == "autoreply"]) == 1


def test_a_persons_reply_is_attached_and_flagged(ctx, world):
    world.apply("desk_reply", address="phishing@jpcert.test", text="ご連絡ありがとうございます。対応いたします。")
    cand = add_candidate(ctx, PHISH)
    take_snapshot(ctx, world, cand, reasons=REASONS)
    drafts = confirm_and_send(ctx, cand)
    assert replies.run(ctx)["reply"] == 1
    with Session(ctx.engine) as s:
        req = s.get(TakedownRequest, next(d.id for d in drafts if d.recipient == "phishing@jpcert.test"))
        assert req.status == RequestStatus.ANSWERED and req.needs_person
        assert req.replies[-1]["text"].startswith("ご連絡ありがとうございます")


def test_classify_reads_dsn_fields_and_tickets():
    from lab.mailbox import build_autoreply, build_dsn

    original = EmailMessage()
    original["From"], original["To"], original["Subject"] = "a@hzsec.com", "abuse@x.test", "Takedown [TD-9]"
    original["Message-ID"] = "<req9@hzsec.com>"
    original.set_content("hello")
    raw = original.as_bytes()
    from datetime import UTC, datetime

    dsn = replies.classify(build_dsn(raw, "abuse@x.test", "5.1.1", "550 5.1.1 user unknown", datetime.now(UTC)))
    assert (dsn.kind, dsn.status, dsn.recipient) == ("bounce", "5.1.1", "abuse@x.test")
    assert "<req9@hzsec.com>" in dsn.refers_to and 9 in dsn.references
    auto = replies.classify(build_autoreply(raw, "abuse@x.test", "ABC-77", datetime.now(UTC)))
    assert (auto.kind, auto.ticket) == ("autoreply", "ABC-77")
    jp = replies.classify(("Auto-Submitted: auto-replied\r\nSubject: =?utf-8?b?"
                           "5Y+X5LuY44GE44Gf44GX44G+44GX44Gf?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                           "受付番号：JP-2026-0042 にて承りました。\r\n").encode())
    assert jp.ticket == "JP-2026-0042"
    assert replies.classify(b"\x00\xff garbage").kind == "reply"


def test_the_cli_reads_the_mailbox_submits_to_blocklists_and_shows_the_cases(ctx, world, tmp_path):
    from typer.testing import CliRunner

    from watcher.cli import app

    world.apply("desk_autoreply", address="abuse@cheapnames.test", prefix="CN")
    cand = add_candidate(ctx, PHISH)
    take_snapshot(ctx, world, cand, reasons=REASONS)
    confirm_and_send(ctx, cand)
    s, mailbox, url = ctx.settings, world.endpoints()["imap"], world.endpoints()["blocklists"]["url"]
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f"""
[service]
state_dir = "{s.state_dir}"
brands_file = "{s.path(s.service.brands_file)}"
lab_mode = true
[database]
url = "{s.database_url}"
[imap]
host = "{mailbox['host']}"
port = {mailbox['port']}
ca_file = "{mailbox['ca_file']}"
username = "{mailbox['user']}"
password = "{mailbox['password']}"
takedown_folder = "{mailbox['takedown_folder']}"
[blocklists]
webrisk_url = "{url}"
webrisk_project = "424242"
webrisk_api_key = "lab-key"
""", encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(app, ["--config", str(cfg), "takedown", "mailbox"])
    assert out.exit_code == 0 and json.loads(out.output)["autoreply"] == 1, out.output
    out = runner.invoke(app, ["--config", str(cfg), "takedown", "blocklists"])
    assert out.exit_code == 0 and json.loads(out.output)["submitted"] == 1, out.output
    out = runner.invoke(app, ["--config", str(cfg), "--lang", "en", "takedown", "cases"], env={"COLUMNS": "250"})
    assert out.exit_code == 0 and PHISH in out.output and "CN-1001" in out.output and "suspend" in out.output

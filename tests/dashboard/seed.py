"""A realistic small database for the dashboard tests, the browser test and the screenshots.

The fictional world of docs/fictional-world.md: Hoshizora and Kaede brands synced from the example
brands file, candidates in every status with snapshots and evidence PNGs, takedown requests in every
state, owned-domain, mail-auth and self findings, events, CT log positions, job states, DMARC
reports, and report files. Statuses move through ``watcher.capture.triage.transition`` so the audit log reads
as it would in production.

    python -m tests.dashboard.seed /tmp/omamori-demo   # writes config.toml there; prints its path
"""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session, select

from watcher.capture.triage import transition
from watcher.context import Context
from watcher.core import cases
from watcher.core.auth import hash_password
from watcher.core.brands import sync_brands
from watcher.core.config import ROOT
from watcher.core.events import record
from watcher.core.findings import open_finding
from watcher.core.models import (
    Brand,
    Candidate,
    CandidateStatus,
    Channel,
    DmarcReport,
    FindingKind,
    JobState,
    LogPosition,
    OwnedDomain,
    RecipientKind,
    RequestStatus,
    Severity,
    Snapshot,
    Source,
    TakedownRequest,
    Verdict,
)
from watcher.core.texts import Text, text
from watcher.takedowns.facts import latest_snapshot

S = CandidateStatus
EXAMPLE_BRANDS = ROOT / "data" / "brands.example.toml"
PASSWORD = "omamori-test-pw"
USERS = (("viewer", "viewer", "閲覧 太郎"), ("analyst", "analyst", "分析 花子"),
         ("approver", "approver", "承認 次郎"), ("admin", "admin", "管理 三郎"))
FONT_PATHS = ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def write_config(base: Path, database_url: str = "") -> Path:
    """A config file for ``OMAMORI_CONFIG``: state under ``base``, the example brands, four users."""
    base.mkdir(parents=True, exist_ok=True)
    users = "\n".join(
        f'[[dashboard.users]]\nname = "{n}"\nrole = "{r}"\ndisplay_name = "{d}"\npassword_hash = "{password_hash()}"\n'
        for n, r, d in USERS)
    path = base / "config.toml"
    path.write_text(
        f'[service]\nstate_dir = "{base / "state"}"\nbrands_file = "{EXAMPLE_BRANDS}"\nlab_mode = true\n'
        f'language = "ja"\n\n[database]\nurl = "{database_url}"\n\n[dashboard]\npage_size = 20\n\n{users}',
        encoding="utf-8")
    return path


# ---------------------------------------------------------------- evidence images


def _font(size: int) -> Any:
    for p in FONT_PATHS:
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def login_png(url: str, *, accent: str = "#1f3a93", title: str = "ほしぞら証券 オンライントレード",
              banner: str = "") -> bytes:
    """A drawn login page: enough like a screenshot to judge the side-by-side view."""
    img = Image.new("RGB", (960, 600), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 960, 36], fill="#e8eaed")
    d.rounded_rectangle([12, 6, 948, 30], radius=10, fill="white")
    d.text((24, 9), url, fill="#333", font=_font(15))
    d.rectangle([0, 36, 960, 110], fill=accent)
    d.text((40, 58), title, fill="white", font=_font(30))
    if banner:
        d.rectangle([0, 110, 960, 140], fill="#fff3cd")
        d.text((40, 114), banner, fill="#7a5d00", font=_font(16))
    d.text((330, 180), "ログイン", fill="#222", font=_font(28))
    for i, label in enumerate(("口座番号", "パスワード")):
        y = 240 + i * 90
        d.text((280, y), label, fill="#444", font=_font(18))
        d.rectangle([280, y + 28, 680, y + 66], outline="#999", width=2)
    d.rounded_rectangle([280, 430, 680, 480], radius=6, fill=accent)
    d.text((440, 440), "ログイン", fill="white", font=_font(22))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- the world


@dataclass
class Seeded:
    """Ids the tests look up by name."""

    now: datetime
    candidates: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)


# (domain, status, verdict, source, score, reasons, brand)
CANDIDATES: tuple[tuple[str, CandidateStatus, Verdict, Source, int, list[tuple[str, str, int]], str], ...] = (
    ("hoshizora-sec-login.top", S.CHECKED, Verdict.PHISHING, Source.CT, 185,
     [("keyword", "hoshizora-sec in label", 40), ("visual", "phash distance 2 to the login page", 60),
      ("form", "password form posts to another host", 50), ("tld", "cheap TLD .top", 15), ("fresh", "registered 2 days ago", 20)],
     "hoshizora"),
    ("www-hoshizora-sec-co-jp.k7x2.top", S.CHECKED, Verdict.PHISHING, Source.CT, 160,
     [("flattened", "hoshizora-sec-co-jp in a subdomain label", 45), ("visual", "recoloured clone, phash 6", 45),
      ("form", "password form", 40), ("tld", "cheap TLD .top", 15), ("fresh", "registered 1 day ago", 15)],
     "hoshizora"),
    ("hoshizora-sec.co.jp.login-check.cn", S.NEW, Verdict.UNKNOWN, Source.CERTSTREAM, 70,
     [("official_as_label", "hoshizora-sec.co.jp used as labels", 55), ("tld", ".cn", 15)], "hoshizora"),
    ("xn--hoshizora-se-khk.com", S.CHECKED, Verdict.SUSPICIOUS, Source.PERMUTATION, 95,
     [("homoglyph", "Cyrillic с in hoshizora-sec", 50), ("visual", "logo-only clone", 30), ("fresh", "registered 5 days ago", 15)],
     "hoshizora"),
    ("k3v9q.xyz", S.CHECKED, Verdict.SUSPICIOUS, Source.REPORT, 80,
     [("report", "a customer forwarded a phishing mail", 40), ("path", "/hoshizora/login.php", 25), ("form", "password form", 15)],
     "hoshizora"),
    ("hoshizora-sec.co", S.WATCHING, Verdict.PARKED, Source.PERMUTATION, 35,
     [("permutation", "tld-swap of hoshizora-sec.co.jp", 20), ("parked", "for-sale page", 15)], "hoshizora"),
    ("hoshizora-sec.jp", S.WATCHING, Verdict.PARKED, Source.PERMUTATION, 30,
     [("permutation", "tld-swap", 20), ("parked", "parking page", 10)], "hoshizora"),
    ("hosizora-sec.co.jp", S.WATCHING, Verdict.PARKED, Source.PERMUTATION, 28,
     [("permutation", "omission", 18), ("parked", "parking page", 10)], "hoshizora"),
    ("hoshizora-fx.jp", S.CHECKED, Verdict.PARKED, Source.DROPCATCH, 60,
     [("dropcatch", "our lapsed domain re-registered by someone else", 60)], "hoshizora"),
    ("hzsec-account-verify.top", S.CONFIRMED, Verdict.PHISHING, Source.CT, 170,
     [("keyword", "hzsec in label", 35), ("visual", "clone, phash 3", 60), ("form", "password form", 50), ("tld", ".top", 25)],
     "hoshizora"),
    ("hoshizora-secure-login.asia", S.REPORTED, Verdict.PHISHING, Source.CT, 175,
     [("keyword", "hoshizora in label", 35), ("visual", "clone, phash 2", 60), ("form", "password form", 50), ("fresh", "new", 30)],
     "hoshizora"),
    ("kaede-sec-login.top", S.REPORTED, Verdict.PHISHING, Source.CERTSTREAM, 150,
     [("keyword", "kaede-sec in label", 40), ("visual", "clone", 55), ("form", "password form", 40), ("tld", ".top", 15)],
     "kaede"),
    ("hoshizora-sec-mypage.cn", S.DOWN, Verdict.SUSPENDED, Source.CT, 165,
     [("keyword", "hoshizora-sec in label", 40), ("visual", "clone", 60), ("form", "password form", 50), ("tld", ".cn", 15)],
     "hoshizora"),
    ("kaede-cafe.jp", S.DISMISSED, Verdict.BENIGN, Source.CT, 20,
     [("keyword", "kaede in label", 20)], "kaede"),
    ("hoshizora-hotel.jp", S.DISMISSED, Verdict.BENIGN, Source.PERMUTATION, 15,
     [("keyword", "hoshizora in label", 15)], "hoshizora"),
    ("kaede-sec.net", S.NEW, Verdict.UNKNOWN, Source.PERMUTATION, 40,
     [("permutation", "tld-swap of kaede-sec.co.jp", 40)], "kaede"),
)

def said(kind: str, domain: str) -> Text:
    """The seeded reason as the product says it (a catalogue text), so every view reads in one language."""
    label = domain.split(".")[0]
    tld = domain.rsplit(".", 1)[-1]
    return {
        "keyword": text("discovery.keyword_registrable", keyword=label.split("-")[0], label=label),
        "visual": text("capture.visual_match", url="https://trade.hoshizora-sec.co.jp/login", p=2, d=3, colour=""),
        "form": text("capture.credential_form", what=text("capture.what.password"), host=f"collect.{domain}"),
        "tld": text("discovery.cheap_tld", tld=tld),
        "fresh": text("capture.fresh_registration", days=2),
        "flattened": text("discovery.flattened", domain="hoshizora-sec.co.jp", label=label),
        "official_as_label": text("discovery.embedded", domain="hoshizora-sec.co.jp"),
        "homoglyph": text("discovery.edit_distance", label=label, part=label, target="hoshizora-sec", d=1,
                          what=text("discovery.what_label", domain="hoshizora-sec.co.jp")),
        "report": text("discovery.feed_row", feed="JPCERT/CC", date="2026-11-20"),
        "path": text("discovery.in_path", keyword="hoshizora", part="/hoshizora/login.php"),
        "permutation": text("discovery.permutation", name=domain, base="hoshizora-sec.co.jp", fuzzer="tld-swap"),
        "parked": text("capture.not_live_page", kind=text("capture.kind.for_sale"),
                       marker=text("capture.marker", pattern="This domain may be for sale", provider="Sedo")),
        "dropcatch": text("discovery.lapsed", suffix=domain, brand="ほしぞら証券"),
    }.get(kind) or text("capture.lookalike_name", points=30)


# Steps the machine took lately (hours ago), not a person: the home view's "handled automatically since
# you last looked" shows them. The auto rule confirmed kaede-sec-login.top when a re-check found the
# clone live, and its requests went out an hour later (the registrar's is answered since).
RECENT: dict[str, dict[S, tuple[str, float]]] = {
    "kaede-sec-login.top": {S.CONFIRMED: ("auto-rule", 21.0), S.REPORTED: ("takedown-policy", 20.0)},
}

PATHS: dict[S, list[S]] = {
    S.NEW: [], S.CHECKED: [S.CHECKED], S.WATCHING: [S.CHECKED, S.WATCHING], S.CONFIRMED: [S.CHECKED, S.CONFIRMED],
    S.REPORTED: [S.CHECKED, S.CONFIRMED, S.REPORTED], S.DOWN: [S.CHECKED, S.CONFIRMED, S.REPORTED, S.DOWN],
    S.DISMISSED: [S.CHECKED, S.DISMISSED],
}


def seed(ctx: Context) -> Seeded:
    now = ctx.now().replace(microsecond=0)
    out = Seeded(now=now)
    with ctx.transaction() as s:
        sync_brands(s, ctx.brands)
        brands = {b.slug: b for b in s.exec(select(Brand))}
        _references(ctx, brands)
        for b in brands.values():
            s.add(b)
        for i, spec in enumerate(CANDIDATES):
            out.candidates[spec[0]] = _candidate(ctx, s, brands, spec, now - timedelta(hours=6 * (i + 1)), now)
        s.flush()
        _requests(s, out, now)
        _owned(s, now)
        _findings(s, brands, now)
        _health(s, now)
        _dmarc(s, now)
    _report_files(ctx, now)
    return out


def _references(ctx: Context, brands: dict[str, Brand]) -> None:
    # As watcher.capture.references stores them: one per reference page (and profile), the login page first.
    for slug, b in brands.items():
        title = "ほしぞら証券 オンライントレード" if slug == "hoshizora" else "かえで証券 ログイン"
        accent = "#1f3a93" if slug == "hoshizora" else "#b03a2e"
        b.references = [{"url": url, "profile": "desktop", "captured_at": "2026-11-01T00:00:00+00:00",
                         "screenshot_sha256": ctx.evidence.put(login_png(url, accent=accent, title=title,
                                                                         banner="" if i == 0 else "お知らせ"))}
                        for i, url in enumerate(b.spec.get("reference_pages") or [])]


def _candidate(ctx: Context, s: Session, brands: dict[str, Brand], spec: tuple[Any, ...], seen: datetime,
               now: datetime) -> int:
    domain, status, verdict, source, score, reasons, slug = spec
    reg = ".".join(domain.split(".")[-2:]) if not domain.endswith((".co.jp", ".co")) else domain
    cand = Candidate(domain=domain, registrable=reg, unicode=domain.encode().decode("idna") if domain.startswith("xn--") else "",
                     brand_id=brands[slug].id, source=source, sources=[source.value], score=score, verdict=verdict,
                     reasons=[{"kind": k, "detail": d, "points": p, "source": source.value,
                               "text": said(k, domain).as_dict()} for k, d, p in reasons[:2]],
                     urls=[f"https://{domain}/login"], first_seen_at=seen, last_seen_at=seen,
                     status_changed_at=seen, facts={"issuer": "Lab Trusted CA"} if source in (Source.CT, Source.CERTSTREAM) else {})
    s.add(cand)
    s.flush()
    record(s, f"discover:{source.value}", "candidate.discovered", cand, {"source": source.value}, at=seen)
    cases.assign(s, cand, now=seen, actor=f"discover:{source.value}")  # as discovery does: one case per site
    if status == S.NEW:
        return int(cand.id or 0)
    # Two snapshots: the first capture and the latest one, so the timeline has a history.
    for n, at in enumerate((seen + timedelta(minutes=5), seen + timedelta(hours=3))):
        if status == S.DOWN and n == 1:  # taken down: the latest check finds it gone; the first stays the evidence
            snap = _gone(cand, at)
        else:
            snap = _snapshot(ctx, cand, Verdict.PHISHING if status == S.DOWN else verdict,
                             score - (10 if n == 0 else 0), reasons[2:] if n else reasons[2:3], at)
        s.add(snap)
        s.flush()
        cand.last_snapshot_id, cand.last_checked_at = snap.id, at
    t = seen + timedelta(hours=3, minutes=1)
    for step in PATHS[status]:
        actor = "dashboard:analyst" if step in (S.WATCHING, S.DISMISSED) else (
            "dashboard:approver" if step == S.CONFIRMED else "system")
        reason = "ドメイン販売ページ" if step == S.WATCHING else ("一般の店舗で当社とは無関係" if step == S.DISMISSED else "")
        at = t
        if step in RECENT.get(domain, {}):
            actor, hours = RECENT[domain][step]
            at = now - timedelta(hours=hours)
        transition(s, cand, step, actor=actor, reason=reason, now=at)
        t += timedelta(hours=1)
    if status == S.DOWN:
        cand.down_count = 2
    s.add(cand)
    return int(cand.id or 0)


def _gone(cand: Candidate, at: datetime) -> Snapshot:
    """A check after the takedown: the name no longer resolves."""
    return Snapshot(candidate_id=cand.id or 0, taken_at=at, reachable=False, gone=True, score=0,
                    verdict=Verdict.UNREACHABLE, error="the name does not exist (NXDOMAIN)",
                    reasons=[{"kind": "gone", "detail": "the name does not exist (NXDOMAIN)", "points": 0,
                              "text": text("capture.gone_nxdomain").as_dict()}],
                    dns={"A": []}, capture={"page_kind": ""})


def _snapshot(ctx: Context, cand: Candidate, verdict: Verdict, score: int, reasons: list[tuple[str, str, int]],
              at: datetime) -> Snapshot:
    parked = verdict == Verdict.PARKED
    benign = verdict == Verdict.BENIGN
    url = f"https://{cand.domain}/login"
    png = login_png(url, accent="#2c4fb0" if not parked else "#777",
                    title="ほしぞら証券 オンライントレード" if not (parked or benign) else f"{cand.domain} は販売中です",
                    banner="" if not (parked or benign) else "This domain may be for sale")
    sha = ctx.evidence.put(png)
    html = f"<html><title>ログイン | ほしぞら証券</title><form action='https://collect.{cand.domain}/p.php'></form></html>"
    return Snapshot(
        candidate_id=cand.id or 0, taken_at=at, screenshot_sha256=sha, html_sha256=ctx.evidence.put(html.encode()),
        reachable=True, score=score, verdict=verdict,
        reasons=[{"kind": k, "detail": d, "points": p, "text": said(k, cand.domain).as_dict()} for k, d, p in reasons],
        dns={"A": ["203.0.113.45"], "NS": ["ns1.cheapnames.test", "ns2.cheapnames.test"], "MX": []},
        rdap={"registrar": "Cheap Names Ltd.", "registered_at": (at - timedelta(days=2)).isoformat(),
              "status": ["active"], "abuse_email": "abuse@cheapnames.test"},
        # Parsed RDAP facts (what the snapshot job stores): contacts come from here, never a live lookup.
        hosting={"ip": "203.0.113.45", "network": "Lab Hosting", "asn": 64500, "abuse_email": "abuse@lab-hosting.test",
                 "networks": [{"name": "Lab Hosting", "abuse_email": "abuse@lab-hosting.test", "country": "JP"}]},
        capture={"final_url": url, "status": 200, "title": "ログイン | ほしぞら証券",
                 "page_kind": "for_sale" if parked else "",
                 "redirects": [f"http://{cand.domain}/", f"https://{cand.domain}/", url],
                 "forms": [] if parked else [{"action": f"https://collect.{cand.domain}/p.php", "method": "post",
                                              "password": True}],
                 "tls": {"issuer": "Lab Trusted CA", "subject": cand.domain,
                         "not_before": (at - timedelta(days=2)).isoformat(), "not_after": (at + timedelta(days=88)).isoformat()}},
        hashes={"phash": hashlib.sha256(png).hexdigest()[:16]},
    )


def _requests(s: Session, out: Seeded, now: datetime) -> None:
    def req(domain: str, recipient: str, name: str, kind: RecipientKind, status: RequestStatus, *,
            sent_h: float | None = None, closed_h: float | None = None, ttd_h: float | None = None,
            channel: Channel = Channel.EMAIL, error: str = "", by: str = "dashboard:approver") -> None:
        cid = out.candidates[domain]
        cand = s.get(Candidate, cid)
        snap = latest_snapshot(s, cand) if cand else None  # the evidence: the last capture of the live site
        created = now - timedelta(hours=(sent_h or 1) + 0.5)
        r = TakedownRequest(
            candidate_id=cid, snapshot_id=cand.last_snapshot_id if cand else None, recipient=recipient,
            recipient_name=name, recipient_kind=kind, channel=channel, status=status,
            subject=f"【フィッシングサイト停止のお願い】{domain}",
            body=f"ご担当者様\n\n{domain} は当社（ほしぞら証券）を装ったフィッシングサイトです。停止をお願いいたします。\n",
            attachments=[{"filename": "screenshot.png", "sha256": snap.screenshot_sha256, "content_type": "image/png",
                          "role": "screenshot"}] if snap else [],
            created_by=by, created_at=created,
            sent_at=None if sent_h is None else now - timedelta(hours=sent_h),
            closed_at=None if closed_h is None else now - timedelta(hours=closed_h),
            time_to_down_seconds=None if ttd_h is None else ttd_h * 3600,
            message_id=f"<{cid}.{kind.value}@omamori.test>", last_error=error)
        s.add(r)
        s.flush()
        out.requests[f"{domain}:{kind.value}"] = int(r.id or 0)
        record(s, r.created_by, "takedown.drafted", r, {"recipient": recipient}, at=created)
        if sent_h is not None:
            record(s, "takedowns", "takedown.sent", r, {"message_id": r.message_id}, at=r.sent_at)

    req("hzsec-account-verify.top", "abuse@cheapnames.test", "Cheap Names Ltd.", RecipientKind.REGISTRAR, RequestStatus.DRAFT)
    req("hzsec-account-verify.top", "abuse@lab-hosting.test", "Lab Hosting", RecipientKind.HOSTING, RequestStatus.DRAFT)
    req("hzsec-account-verify.top", "https://www.antiphishing.test/report", "フィッシング対策協議会", RecipientKind.CERT,
        RequestStatus.DRAFT, channel=Channel.WEBFORM)
    req("kaede-sec-login.top", "abuse@lab-hosting.test", "Lab Hosting", RecipientKind.HOSTING, RequestStatus.FAILED,
        error="550 5.1.1 mailbox unavailable (after 6 attempts)", by="auto-rule")
    req("hoshizora-secure-login.asia", "abuse@cheapnames.test", "Cheap Names Ltd.", RecipientKind.REGISTRAR,
        RequestStatus.SENT, sent_h=60)
    req("hoshizora-secure-login.asia", "https://www.antiphishing.test/report", "フィッシング対策協議会",
        RecipientKind.CERT, RequestStatus.SENT, sent_h=60, channel=Channel.WEBFORM)
    req("kaede-sec-login.top", "abuse@lab-registrar.test", "Lab Registrar K.K.", RecipientKind.REGISTRAR,
        RequestStatus.ANSWERED, sent_h=20, by="auto-rule")
    req("hoshizora-sec-mypage.cn", "abuse@example-cdn.test", "Example CDN", RecipientKind.CDN, RequestStatus.CLOSED,
        sent_h=100, closed_h=80, ttd_h=20)
    req("hoshizora-sec-mypage.cn", "abuse@cheapnames.test", "Cheap Names Ltd.", RecipientKind.REGISTRAR,
        RequestStatus.CLOSED, sent_h=100, closed_h=70, ttd_h=30)


def _owned(s: Session, now: datetime) -> None:
    facts = {
        "hoshizora-sec.co.jp": ("Lab Registrar K.K.", 300, ["client transfer prohibited", "server transfer prohibited"], True),
        "hoshizora.jp": ("Lab Registrar K.K.", 25, ["client transfer prohibited"], False),
        "hzsec.com": ("Lab Registrar K.K.", 75, ["clientTransferProhibited", "clientDeleteProhibited"], True),
        "hoshizora-sec.com": ("Cheap Names Ltd.", 6, [], False),
        "kaede-sec.co.jp": ("Lab Registrar K.K.", 200, ["client transfer prohibited"], True),
        "hoshizora-fx.jp": ("Cheap Names Ltd.", 350, ["active"], False),
    }
    for row in s.exec(select(OwnedDomain)):
        if row.name in facts:
            registrar, days, statuses, dnssec = facts[row.name]
            row.registrar, row.statuses, row.dnssec = registrar, statuses, dnssec
            row.expires_at = now + timedelta(days=days)
            row.registered_at = now - timedelta(days=3000)
            row.last_checked_at = now - timedelta(hours=2)
            s.add(row)


def _findings(s: Session, brands: dict[str, Brand], now: datetime) -> None:
    hz = brands["hoshizora"].id
    failed = s.exec(select(TakedownRequest).where(TakedownRequest.status == RequestStatus.FAILED)).first()
    if failed is not None:  # what the outbox opens when a send fails for good
        open_finding(s, FindingKind.TAKEDOWN_SEND_FAILED, f"request:{failed.id}",
                     text("takedown.send_failed", id=failed.id, recipient=failed.recipient), severity=Severity.HIGH,
                     detail=text("takedown.send_failed_detail", error="550 5.1.1 mailbox unavailable", attempts=1),
                     now=now)
    open_finding(s, FindingKind.TAKEOVER_CNAME, "campaign.hoshizora-sec.co.jp",
                 "campaign.hoshizora-sec.co.jp の CNAME が未使用のクラウド資源を指しています（乗っ取り可能）",
                 severity=Severity.CRITICAL, brand_id=hz, now=now - timedelta(hours=5),
                 data={"cname": "hz-campaign.lab-cloud.test"})
    open_finding(s, FindingKind.DROPCATCH, "hoshizora-fx.jp", "失効ドメイン hoshizora-fx.jp が第三者に再登録されました",
                 severity=Severity.HIGH, brand_id=hz, now=now - timedelta(days=1))
    open_finding(s, FindingKind.EXPIRY, "hoshizora-sec.com", "hoshizora-sec.com の有効期限まで 6 日", severity=Severity.HIGH,
                 brand_id=hz, now=now - timedelta(hours=2))
    open_finding(s, FindingKind.LOCK_TRANSFER, "hoshizora.jp", "hoshizora.jp に移管ロックがありません", severity=Severity.LOW,
                 brand_id=hz, now=now - timedelta(days=3))
    open_finding(s, FindingKind.DMARC, "hzsec.com", "DMARC が p=none のままです（p=reject が必要）",
                 severity=Severity.HIGH, brand_id=hz, now=now - timedelta(days=2))
    open_finding(s, FindingKind.BIMI, "hzsec.com", "BIMI レコードがありません", severity=Severity.LOW, brand_id=hz, now=now)
    open_finding(s, FindingKind.MTA_STS, "kaede-sec.co.jp", "MTA-STS ポリシーがありません", severity=Severity.LOW,
                 brand_id=brands["kaede"].id, now=now)
    open_finding(s, FindingKind.JOB_FAILING, "permutations", text("self.job_failing", job="permutations", n=3),
                 severity=Severity.HIGH,
                 now=now - timedelta(minutes=30), detail="TimeoutError: resolver did not answer")
    open_finding(s, FindingKind.CT_LOG_STALE, "https://ct.lab.test/2026h2/",
                 text("self.ct_log_stale", log="Lab 2026h2", since=f"{now - timedelta(hours=3):%Y-%m-%d %H:%M}"),
                 now=now - timedelta(minutes=20))


def _health(s: Session, now: datetime) -> None:
    s.add(LogPosition(log_id="bGFiLWxvZy0xCg==", url="https://ct.lab.test/2026h1/", description="Lab 2026h1",
                      next_index=1_204_311, tree_size=1_204_400, root_hash="cm9vdA==", sth_timestamp=now,
                      verified_at=now - timedelta(minutes=1), last_growth_at=now - timedelta(minutes=1),
                      updated_at=now, entries_processed=1_204_311, entries_failed=3))
    s.add(LogPosition(log_id="bGFiLWxvZy0yCg==", url="https://ct.lab.test/2026h2/", description="Lab 2026h2",
                      api="static", next_index=88_000, tree_size=88_000, verified_at=now - timedelta(hours=3),
                      last_growth_at=now - timedelta(hours=3), updated_at=now, entries_processed=88_000))  # not grown for 3 h: a ct_log_stale Finding
    for name, ok_ago, failures, err in (("ct_poll", 1, 0, ""), ("snapshot", 2, 0, ""), ("takedowns", 5, 0, ""),
                                        ("inventory", 600, 0, ""), ("mailauth", 700, 0, ""), ("health", 3, 0, ""),
                                        ("permutations", 1500, 3, "TimeoutError: resolver did not answer")):
        last_ok = now - timedelta(minutes=ok_ago)
        s.add(JobState(name=name, last_started_at=now - timedelta(minutes=min(ok_ago, 30)), last_ok_at=last_ok,
                       last_finished_at=now - timedelta(minutes=min(ok_ago, 30)), consecutive_failures=failures,
                       runs=100 + ok_ago, last_error=err))
        for k in range(failures):
            record(s, "scheduler", "job.failed", ("job", None), {"job": name, "error": err, "seconds": 30.0},
                   at=now - timedelta(minutes=30 + 60 * k))


def _dmarc(s: Session, now: datetime) -> None:
    reports = (
        ("google.com", "hoshizora-sec.co.jp", [("192.0.2.10", 1200, "pass", "pass"), ("198.51.100.77", 40, "fail", "fail")]),
        ("Yahoo! JAPAN", "hoshizora-sec.co.jp", [("192.0.2.10", 800, "pass", "pass")]),
        ("google.com", "hzsec.com", [("192.0.2.20", 300, "pass", "fail"), ("203.0.113.200", 95, "fail", "fail")]),
    )
    for i, (org, domain, recs) in enumerate(reports):
        s.add(DmarcReport(key=f"{org}:{i}", org_name=org, report_id=str(1000 + i), domain=domain,
                          begin_at=now - timedelta(days=2), end_at=now - timedelta(days=1),
                          policy={"p": "none" if domain == "hzsec.com" else "reject"},
                          records=[{"source_ip": ip, "count": n, "dkim": dk, "spf": sp, "header_from": domain}
                                   for ip, n, dk, sp in recs]))


def _report_files(ctx: Context, now: datetime) -> None:
    """Files as ``watcher.report.weekly`` names them: weekly-<date>.html + its CSVs; official-domains.*."""
    reports = ctx.state_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    for weeks_ago in (1, 0):
        day = (now - timedelta(days=7 * weeks_ago)).date().isoformat()
        (reports / f"weekly-{day}.html").write_text(
            f"<h1>週次レポート {day}</h1><ul><li>新規候補: 16</li><li>停止: 1（中央値 25 時間）</li></ul>",
            encoding="utf-8")
        (reports / f"weekly-{day}-candidates.csv").write_bytes("domain,status\r\nk3v9q.xyz,checked\r\n".encode(
            "utf-8-sig"))
    (reports / "official-domains.html").write_text(
        "<h1>ほしぞら証券の公式ドメイン</h1><ul><li>hoshizora-sec.co.jp</li><li>hoshizora.jp</li>"
        "<li>hzsec.com</li><li>hoshizora-sec.com</li></ul>", encoding="utf-8")
    (reports / "official-domains.json").write_text('{"brands": []}', encoding="utf-8")


def main(argv: list[str]) -> int:
    from watcher.context import build_context
    from watcher.core.config import load_settings

    base = Path(argv[1] if len(argv) > 1 else "/tmp/omamori-dashboard-demo").resolve()
    cfg = write_config(base)
    ctx = build_context(load_settings(cfg, environ={}))
    seed(ctx)
    ctx.engine.dispose()
    print(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

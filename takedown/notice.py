"""What to say: the request text (Japanese or English, per recipient) and its evidence summary.

Pure: facts in, text and bytes out. Short and factual, in the order an abuse desk reads: which URL,
why it is phishing (the snapshot's reasons as written), since when, what is asked, who asks and how
to confirm. URLs in the text are defanged (``hxxps://example[.]top/``) so that no mail client turns
them into a link; the JSON summary carries them as they are.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from string import Template
from typing import Any

from takedown.contacts import CDN, CERT, HOSTING, OTHER, OWNER, REGISTRAR, SHORTENER, SUSPEND, email_domain

JST = timezone(timedelta(hours=9), "JST")

AUTO_RULE_TEXT = {
    "ja": "この依頼は、当社の自動判定ルール（当社を装う画面・ロゴ・社名の表示、パスワード入力欄、"
          "当社に似せたドメイン名がすべて揃った場合）により送信されました。ご返信は担当者が確認します。",
    "en": "This request was sent by our automatic rule (it requires a page that imitates or names us, a "
          "password form and a name made to look like ours, all together). A person reads every reply.",
}

ASK = {
    "ja": {
        REGISTRAR: "ドメイン名の利用停止（clientHold 等）をお願いいたします。",
        HOSTING: "当該コンテンツの削除、またはサーバーの利用停止をお願いいたします。",
        CDN: "当該サイトへのサービス提供の停止をお願いいたします。配信元サーバーの情報もご提供いただけますと幸いです。",
        CERT: "情報提供です。関係機関への連絡・調整およびブロックリストへの登録にご協力をお願いいたします。",
        SHORTENER: "下記の短縮URLの無効化をお願いいたします。",
        OWNER: "貴サイトに設置されたフィッシングサイトの削除をお願いいたします。",
        OTHER: "停止に向けたご協力をお願いいたします。",
    },
    "en": {
        REGISTRAR: "Please suspend the domain name (e.g. clientHold).",
        HOSTING: "Please remove the content or suspend the server.",
        CDN: "Please stop serving this site, and tell us its origin server if you can.",
        CERT: "For your information: please help coordinate the takedown and add the site to block lists.",
        SHORTENER: "Please disable the short links below.",
        OWNER: "Please remove the phishing pages placed on your site.",
        OTHER: "Please help us get this site taken down.",
    },
}

ATTACHMENT_TEXT = {
    "ja": {"screenshot": "当該サイトの画面（{at}取得）", "side_by_side": "正規サイト（左）と当該サイト（右）の比較",
           "fullpage": "当該ページ全体の画面", "html": "当該ページのHTML", "favicon": "当該サイトのファビコン",
           "lure": "お客様に届いたフィッシングメール（message/rfc822）",
           "summary": "URL・IPアドレス・日時・証拠ファイル（XARF v4 形式のJSON）"},
    "en": {"screenshot": "the site as captured at {at}", "side_by_side": "our genuine page (left) and the site (right)",
           "fullpage": "the whole page", "html": "the page's HTML", "favicon": "the site's favicon",
           "lure": "the phishing mail our customer received (message/rfc822)",
           "summary": "URLs, IP addresses, times, evidence (XARF v4 JSON)"},
}

WITHHELD_TEXT = {
    "ja": "（容量の上限のため未添付。ご要望に応じてお送りします）",
    "en": "(not attached: over the size limit; sent on request)",
}

LINKS_TEXT = {
    "ja": "\n■ お客様に届いたメール内の短縮URL（誤クリック防止のため置き換えています）\n",
    "en": "\nShort links in the phishing mail (defanged):\n",
}

PATHS_TEXT = {
    "ja": "\n■ 設置されたパス（サイト全体ではなく、このパス以下のコンテンツの削除をお願いします）\n",
    "en": "\nWhere the phishing pages sit (please remove this content, not the whole site):\n",
}

TICKET_TEXT = {"ja": "貴社受付番号: {ticket}\n", "en": "Your ticket: {ticket}\n"}

TIMELINE_TEXT = {
    "ja": {"first_seen": "初回検知", "registered": "ドメイン登録", "not_before": "証明書の有効開始",
           "taken": "証拠取得"},
    "en": {"first_seen": "first seen", "registered": "domain registered", "not_before": "certificate valid from",
           "taken": "evidence captured"},
}


@dataclass
class EvidenceFile:
    role: str  # screenshot, fullpage, html, favicon, side_by_side, lure, summary
    filename: str
    sha256: str
    content_type: str
    size: int = 0


def evidence_filename(role: str, sha256: str, content_type: str) -> str:
    """``screenshot.<sha256>.png``: the file is named by what it is and by its hash (chain of custody)."""
    ext = {"image/png": "png", "text/html": "html", "image/x-icon": "ico", "application/json": "json",
           "message/rfc822": "eml"}.get(content_type, "bin")
    return f"{role}.{sha256}.{ext}"


@dataclass
class NoticeFacts:
    """Everything a request says, gathered by the watcher from the Candidate and its Snapshot."""

    reference: str  # e.g. "TD-12": in the subject, so replies can be matched
    domain: str  # ASCII (punycode): what a registrar's systems know
    urls: list[str]
    brand: str
    brand_ja: str
    org: str
    org_ja: str
    official_urls: list[str]  # the genuine pages copied: in the JSON summary, not as links in the text
    reasons: list[str]
    ips: list[str] = field(default_factory=list)
    first_seen_at: datetime | None = None
    registered_at: datetime | None = None
    cert_not_before: datetime | None = None
    taken_at: datetime | None = None
    evidence: list[EvidenceFile] = field(default_factory=list)
    # The firm's own domains, named in the text so a desk can tell genuine from fake, and the public
    # page that lists them (guideline IV.4(4)③). The text carries no link to a login page (IV.4(5)).
    official_domains: list[str] = field(default_factory=list)
    official_list_url: str = ""
    domain_unicode: str = ""  # an IDN as the victim saw it, when it differs
    reasons_ja: list[str] = field(default_factory=list)  # ``reasons`` in Japanese, for letters in Japanese
    requester: str = "Brand Security Team"
    requester_email: str = ""
    requester_phone: str = ""
    auto: bool = False
    # What this recipient is asked, by language (the watcher renders it from its text catalogue) for
    # the recipient kind ``ask_kind``; a letter in another language or to another kind: the default ask.
    ask: dict[str, str] = field(default_factory=dict)
    ask_kind: str = ""
    mode: str = SUSPEND  # or remove_content: a hacked site (takedown.policy.site_mode)
    kit_paths: list[str] = field(default_factory=list)  # in remove_content mode: where the kit sits
    short_links: list[str] = field(default_factory=list)  # shortener links in the lure
    withheld: list[EvidenceFile] = field(default_factory=list)  # evidence over the attachment cap
    registrar: str = ""
    nameservers: list[str] = field(default_factory=list)
    credential_fields: list[str] = field(default_factory=list)  # e.g. ["username", "password"]
    submission_url: str = ""  # where the form posts
    evidence_source: str = "crawler"  # crawler (our own discovery) or user_report (a customer's report)


def defang(url: str) -> str:
    return url.replace("http", "hxxp", 1).replace(".", "[.]")


def fmt_time(t: datetime | None, language: str) -> str:
    if t is None:
        return "-"
    t = t.astimezone(UTC)
    if language == "ja":
        return t.astimezone(JST).strftime("%Y年%m月%d日 %H:%M JST")
    return f"{t:%Y-%m-%d %H:%M} UTC ({t.astimezone(JST):%H:%M} JST)"


def _template(name: str) -> Template:
    return Template(resources.files("takedown").joinpath("templates", name).read_text(encoding="utf-8"))


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {i}" for i in items) if items else "-"


def _shown_domain(facts: NoticeFacts) -> str:
    return f"{facts.domain} ({facts.domain_unicode})" if facts.domain_unicode else facts.domain


def subject(facts: NoticeFacts, language: str, *, reminder: bool = False, ticket: str = "") -> str:
    """The subject; a reminder's carries the desk's ticket number, so its system files it in the ticket."""
    tag = f" [{ticket}]" if ticket else ""
    if language == "ja":
        base = f"【フィッシングサイト停止のお願い】{_shown_domain(facts)}（{facts.brand_ja or facts.brand}を装うサイト）"
        return f"【再送】{base} [{facts.reference}]{tag}" if reminder else f"{base} [{facts.reference}]"
    base = f"Phishing site impersonating {facts.brand}: {_shown_domain(facts)} - takedown request"
    return f"Reminder: {base} [{facts.reference}]{tag}" if reminder else f"{base} [{facts.reference}]"


def signature(facts: NoticeFacts, language: str) -> str:
    org = facts.org_ja if language == "ja" and facts.org_ja else facts.org
    lines = [f"{org}", f"{facts.requester}"]
    if facts.requester_email:
        lines.append(f"Email: {facts.requester_email}")
    if facts.requester_phone:
        lines.append(("電話: " if language == "ja" else "Phone: ") + facts.requester_phone)
    lines.append(f"{'参照番号' if language == 'ja' else 'Reference'}: {facts.reference}")
    return "--\n" + "\n".join(lines)


def _timeline(facts: NoticeFacts, language: str) -> str:
    words = TIMELINE_TEXT[language]
    rows = [(words["first_seen"], facts.first_seen_at), (words["registered"], facts.registered_at),
            (words["not_before"], facts.cert_not_before), (words["taken"], facts.taken_at)]
    return _bullets([f"{label}: {fmt_time(t, language)}" for label, t in rows if t is not None])


def _official(facts: NoticeFacts, language: str) -> str:
    lines = _bullets(facts.official_domains)
    if facts.official_list_url:
        lines += ("\n当社ドメインの一覧: " if language == "ja" else "\nThe list of our domains: ") + facts.official_list_url
    return lines


def _extra(facts: NoticeFacts, language: str) -> str:
    out = ""
    if facts.short_links:
        out += LINKS_TEXT[language] + _bullets([defang(u) for u in facts.short_links]) + "\n"
    if facts.kit_paths and facts.mode != SUSPEND:
        out += PATHS_TEXT[language] + _bullets(facts.kit_paths) + "\n"
    return out


def body(facts: NoticeFacts, language: str, kind: str, recipient_name: str) -> str:
    language = language if language in ("ja", "en") else "en"
    texts = ATTACHMENT_TEXT[language]
    at = fmt_time(facts.taken_at, language)
    attachments = [f"{e.filename}: {texts.get(e.role, e.role).format(at=at)}"
                   for e in facts.evidence if e.role in texts]
    attachments += [f"{e.role} sha256 {e.sha256}: {texts.get(e.role, e.role).format(at=at)} {WITHHELD_TEXT[language]}"
                    for e in facts.withheld]
    return _template(f"request.{language}.txt").substitute(
        recipient_name=recipient_name,
        org=facts.org, org_ja=facts.org_ja or facts.org, brand=facts.brand, brand_ja=facts.brand_ja or facts.brand,
        requester=facts.requester,
        ask=(facts.ask.get(language, "") if kind == facts.ask_kind else "")
        or ASK[language].get(kind, ASK[language][OTHER]),
        urls=_bullets([defang(u) for u in facts.urls]) + _extra(facts, language),
        ips=_bullets(facts.ips),
        reasons=_bullets(facts.reasons_ja if language == "ja" and facts.reasons_ja else facts.reasons),
        timeline=_timeline(facts, language),
        official=_official(facts, language),
        attachments=_bullets(attachments),
        auto_note=f"\n{AUTO_RULE_TEXT[language]}\n" if facts.auto else "",
        signature=signature(facts, language),
    )


def reminder_body(facts: NoticeFacts, language: str, recipient_name: str, *, sent_at: datetime,
                  checked_at: datetime, ticket: str = "") -> str:
    language = language if language in ("ja", "en") else "en"
    return _template(f"reminder.{language}.txt").substitute(
        recipient_name=recipient_name, sent_at=fmt_time(sent_at, language),
        checked_at=fmt_time(checked_at, language), reference=facts.reference,
        ticket_line=TICKET_TEXT[language].format(ticket=ticket) if ticket else "",
        urls=_bullets([defang(u) for u in facts.urls]), signature=signature(facts, language),
    )


XARF_VERSION = "4.2.0"  # the XARF v4 spec release the shipped schemas (data/xarf/v4) come from
_XARF_DOMAIN = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$")  # content-base.json's pattern
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def _contact(org: str, email: str) -> dict[str, str]:
    return {"org": org[:200] or "-", "contact": email, "domain": email_domain(email)}


def xarf_report(facts: NoticeFacts, *, report_id: str, recipient_kind: str = "",
                sent_at: datetime | None = None, payloads: Mapping[str, bytes] | None = None,
                description: str = "") -> dict[str, Any]:
    """The XARF v4 report (category ``content``, type ``phishing``) that abuse desks import.

    Validates against the published schema (``data/xarf/v4``, checked in the tests). ``payloads``:
    the evidence files to inline (sha256 -> bytes; the watcher passes those under its size limit);
    every evidence file, inlined or not, is listed with its sha256 under ``omamori.evidence_files``,
    so anyone can check the attachments. ``report_id`` is a UUID chosen by the caller.
    """
    payloads = payloads or {}
    reporter = _contact(facts.org, facts.requester_email)
    evidence = []
    for e in facts.evidence:
        data = payloads.get(e.sha256)
        if data is None or e.role == "summary":
            continue
        evidence.append({"content_type": e.content_type, "description": f"{e.role}: {e.filename}"[:500],
                         "payload": base64.b64encode(data).decode("ascii"), "hash": f"sha256:{e.sha256}",
                         "size": len(data)})
    domain = facts.domain.lower()
    url = facts.urls[0] if facts.urls else f"https://{domain}/"
    report: dict[str, Any] = {
        "xarf_version": XARF_VERSION,
        "report_id": report_id,
        "timestamp": _iso(facts.first_seen_at or facts.taken_at or sent_at),
        "reporter": reporter,
        "sender": reporter,
        "source_identifier": domain or (facts.ips[0] if facts.ips else url),
        "category": "content",
        "type": "phishing",
        "evidence_source": "user_report" if facts.evidence_source == "user_report" else "crawler",
        "url": url,
        "target_brand": facts.brand,
        "verification_method": "automated_crawler" if facts.auto else "manual",
        "description": (description or f"Phishing site impersonating {facts.brand} ({facts.org}); "
                        f"reference {facts.reference}")[:1000],
        "tags": [f"reference:{facts.reference.lower()}", f"mode:{facts.mode.replace('_', '-')}"],
        "confidence": 1.0 if not facts.auto else 0.95,
        "evidence": evidence[:50],
        "omamori": {
            "reference": facts.reference, "recipient_kind": recipient_kind, "urls": list(facts.urls),
            "ips": list(facts.ips), "domain_unicode": facts.domain_unicode or facts.domain,
            "official_urls": list(facts.official_urls), "reasons": list(facts.reasons),
            "short_links": list(facts.short_links), "kit_paths": list(facts.kit_paths),
            "times_jst": {k: _jst(t) for k, t in (("first_seen", facts.first_seen_at),
                                                    ("registered", facts.registered_at),
                                                    ("certificate_not_before", facts.cert_not_before),
                                                    ("evidence_captured", facts.taken_at),
                                                    ("sent", sent_at)) if t is not None},
            "evidence_files": [{"role": e.role, "filename": e.filename, "content_type": e.content_type,
                                "sha256": e.sha256, "attached": True}
                               for e in facts.evidence if e.role != "summary"]
                              + [{"role": e.role, "filename": e.filename, "content_type": e.content_type,
                                  "sha256": e.sha256, "attached": False} for e in facts.withheld],
            "automatic_decision": facts.auto,
        },
    }
    if _XARF_DOMAIN.match(domain):
        report["domain"] = domain
    if facts.official_urls:
        report["cloned_site"] = facts.official_urls[0]
    if facts.credential_fields:
        report["credential_fields"] = list(facts.credential_fields)
    if facts.submission_url:
        report["submission_url"] = facts.submission_url
    if facts.taken_at:
        report["verified_at"] = _iso(facts.taken_at)
    if facts.registrar:
        report["registrar"] = facts.registrar
    if facts.nameservers:
        report["nameservers"] = list(facts.nameservers)
    a = [ip for ip in facts.ips if _IPV4.match(ip)]
    if a:
        report["dns_records"] = {"a": a}
    if facts.registered_at:
        report["whois"] = {"created_date": _iso(facts.registered_at)}
    return report


def _jst(t: datetime) -> str:
    return t.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S+09:00")


def xarf_json(summary: Mapping[str, Any]) -> bytes:
    return json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8")


def side_by_side(official_png: bytes | None, phishing_png: bytes, *, official_label: str, phishing_label: str,
                 max_height: int = 1000) -> bytes:
    """One PNG: the genuine page on the left, the reported site on the right, each under a label.

    Labels are ASCII (Pillow's built-in font has no Japanese glyphs); the request text explains them.
    """
    from PIL import Image, ImageDraw, ImageFont

    def load(data: bytes) -> Image.Image:
        img = Image.open(io.BytesIO(data)).convert("RGB")
        if img.height > max_height:  # a full-page capture: the top is what a victim sees first
            img = img.crop((0, 0, img.width, max_height))
        return img

    right = load(phishing_png)
    left = load(official_png) if official_png else Image.new("RGB", right.size, (240, 240, 240))
    # The same height for both, so the eye compares like with like.
    h = min(left.height, right.height)
    left = left.resize((max(1, left.width * h // left.height), h))
    right = right.resize((max(1, right.width * h // right.height), h))
    pad, bar = 16, 34

    def font(label: str, width: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        # As large as fits the panel's width (roughly 0.6 em per character), 9 to 20 px.
        return ImageFont.load_default(size=max(9, min(20, int(width / (0.6 * max(1, len(label)))))))

    canvas = Image.new("RGB", (left.width + right.width + 3 * pad, h + bar + 2 * pad), (255, 255, 255))
    canvas.paste(left, (pad, pad + bar))
    canvas.paste(right, (2 * pad + left.width, pad + bar))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, pad), official_label[:120], fill=(0, 110, 0), font=font(official_label[:120], left.width))
    draw.text((2 * pad + left.width, pad), phishing_label[:120], fill=(200, 0, 0),
              font=font(phishing_label[:120], right.width))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()

"""What to say: the request text (Japanese or English, per recipient) and its evidence summary.

Pure: facts in, text and bytes out. Short and factual, in the order an abuse desk reads: which URL,
why it is phishing (the snapshot's reasons as written), since when, what is asked, who asks and how
to confirm. URLs in the text are defanged (``hxxps://example[.]top/``) so that no mail client turns
them into a link; the JSON summary carries them as they are.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from string import Template
from typing import Any

from takedown.contacts import CDN, CERT, HOSTING, OTHER, REGISTRAR

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
        OTHER: "停止に向けたご協力をお願いいたします。",
    },
    "en": {
        REGISTRAR: "Please suspend the domain name (e.g. clientHold).",
        HOSTING: "Please remove the content or suspend the server.",
        CDN: "Please stop serving this site, and tell us its origin server if you can.",
        CERT: "For your information: please help coordinate the takedown and add the site to block lists.",
        OTHER: "Please help us get this site taken down.",
    },
}

ATTACHMENT_TEXT = {
    "ja": {"screenshot": "当該サイトの画面（{at}取得）", "side_by_side": "正規サイト（左）と当該サイト（右）の比較",
           "summary": "URL・IPアドレス・日時（UTC/JST）・証拠ファイルのSHA-256（X-ARF形式のJSON）"},
    "en": {"screenshot": "the site as captured at {at}", "side_by_side": "our genuine page (left) and the site (right)",
           "summary": "URLs, IP addresses, times (UTC and JST), SHA-256 of every evidence file (X-ARF style JSON)"},
}

TIMELINE_TEXT = {
    "ja": {"first_seen": "初回検知", "registered": "ドメイン登録", "not_before": "証明書の有効開始",
           "taken": "証拠取得"},
    "en": {"first_seen": "first seen", "registered": "domain registered", "not_before": "certificate valid from",
           "taken": "evidence captured"},
}


@dataclass
class EvidenceFile:
    role: str  # screenshot, fullpage, html, favicon, side_by_side, summary
    filename: str
    sha256: str
    content_type: str


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


def subject(facts: NoticeFacts, language: str, *, reminder: bool = False) -> str:
    if language == "ja":
        base = f"【フィッシングサイト停止のお願い】{_shown_domain(facts)}（{facts.brand_ja or facts.brand}を装うサイト）"
        return f"【再送】{base} [{facts.reference}]" if reminder else f"{base} [{facts.reference}]"
    base = f"Phishing site impersonating {facts.brand}: {_shown_domain(facts)} - takedown request"
    return f"Reminder: {base} [{facts.reference}]" if reminder else f"{base} [{facts.reference}]"


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


def body(facts: NoticeFacts, language: str, kind: str, recipient_name: str) -> str:
    language = language if language in ("ja", "en") else "en"
    texts = ATTACHMENT_TEXT[language]
    attachments = [f"{e.filename}: {texts.get(e.role, e.role).format(at=fmt_time(facts.taken_at, language))}"
                   for e in facts.evidence if e.role in texts]
    return _template(f"request.{language}.txt").substitute(
        recipient_name=recipient_name,
        org=facts.org, org_ja=facts.org_ja or facts.org, brand=facts.brand, brand_ja=facts.brand_ja or facts.brand,
        requester=facts.requester,
        ask=ASK[language].get(kind, ASK[language][OTHER]),
        urls=_bullets([defang(u) for u in facts.urls]),
        ips=_bullets(facts.ips),
        reasons=_bullets(facts.reasons_ja if language == "ja" and facts.reasons_ja else facts.reasons),
        timeline=_timeline(facts, language),
        official=_official(facts, language),
        attachments=_bullets(attachments),
        auto_note=f"\n{AUTO_RULE_TEXT[language]}\n" if facts.auto else "",
        signature=signature(facts, language),
    )


def reminder_body(facts: NoticeFacts, language: str, recipient_name: str, *, sent_at: datetime,
                  checked_at: datetime) -> str:
    language = language if language in ("ja", "en") else "en"
    return _template(f"reminder.{language}.txt").substitute(
        recipient_name=recipient_name, sent_at=fmt_time(sent_at, language),
        checked_at=fmt_time(checked_at, language), reference=facts.reference,
        urls=_bullets([defang(u) for u in facts.urls]), signature=signature(facts, language),
    )


def _times(t: datetime | None) -> dict[str, str] | None:
    if t is None:
        return None
    t = t.astimezone(UTC)
    return {"utc": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "jst": t.astimezone(JST).strftime("%Y-%m-%dT%H:%M:%S+09:00")}


def xarf_summary(facts: NoticeFacts, *, recipient_kind: str = "", sent_at: datetime | None = None) -> dict[str, Any]:
    """A machine-readable summary in the spirit of X-ARF (abuse reporting format): one report of
    class ``content``, type ``phishing``, with every URL, address, time (UTC and JST) and the
    SHA-256 of every evidence file, so a desk can import it and anyone can check the files."""
    return {
        "Version": "4",
        "ReporterInfo": {"ReporterOrg": facts.org, "ReporterOrgEmail": facts.requester_email,
                         "ReporterContactName": facts.requester, "ReporterContactPhone": facts.requester_phone},
        "Disclosure": True,
        "Report": {
            "ReportClass": "Content",
            "ReportType": "Phishing",
            "Reference": facts.reference,
            "Date": _times(sent_at or facts.taken_at),
            "SourceDomain": facts.domain,
            "SourceDomainUnicode": facts.domain_unicode or facts.domain,
            "SourceUrls": list(facts.urls),
            "SourceIps": list(facts.ips),
            "TargetBrand": facts.brand,
            "TargetUrls": list(facts.official_urls),
            "Reasons": list(facts.reasons),
            "FirstSeen": _times(facts.first_seen_at),
            "DomainRegistered": _times(facts.registered_at),
            "CertificateNotBefore": _times(facts.cert_not_before),
            "EvidenceCaptured": _times(facts.taken_at),
            "RecipientKind": recipient_kind,
            "AutomaticDecision": facts.auto,
            "Evidence": [{"Role": e.role, "FileName": e.filename, "ContentType": e.content_type,
                          "Sha256": e.sha256} for e in facts.evidence if e.role != "summary"],
        },
    }


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

"""Reports rendered from the inventory tables.

- The weekly domain-inventory report for management (guideline IV.1(3)): owned domains with expiry and
  locks, open findings, mail-authentication posture, DMARC volume and who fails alignment, the week's
  candidates by source and status, takedowns sent and closed with the median time to down. HTML
  (inline SVG charts, no external assets, so it survives mail clients and archives) and CSV (UTF-8
  with BOM, so Excel in Japan opens it correctly), kept in ``<state_dir>/reports/`` and mailed to
  ``report.recipients``.
- The customer-facing list of official domains (IV.4(4)③, IV.7(2)⑥), HTML and JSON, ja + en.
"""

from __future__ import annotations

import csv
import html
import io
import json
import statistics
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.models import (
    Brand,
    Candidate,
    Finding,
    FindingStatus,
    JobState,
    OwnedDomain,
    Severity,
    TakedownRequest,
)
from watcher.owned import dmarc
from watcher.owned.registration import TRANSFER_LOCK, UPDATE_LOCK

TEMPLATES = Path(__file__).parent / "templates"
ASPECTS = ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt")
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
SEV_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#558b2f", "info": "#607d8b"}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


def bar_chart(items: list[tuple[str, int]], *, colours: dict[str, str] | None = None, width: int = 420,
              colour: str = "#0b1f4b") -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped here: the result is marked safe)."""
    if not items:
        return Markup('<p class="muted">—</p>')
    row, label_w = 22, 150
    top = max(v for _, v in items) or 1
    h = row * len(items) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img">']
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        w = int((width - label_w - 50) * value / top)
        fill = (colours or {}).get(label, colour)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{html.escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1)}" height="{row - 8}" fill="{fill}"/>'
                     f'<text x="{label_w + max(w, 1) + 4}" y="{y + 15}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _local(dt: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d") -> str:
    return dt.astimezone(tz).strftime(fmt) if dt else "-"


# --- the weekly report ---------------------------------------------------------------------------


def _posture(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """Per sending domain: each aspect ok/NG from the open findings; DMARC policy from the last run."""
    open_ma = {(f.kind, f.subject): f for f in session.exec(
        select(Finding).where(Finding.status == FindingStatus.OPEN, Finding.kind.in_(ASPECTS)))}  # type: ignore[attr-defined]
    state = session.get(JobState, "mailauth")
    last = (state.last_summary.get("posture") if state else None) or {}
    out = []
    for b in ctx.brands:
        for d in b.sending_domains:
            row: dict[str, Any] = {"domain": d, "brand": b.slug}
            for a in ASPECTS:
                f = open_ma.get((a, d))
                # No open finding means OK only once the mailauth job has looked at all (None: unknown).
                ok = False if f else (True if state and state.last_ok_at else None)
                row[a] = {"ok": ok, "severity": f.severity.value if f else "", "title": f.title if f else ""}
            dm = open_ma.get(("dmarc", d))
            row["policy"] = (dm.data.get("p") if dm else None) or (last.get(d, {}).get("dmarc", {}).get("p")) or "?"
            row["checked"] = state.last_ok_at if state else None
            out.append(row)
    return out


def collect_weekly(ctx: Context, session: Session, now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(ctx.settings.service.timezone)
    start = now - timedelta(days=7)
    warn = max(ctx.settings.inventory.expiry_warn_days or [90])
    brands = {b.id: b for b in session.exec(select(Brand))}
    domains = []
    for d in session.exec(select(OwnedDomain).order_by(OwnedDomain.apex, OwnedDomain.name)):
        days = int((d.expires_at - now).total_seconds() // 86400) if d.expires_at else None
        domains.append({
            "name": d.name, "apex": d.apex, "is_apex": d.is_apex, "source": d.source.value, "lapsed": d.lapsed,
            "brand": brands[d.brand_id].slug if d.brand_id in brands else "",
            "registrar": d.registrar, "expires": _local(d.expires_at, tz), "days_left": days,
            "expiring": days is not None and days <= warn,
            "transfer_lock": TRANSFER_LOCK in d.statuses if d.statuses else None,
            "update_lock": UPDATE_LOCK in d.statuses if d.statuses else None,
            "dnssec": d.dnssec, "checked": _local(d.last_checked_at, tz, "%Y-%m-%d %H:%M"),
        })
    findings = list(session.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)))
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.opened_at))
    opened_week = [f for f in session.exec(select(Finding).where(Finding.opened_at >= start))]
    resolved_week = [f for f in session.exec(select(Finding).where(Finding.resolved_at >= start))]  # type: ignore[operator]
    by_sev = Counter(f.severity.value for f in findings)
    cands = list(session.exec(select(Candidate).where(Candidate.first_seen_at >= start)))
    by_source = Counter(c.source.value for c in cands)
    by_status = Counter(c.status.value for c in cands)
    sent = list(session.exec(select(TakedownRequest).where(TakedownRequest.sent_at >= start)))  # type: ignore[operator]
    closed = list(session.exec(select(TakedownRequest).where(TakedownRequest.closed_at >= start)))  # type: ignore[operator]
    ttd = [r.time_to_down_seconds for r in closed if r.time_to_down_seconds is not None]
    if not ttd:
        downs = session.exec(select(Candidate).where(Candidate.down_at >= start))  # type: ignore[operator]
        ttd = [(c.down_at - c.confirmed_at).total_seconds() for c in downs if c.down_at and c.confirmed_at]
    median_h = round(statistics.median(ttd) / 3600, 1) if ttd else None
    volume = dmarc.volume(session, start)
    senders = dmarc.failing_senders(session, start)[:10]
    return {
        "now": now, "generated": _local(now, tz, "%Y-%m-%d %H:%M %Z"), "period": f"{_local(start, tz)} – {_local(now, tz)}",
        "date": _local(now, tz), "domains": domains, "findings": findings, "by_severity": by_sev,
        "opened_week": len(opened_week), "resolved_week": len(resolved_week),
        "posture": _posture(session, ctx), "dmarc_volume": volume, "failing_senders": senders,
        "candidates": len(cands), "by_source": by_source, "by_status": by_status,
        "sent": len(sent), "closed": len(closed), "median_hours": median_h, "ttd_count": len(ttd),
        "expiring": [d for d in domains if d["expiring"] and not d["lapsed"]],
        "official_list_url": ctx.settings.report.official_list_url,
        "charts": {
            "severity": bar_chart([(s.value, by_sev.get(s.value, 0)) for s in SEVERITIES], colours=SEV_COLOURS),
            "sources": bar_chart(sorted(by_source.items(), key=lambda kv: -kv[1])),
            "status": bar_chart(sorted(by_status.items(), key=lambda kv: -kv[1]), colour="#2e7d32"),
            "dmarc": bar_chart([(f"{d} ✓", v["aligned"]) for d, v in sorted(volume.items())]
                               + [(f"{d} ✗", v["failing"]) for d, v in sorted(volume.items())], colour="#37474f"),
        },
    }


def _csv(rows: list[dict[str, Any]] | list[list[Any]], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    if header is not None:
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)  # type: ignore[arg-type]
    else:
        dict_rows: list[dict[str, Any]] = rows  # type: ignore[assignment]
        fields = list(dict_rows[0]) if dict_rows else ["empty"]
        w2 = csv.DictWriter(buf, fieldnames=fields)
        w2.writeheader()
        w2.writerows(dict_rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def weekly_csvs(data: dict[str, Any]) -> dict[str, bytes]:
    findings = [{"severity": f.severity.value, "kind": f.kind, "subject": f.subject, "title": f.title,
                 "opened_at": f.opened_at.isoformat(), "times_opened": f.times_opened} for f in data["findings"]]
    summary: list[list[Any]] = [["period", data["period"]], ["owned_names", len(data["domains"])],
                                ["open_findings", len(data["findings"])], ["findings_opened_week", data["opened_week"]],
                                ["findings_resolved_week", data["resolved_week"]], ["candidates_week", data["candidates"]]]
    summary += [[f"candidates_source_{k}", v] for k, v in sorted(data["by_source"].items())]
    summary += [[f"candidates_status_{k}", v] for k, v in sorted(data["by_status"].items())]
    summary += [["takedowns_sent", data["sent"]], ["takedowns_closed", data["closed"]],
                ["median_hours_to_down", data["median_hours"] if data["median_hours"] is not None else ""]]
    for p in data["posture"]:
        summary += [[f"mailauth_{p['domain']}_{a}", {True: "ok", False: "NG", None: "unknown"}[p[a]["ok"]]]
                    for a in ASPECTS]
        summary.append([f"mailauth_{p['domain']}_dmarc_policy", p["policy"]])
    return {"domains": _csv(data["domains"]), "findings": _csv(findings), "summary": _csv(summary, ["metric", "value"])}


def render_weekly(ctx: Context, now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """Render the weekly report into <state_dir>/reports/; returns (data, {kind: path})."""
    now = now or ctx.now()
    with ctx.session() as s:
        data = collect_weekly(ctx, s, now)
        page = _env().get_template("weekly.html.j2").render(**data)
    out = ctx.state_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{data['date']}"
    paths = {"html": out / f"{stem}.html"}
    paths["html"].write_text(page, encoding="utf-8")
    for name, content in weekly_csvs(data).items():
        paths[name] = out / f"{stem}-{name}.csv"
        paths[name].write_bytes(content)
    return data, paths


def weekly_text(data: dict[str, Any]) -> str:
    lines = [f"週次ドメイン・メール認証レポート / Weekly domain inventory report ({data['period']})", "",
             f"保有ドメイン・ホスト / owned names: {len(data['domains'])}",
             f"未対応の指摘 / open findings: {len(data['findings'])} "
             f"(critical {data['by_severity'].get('critical', 0)}, high {data['by_severity'].get('high', 0)})",
             f"今週の検知候補 / candidates this week: {data['candidates']}",
             f"テイクダウン依頼 送信/完了 / takedowns sent/closed: {data['sent']}/{data['closed']}",
             "停止までの時間（中央値） / median time to down: "
             + (f"{data['median_hours']} h" if data["median_hours"] is not None else "-"), ""]
    for d in data["expiring"]:
        lines.append(f"! {d['name']}: 有効期限 / expires {d['expires']} ({d['days_left']} days)")
    for p in data["posture"]:
        ng = [a for a in ASPECTS if p[a]["ok"] is False]
        lines.append(f"{p['domain']}: DMARC p={p['policy']}; " + ("NG: " + ", ".join(ng) if ng else "all ok"))
    lines += ["", "詳細は添付のHTMLとCSVをご覧ください。 / Details in the attached HTML and CSV files."]
    return "\n".join(lines)


def mail_weekly(ctx: Context, data: dict[str, Any], paths: dict[str, Path]) -> str | None:
    recipients = ctx.settings.report.recipients
    if not recipients:
        return None
    msg = EmailMessage()
    msg["Subject"] = f"【omamori】週次ドメイン・メール認証レポート / Weekly domain report {data['date']}"
    msg["To"] = ", ".join(recipients)
    msg.set_content(weekly_text(data))
    msg.add_alternative(paths["html"].read_text(encoding="utf-8"), subtype="html")
    msg.add_attachment(paths["html"].read_bytes(), maintype="text", subtype="html", filename=paths["html"].name)
    for kind in ("summary", "domains", "findings"):
        msg.add_attachment(paths[kind].read_bytes(), maintype="text", subtype="csv", filename=paths[kind].name)
    return ctx.mailer.send(msg)


def weekly(ctx: Context) -> dict[str, Any]:
    """The weekly_report job: render, keep, and mail to ``report.recipients``."""
    data, paths = render_weekly(ctx)
    message_id = mail_weekly(ctx, data, paths)
    official = render_official_domains(ctx)  # kept in step with the inventory for whoever publishes it
    return {"html": str(paths["html"]), "official_domains": str(official["json"]),
            "open_findings": len(data["findings"]), "candidates": data["candidates"],
            "mailed_to": len(ctx.settings.report.recipients) if message_id else 0, "message_id": message_id or ""}


# --- official domains ----------------------------------------------------------------------------


def collect_official(ctx: Context, session: Session) -> dict[str, Any]:
    """What customers may trust, per brand. Only registered apexes of the inventory and the hosts the
    brands file names: hosts found in DNS, CT or zone files are often internal and are not published."""
    out = []
    for b in session.exec(select(Brand).order_by(Brand.slug)):
        spec = b.spec
        apexes = [d.name for d in session.exec(select(OwnedDomain).where(
            OwnedDomain.brand_id == b.id, OwnedDomain.is_apex == True, OwnedDomain.lapsed == False)  # noqa: E712
            .order_by(OwnedDomain.name))]
        hosts = sorted(set(spec.get("official_hosts") or []))
        out.append({"slug": b.slug, "name": b.name, "name_ja": b.name_ja, "domains": apexes, "hosts": hosts,
                    "sending_domains": spec.get("sending_domains") or [],
                    "sms_short_codes": spec.get("sms_short_codes") or [],
                    "login_pages": spec.get("login_pages") or []})
    return {"generated_at": ctx.now().isoformat(), "brands": out}


def render_official_domains(ctx: Context) -> dict[str, Path]:
    with ctx.session() as s:
        data = collect_official(ctx, s)
    out = ctx.state_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    tz = ZoneInfo(ctx.settings.service.timezone)
    template = _env().get_template("official-domains.html.j2")
    updated = _local(ctx.now(), tz)
    paths = {"html": out / "official-domains.html", "json": out / "official-domains.json"}
    paths["html"].write_text(template.render(**data, updated=updated), encoding="utf-8")
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    # One page per brand as well: each firm publishes its own list, never another client's.
    for b in data["brands"]:
        one = {**data, "brands": [b]}
        paths[f"html:{b['slug']}"] = out / f"official-domains-{b['slug']}.html"
        paths[f"html:{b['slug']}"].write_text(template.render(**one, updated=updated), encoding="utf-8")
        paths[f"json:{b['slug']}"] = out / f"official-domains-{b['slug']}.json"
        paths[f"json:{b['slug']}"].write_text(json.dumps(one, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths

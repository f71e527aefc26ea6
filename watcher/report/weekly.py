"""The weekly domain-inventory report for management (guideline IV.1(3)).

Owned domains with expiry and locks, open findings, mail-authentication posture, DMARC volume and who
fails alignment, the week's candidates by source and status, takedowns sent and closed with the
median time to down. HTML (inline SVG charts) and CSV (UTF-8 with BOM), kept in
``<state_dir>/reports/`` and mailed to ``report.recipients``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

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
from watcher.owned import dmarc, senders
from watcher.owned.registration import TRANSFER_LOCK, UPDATE_LOCK
from watcher.report.official_domains import render_official_domains
from watcher.report.render import SEV_COLOURS, bar_chart, csv_bytes, env, local_time

ASPECTS = ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt")
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]


def _posture(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """Per sending domain: each aspect ok/NG from the open findings; DMARC policy from the last run."""
    open_ma: dict[tuple[str, str], Finding] = {(f.kind, f.subject): f for f in session.exec(
        select(Finding).where(Finding.status == FindingStatus.OPEN, col(Finding.kind).in_(ASPECTS)))}
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
            "registrar": d.registrar, "expires": local_time(d.expires_at, tz), "days_left": days,
            "expiring": days is not None and days <= warn,
            "transfer_lock": TRANSFER_LOCK in d.statuses if d.statuses else None,
            "update_lock": UPDATE_LOCK in d.statuses if d.statuses else None,
            "dnssec": d.dnssec, "checked": local_time(d.last_checked_at, tz, "%Y-%m-%d %H:%M"),
        })
    findings = list(session.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)))
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.opened_at))
    opened_week = [f for f in session.exec(select(Finding).where(Finding.opened_at >= start))]
    resolved_week = [f for f in session.exec(select(Finding).where(col(Finding.resolved_at) >= start))]
    by_sev = Counter(f.severity.value for f in findings)
    cands = list(session.exec(select(Candidate).where(Candidate.first_seen_at >= start)))
    by_source = Counter(c.source.value for c in cands)
    by_status = Counter(c.status.value for c in cands)
    sent = list(session.exec(select(TakedownRequest).where(col(TakedownRequest.sent_at) >= start)))
    closed = list(session.exec(select(TakedownRequest).where(col(TakedownRequest.closed_at) >= start)))
    ttd = [r.time_to_down_seconds for r in closed if r.time_to_down_seconds is not None]
    if not ttd:
        downs = session.exec(select(Candidate).where(col(Candidate.down_at) >= start))
        ttd = [(c.down_at - c.confirmed_at).total_seconds() for c in downs if c.down_at and c.confirmed_at]
    median_h = round(statistics.median(ttd) / 3600, 1) if ttd else None
    volume = dmarc.volume(session, start)
    failing = dmarc.failing_senders(session, start)[:10]
    ready = [{"ja": r.as_dict("ja"), "en": r.as_dict("en")} for r in senders.ready_for_reject(ctx, session, now)]
    return {
        "now": now, "generated": local_time(now, tz, "%Y-%m-%d %H:%M %Z"), "period": f"{local_time(start, tz)} – {local_time(now, tz)}",
        "date": local_time(now, tz), "domains": domains, "findings": findings, "by_severity": by_sev,
        "opened_week": len(opened_week), "resolved_week": len(resolved_week),
        "posture": _posture(session, ctx), "dmarc_volume": volume, "failing_senders": failing, "ready": ready,
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
    for r in data.get("ready", []):
        share = r["en"]["share"]
        summary.append([f"dmarc_{r['en']['domain']}_ready_share", "" if share is None else share])
        summary.append([f"dmarc_{r['en']['domain']}_ready_for_reject", "yes" if r["en"]["ready"] else "no"])
    return {"domains": csv_bytes(data["domains"]), "findings": csv_bytes(findings), "summary": csv_bytes(summary, ["metric", "value"])}


def render_weekly(ctx: Context, now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """Render the weekly report into <state_dir>/reports/; returns (data, {kind: path})."""
    now = now or ctx.now()
    with ctx.session() as s:
        data = collect_weekly(ctx, s, now)
        page = env().get_template("weekly.html.j2").render(**data)
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
    for r in data.get("ready", []):
        lines.append(f"{r['ja']['domain']}: {r['ja']['verdict']} / {r['en']['verdict']}")
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



"""The weekly report for management (guideline IV.1(3)), sent once per week at report.weekday/time.

The first page is for management, in Japanese with English below: what happened (sites found,
confirmed, taken down — counted per site — with median and 90th-percentile hours to down and to
blocklisted), what changed since last week (arrows and 8-week sparklines) and what needs a decision.
The pages after it are for the team: takedowns by site, mail-authentication posture, DMARC volume
and who fails alignment, open findings, owned domains with expiry and locks (known-yes / known-no /
unknown). HTML (inline SVG), PDF (WeasyPrint) and CSV (UTF-8 with BOM), kept in
``<state_dir>/reports/`` and mailed to ``report.recipients``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from watcher.clients.smtp import MailError
from watcher.context import Context
from watcher.core.models import (
    MOST_SEVERE_FIRST,
    Brand,
    Candidate,
    Event,
    Finding,
    FindingStatus,
    JobState,
    OwnedDomain,
)
from watcher.core.texts import LANGS, render_stored, t
from watcher.owned import dmarc
from watcher.owned.registration import TRANSFER_LOCK, UPDATE_LOCK
from watcher.report import figures, pdf, period
from watcher.report.render import SEV_COLOURS, bar_chart, csv_bytes, env, local_time, sparkline

log = logging.getLogger("omamori.report")

ASPECTS = ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt")


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


def lock_state(d: OwnedDomain, status: str) -> str:
    """yes / no / unknown: known-yes and known-no only from a registration that reports locks.

    Unknown when the domain has not been looked up yet, when the lookup failed, and when the
    registry's WHOIS publishes no EPP statuses at all (JPRS): a missing word there proves nothing."""
    reg = d.registration or {}
    source = str(reg.get("source") or "")
    if not source or reg.get("error") or reg.get("exists") is False:
        return "unknown"
    statuses = {s.lower() for s in (d.statuses or [])}
    if "whois" in source and not any("prohibited" in s for s in statuses):
        return "unknown"
    return "yes" if status in statuses else "no"


def _arrow(this: float | None, last: float | None) -> str:
    if this is None or last is None or this == last:
        return "→"
    return "↑" if this > last else "↓"


# Whether a rise of a figure is good news (green) or bad (red); None: neither.
GOOD_WHEN_UP = {"new_sites": False, "confirmed_sites": None, "down_sites": True, "open_sites": False,
                "median_ttd": False, "severe_findings": False}


def trend_rows(weeks: list[figures.Week]) -> list[dict[str, Any]]:
    rows = []
    for metric, get in (("new_sites", lambda w: w.new_sites), ("confirmed_sites", lambda w: w.confirmed_sites),
                        ("down_sites", lambda w: w.down_sites), ("open_sites", lambda w: w.open_sites),
                        ("median_ttd", lambda w: w.median_ttd), ("severe_findings", lambda w: w.severe_findings)):
        values = [get(w) for w in weeks]
        this, last = values[-1], values[-2] if len(values) > 1 else None
        arrow = _arrow(this, last)
        good = GOOD_WHEN_UP[metric]
        tone = "flat" if arrow == "→" or good is None else ("good" if (arrow == "↑") == good else "bad")
        rows.append({"metric": metric, "this": this, "last": last, "arrow": arrow, "tone": tone,
                     "values": values, "spark": sparkline(values)})
    return rows


def collect_weekly(ctx: Context, session: Session, now: datetime, *, start: datetime | None = None,
                   end: datetime | None = None) -> dict[str, Any]:
    """Everything the weekly report shows. The period is [start, end) (default: the 7 days to ``now``);
    the state of things (open findings, decisions, locks) is as of ``now``."""
    tz = ZoneInfo(ctx.settings.service.timezone)
    end = end or now
    start = start or end - timedelta(days=7)
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
            "transfer_lock": lock_state(d, TRANSFER_LOCK) if d.is_apex else "",
            "update_lock": lock_state(d, UPDATE_LOCK) if d.is_apex else "",
            "dnssec": d.dnssec, "checked": local_time(d.last_checked_at, tz, "%Y-%m-%d %H:%M"),
        })
    findings = list(session.exec(select(Finding).where(Finding.status == FindingStatus.OPEN)))
    findings.sort(key=lambda f: (MOST_SEVERE_FIRST.index(f.severity), f.opened_at))
    by_sev = Counter(f.severity.value for f in findings)
    cands = list(session.exec(select(Candidate).where(Candidate.first_seen_at >= start,
                                                      Candidate.first_seen_at < end)))
    by_source = Counter(c.source.value for c in cands)
    by_status = Counter(c.status.value for c in cands)
    weeks = figures.trend(session, end)
    this = weeks[-1]
    sites = figures.site_rows(session, start, end)
    decide = figures.decisions(session, high_score=ctx.settings.alerts.high_score)
    posture = _posture(session, ctx)
    not_reject = sorted({p["domain"] for p in posture if p["policy"] != "reject"})
    if not_reject:
        decide.append({"rank": 5, "key": "report.decide.reject", "params": {"domains": ", ".join(not_reject)}})
    volume = dmarc.volume(session, start)
    senders = dmarc.failing_senders(session, start)[:10]
    alerts_sent = len(list(session.exec(select(Event.id).where(Event.action == "alert.sent", Event.at >= start,
                                                               Event.at < end))))
    return {
        "now": now, "generated": local_time(now, tz, "%Y-%m-%d %H:%M %Z"),
        "period": f"{local_time(start, tz)} – {local_time(end - timedelta(seconds=1), tz)}",
        "start": local_time(start, tz), "end": local_time(end - timedelta(seconds=1), tz),
        "date": local_time(end - timedelta(seconds=1), tz), "domains": domains, "findings": findings,
        "by_severity": by_sev, "opened_week": this.findings_opened, "resolved_week": this.findings_resolved,
        "posture": posture, "dmarc_volume": volume, "failing_senders": senders,
        "candidates": len(cands), "by_source": by_source, "by_status": by_status,
        "week": this, "weeks": weeks, "trend": trend_rows(weeks), "sites": sites,
        "decisions": decide[:8], "more_decisions": max(0, len(decide) - 8),
        "alerts_sent": alerts_sent, "reject_ready": reject_readiness(session, ctx),
        # per site, not per e-mail: a site with three recipients is one takedown
        "sent": sum(1 for r in sites if r["requests"]), "closed": this.down_sites,
        "median_hours": this.median_ttd, "p90_hours": this.p90_ttd, "ttd_count": len(this.ttd_hours),
        "expiring": [d for d in domains if d["expiring"] and not d["lapsed"]],
        "official_list_url": ctx.settings.report.official_list_url,
        "charts": {
            "severity": bar_chart([(s.value, by_sev.get(s.value, 0)) for s in MOST_SEVERE_FIRST], colours=SEV_COLOURS),
            "sources": bar_chart(sorted(by_source.items(), key=lambda kv: -kv[1])),
            "status": bar_chart(sorted(by_status.items(), key=lambda kv: -kv[1]), colour="#2e7d32"),
            "dmarc": bar_chart([(f"{d} ✓", v["aligned"]) for d, v in sorted(volume.items())]
                               + [(f"{d} ✗", v["failing"]) for d, v in sorted(volume.items())], colour="#37474f"),
        },
    }


def reject_readiness(session: Session, ctx: Context) -> dict[str, Any] | None:
    """How many sending domains are ready for DMARC p=reject ({"ready", "total", "domains"}).

    The mail-authentication side computes readiness from the DMARC reports (``owned.dmarc``); until it
    offers ``reject_readiness`` this says None and the report leaves the line out."""
    fn: Any = getattr(dmarc, "reject_readiness", None)
    if fn is None:
        return None
    try:
        result = fn(session, ctx)
    except Exception:  # a figure that cannot be computed is left out, never a report that is not sent
        return None
    return result if isinstance(result, dict) else None


def weekly_csvs(data: dict[str, Any]) -> dict[str, bytes]:
    findings = [{"severity": f.severity.value, "kind": f.kind, "subject": f.subject, "title": f.title,
                 "opened_at": f.opened_at.isoformat(), "times_opened": f.times_opened} for f in data["findings"]]
    w: figures.Week = data["week"]
    summary: list[list[Any]] = [["period", data["period"]], ["owned_names", len(data["domains"])],
                                ["open_findings", len(data["findings"])], ["findings_opened_week", data["opened_week"]],
                                ["findings_resolved_week", data["resolved_week"]], ["candidates_week", data["candidates"]]]
    summary += [[f"candidates_source_{k}", v] for k, v in sorted(data["by_source"].items())]
    summary += [[f"candidates_status_{k}", v] for k, v in sorted(data["by_status"].items())]
    summary += [[f"sites_{k}", v] for k, v in w.as_dict().items() if k not in ("start", "end")]
    summary += [["takedown_sites_requested", data["sent"]], ["takedown_sites_down", data["closed"]],
                ["median_hours_to_down", _blank(w.median_ttd)], ["p90_hours_to_down", _blank(w.p90_ttd)],
                ["median_hours_to_blocklisted", _blank(w.median_ttb)], ["p90_hours_to_blocklisted", _blank(w.p90_ttb)],
                ["alerts_sent", data["alerts_sent"]]]
    for p in data["posture"]:
        summary += [[f"mailauth_{p['domain']}_{a}", {True: "ok", False: "NG", None: "unknown"}[p[a]["ok"]]]
                    for a in ASPECTS]
        summary.append([f"mailauth_{p['domain']}_dmarc_policy", p["policy"]])
    trend = [[r["metric"], *["" if v is None else v for v in r["values"]]] for r in data["trend"]]
    weeks_header = ["metric", *[local_time(wk.end - timedelta(seconds=1), ZoneInfo("UTC")) for wk in data["weeks"]]]
    sites = [{**r, "ttd_hours": _blank(r["ttd_hours"]), "ttb_hours": _blank(r["ttb_hours"])} for r in data["sites"]]
    return {"domains": csv_bytes(data["domains"]), "findings": csv_bytes(findings),
            "summary": csv_bytes(summary, ["metric", "value"]), "sites": csv_bytes(sites),
            "trend": csv_bytes(trend, weeks_header)}


def _blank(v: Any) -> Any:
    return "" if v is None else v


def render_weekly(ctx: Context, now: datetime | None = None, *, start: datetime | None = None,
                  end: datetime | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """Render the weekly report into <state_dir>/reports/ (HTML, PDF, CSV); returns (data, {kind: path})."""
    now = now or ctx.now()
    with ctx.session() as s:
        data = collect_weekly(ctx, s, now, start=start, end=end)
    page = env().get_template("weekly.html.j2").render(
        **data, happened_lines={lang: happened(data, lang) for lang in LANGS},
        decision_lines_={lang: decision_lines(data, lang) for lang in LANGS})
    out = ctx.state_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"weekly-{data['date']}"
    paths = {"html": out / f"{stem}.html"}
    paths["html"].write_text(page, encoding="utf-8")
    for name, content in weekly_csvs(data).items():
        paths[name] = out / f"{stem}-{name}.csv"
        paths[name].write_bytes(content)
    if ctx.settings.report.pdf:
        try:
            paths["pdf"] = pdf.write_pdf(page, out / f"{stem}.pdf")
        except pdf.PdfError as e:  # the HTML and CSV still go out; the PDF's absence is said in the log
            log.warning("weekly report PDF not written: %s", e)
    return data, paths


def weekly_text(data: dict[str, Any]) -> str:
    """The mail's plain-text part: the first page, Japanese then English."""
    blocks = []
    for lang in LANGS:
        lines = [t("report.title", lang), t("report.period", lang, start=data["start"], end=data["end"],
                                            generated=data["generated"]), "",
                 "■ " + t("report.h.happened", lang)]
        lines += [f"・{line}" for line in happened(data, lang)]
        lines += ["", "■ " + t("report.h.changed", lang)]
        for r in data["trend"]:
            this = "-" if r["this"] is None else r["this"]
            last = "-" if r["last"] is None else r["last"]
            lines.append(f"・{t('report.metric.' + r['metric'], lang)}: {this} {r['arrow']} ({last})")
        lines += ["", "■ " + t("report.h.decide", lang)]
        lines += [f"・{line}" for line in decision_lines(data, lang)] or [f"・{t('report.decide.none', lang)}"]
        blocks.append("\n".join(lines))
    for d in data["expiring"]:
        blocks.append(f"! {d['name']}: 有効期限 / expires {d['expires']} ({d['days_left']} days)")
    return "\n\n".join([*blocks, "詳細は添付のPDF・HTML・CSVをご覧ください。 / Details in the attached PDF, HTML and CSV files."])


def _h(v: float | None, lang: str) -> Any:
    return t("report.hours_na", lang) if v is None else v


def happened(data: dict[str, Any], lang: str) -> list[str]:
    w: figures.Week = data["week"]
    lines = [t("report.happened.sites", lang, new=w.new_sites, confirmed=w.confirmed_sites)]
    lines.append(t("report.happened.down", lang, down=w.down_sites, median=_h(w.median_ttd, lang),
                   p90=_h(w.p90_ttd, lang)) if w.down_sites else t("report.happened.down_none", lang))
    lines.append(t("report.happened.blocklisted", lang, n=len(w.ttb_hours), median=_h(w.median_ttb, lang),
                   p90=_h(w.p90_ttb, lang)) if w.ttb_hours else t("report.happened.blocklisted_none", lang))
    lines.append(t("report.happened.open_sites", lang, n=w.open_sites))
    lines.append(t("report.happened.findings", lang, opened=w.findings_opened, resolved=w.findings_resolved,
                   open=len(data["findings"]), severe=data["by_severity"].get("critical", 0)
                   + data["by_severity"].get("high", 0)))
    if data.get("reject_ready"):
        rr = data["reject_ready"]
        lines.append(t("report.happened.reject", lang, ready=rr.get("ready", 0), total=rr.get("total", 0)))
    lines.append(t("report.happened.alerts", lang, n=data["alerts_sent"]))
    return lines


def decision_lines(data: dict[str, Any], lang: str) -> list[str]:
    lines = [render_stored({"key": d["key"], "params": d["params"]}, lang, d["key"]) for d in data["decisions"]]
    if data["more_decisions"]:
        lines.append(t("report.decide.more", lang, n=data["more_decisions"]))
    return lines


def mail_weekly(ctx: Context, data: dict[str, Any], paths: dict[str, Path]) -> str | None:
    recipients = ctx.settings.report.recipients
    if not recipients:
        return None
    msg = EmailMessage()
    msg["Subject"] = f"【omamori】{t('report.title', 'ja')} / {t('report.title', 'en')} {data['date']}"
    msg["To"] = ", ".join(recipients)
    msg.set_content(weekly_text(data))
    msg.add_alternative(paths["html"].read_text(encoding="utf-8"), subtype="html")
    if "pdf" in paths:
        msg.add_attachment(paths["pdf"].read_bytes(), maintype="application", subtype="pdf",
                           filename=paths["pdf"].name)
    msg.add_attachment(paths["html"].read_bytes(), maintype="text", subtype="html", filename=paths["html"].name)
    for kind in ("summary", "sites", "trend", "domains", "findings"):
        msg.add_attachment(paths[kind].read_bytes(), maintype="text", subtype="csv", filename=paths[kind].name)
    return ctx.mailer.send(msg)


def weekly(ctx: Context) -> dict[str, Any]:
    """The weekly_report job: when this week's slot (report.weekday/time) has no report sent yet, render
    it, keep it and mail it — once, whatever the restarts (``report.period``)."""
    now = ctx.now()
    slot = period.weekly_slot(ctx, now)
    c = period.claim(ctx, "weekly", slot, now)
    if c is None:
        return {"due": False, "period": slot.isoformat(timespec="minutes")}
    try:
        data, paths = render_weekly(ctx, now, start=c.start, end=c.end)
        message_id = mail_weekly(ctx, data, paths)
    except (MailError, OSError) as e:
        period.finish(ctx, c, ok=False, now=now, error=f"{type(e).__name__}: {e}")
        raise
    period.finish(ctx, c, ok=True, now=ctx.now(), message_id=message_id or "",
                  files={k: str(p) for k, p in paths.items()}, figures=data["week"].as_dict())
    return {"due": True, "period": c.period, "late": c.late, "html": str(paths["html"]),
            "pdf": str(paths.get("pdf", "")), "open_findings": len(data["findings"]),
            "candidates": data["candidates"], "sites_confirmed": data["week"].confirmed_sites,
            "sites_down": data["week"].down_sites,
            "mailed_to": len(ctx.settings.report.recipients) if message_id else 0, "message_id": message_id or ""}

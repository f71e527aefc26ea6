"""The alerts job: what the rules see, compared with what was said, routed to the channels, sent.

1. **De-duplication.** Each subject of each rule has an ``AlertState`` (``rule:subject`` -> state).
   An alert is raised when a subject appears, when its state changes (a finding reopened or its
   severity raised, a takedown gone from stalled to failed), and as a reminder every
   ``alerts.reminder_hours`` while it stays the same; when it disappears the state closes (and, with
   ``alerts.notify_resolved``, a "resolved" alert goes out).
2. **Routing.** ``alerts.rules`` (empty: the day-one rules, every channel) choose the channels and
   may override the severity; a channel keeps what is at least its ``min_severity`` and of its brands.
3. **Timing.** An alert up to ``alerts.quiet_max_severity`` raised in ``alerts.quiet_hours`` waits for
   the end of them; a digest channel gets one message for everything due, at most every
   ``alerts.digest_minutes``; a failed send is retried with backoff up to ``alerts.max_attempts``.
4. **Audit.** Every delivery sent or failed is an Event (``alert.sent`` / ``alert.failed``).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from watcher.alerts.channels import Outgoing, SendError, sender
from watcher.alerts.rules import RULES, Look, Signal, rank
from watcher.context import Context
from watcher.core.config import AlertChannelSettings, AlertRuleSettings
from watcher.core.events import record
from watcher.core.models import Alert, AlertDelivery, AlertState, AlertStatus, Brand, Severity
from watcher.core.texts import Text, render_stored, text

log = logging.getLogger("omamori.alerts")
ACTOR = "alerts"


# --- 1. what to say ------------------------------------------------------------------------------


def effective_rules(ctx: Context) -> list[AlertRuleSettings]:
    """The configured rules; every rule not named in the config keeps its day-one default."""
    configured = ctx.settings.alerts.rules
    named = {r.what for r in configured}
    defaults = [AlertRuleSettings.model_validate({"what": r.name}) for r in RULES if r.name not in named]
    return [*[r for r in configured if r.enabled], *defaults]


def evaluate(ctx: Context, session: Session) -> list[Signal]:
    look = Look(ctx, session)
    wanted = {r.what for r in effective_rules(ctx)}
    out: list[Signal] = []
    for r in RULES:
        if r.name in wanted:
            out.extend(r.find(look))
    return out


def raise_alerts(ctx: Context, session: Session, signals: list[Signal], now: datetime) -> list[Alert]:
    """Compare the signals with the AlertStates; new Alert rows for what changed or is due a reminder."""
    remind = timedelta(hours=ctx.settings.alerts.reminder_hours)
    states = {s.key: s for s in session.exec(select(AlertState))}
    seen: set[str] = set()
    raised: list[Alert] = []
    for sig in signals:
        if sig.key in seen:
            continue
        seen.add(sig.key)
        st = states.get(sig.key)
        kind = ""
        if st is None:
            st = AlertState(key=sig.key, rule=sig.rule, state=sig.state, first_alerted_at=now, last_alerted_at=now)
            kind = "new"
        elif not st.open or st.state != sig.state:
            st.state, st.open, st.closed_at, st.reminders, st.last_alerted_at = sig.state, True, None, 0, now
            kind = "new"
        elif now - st.last_alerted_at >= remind:
            st.last_alerted_at, st.reminders = now, st.reminders + 1
            kind = "reminder"
        session.add(st)
        if kind:
            raised.append(_alert(session, sig, kind, now))
    for key, st in states.items():
        if st.open and key not in seen:
            st.open, st.closed_at = False, now
            session.add(st)
            if ctx.settings.alerts.notify_resolved:
                raised.append(_resolved(session, st, now))
    return raised


def _alert(session: Session, sig: Signal, kind: str, now: datetime) -> Alert:
    a = Alert(key=sig.key, rule=sig.rule, kind=kind, severity=sig.severity, brand_id=sig.brand_id,
              object_type=sig.object_type, object_id=sig.object_id, title_text=sig.title.as_dict(),
              detail_text=sig.detail.as_dict() if sig.detail else {}, facts={**sig.facts, "state": sig.state},
              created_at=now)
    session.add(a)
    session.flush()
    return a


def _resolved(session: Session, st: AlertState, now: datetime) -> Alert:
    last = session.exec(select(Alert).where(Alert.key == st.key).order_by(col(Alert.id).desc())).first()
    title: Any = last.title_text if last else st.key
    a = Alert(key=st.key, rule=st.rule, kind="resolved", severity=Severity.INFO,
              brand_id=last.brand_id if last else None, object_type=last.object_type if last else "",
              object_id=last.object_id if last else None, title_text=text("alert.resolved", title=title).as_dict(),
              facts={"state": st.state}, created_at=now)
    session.add(a)
    session.flush()
    return a


# --- 2. where it goes ----------------------------------------------------------------------------


def _severity_for(ctx: Context, alert: Alert, brand_slug: str) -> tuple[Severity, list[str]]:
    """The alert's severity after rule overrides, and the channel names its rules route it to."""
    channels: list[str] = []
    severity = alert.severity
    matched = False
    for r in effective_rules(ctx):
        if r.what != alert.rule or (r.brands and brand_slug not in r.brands):
            continue
        matched = True
        if r.severity and alert.kind != "resolved":
            severity = Severity(r.severity)
        channels.extend(r.channels or [c.name for c in ctx.settings.alerts.channels])
    if not matched and alert.kind == "test":
        channels = [c.name for c in ctx.settings.alerts.channels]
    return severity, list(dict.fromkeys(channels))


def route(ctx: Context, session: Session, alert: Alert, now: datetime) -> list[AlertDelivery]:
    brand = session.get(Brand, alert.brand_id) if alert.brand_id is not None else None
    slug = brand.slug if brand else ""
    severity, names = _severity_for(ctx, alert, slug)
    alert.severity = severity
    session.add(alert)
    by_name = {c.name: c for c in ctx.settings.alerts.channels}
    out = []
    for name in names:
        ch = by_name.get(name)
        if ch is None:
            continue
        if rank(severity) < rank(ch.min_severity) and alert.kind != "test":
            continue
        if ch.brands and slug and slug not in ch.brands:
            continue
        d = AlertDelivery(alert_id=alert.id or 0, channel=name, not_before=_not_before(ctx, severity, now))
        session.add(d)
        out.append(d)
    return out


def quiet_until(ctx: Context, now: datetime) -> datetime | None:
    """The end of the quiet hours if ``now`` is inside them (local time), else None."""
    spec = ctx.settings.alerts.quiet_hours
    if not spec:
        return None
    tz = ZoneInfo(ctx.settings.service.timezone)
    start_s, _, end_s = spec.partition("-")
    start, end = (time(int(x[:2]), int(x[3:])) for x in (start_s, end_s))
    local = now.astimezone(tz)
    inside = (start <= local.time() < end) if start < end else (local.time() >= start or local.time() < end)
    if not inside:
        return None
    end_dt = datetime.combine(local.date(), end, tzinfo=tz)
    if end_dt <= local:
        end_dt += timedelta(days=1)
    return end_dt.astimezone(now.tzinfo)


def _not_before(ctx: Context, severity: Severity, now: datetime) -> datetime:
    if rank(severity) <= rank(ctx.settings.alerts.quiet_max_severity):
        return quiet_until(ctx, now) or now
    return now


# --- 3. sending ----------------------------------------------------------------------------------


def outgoing(ctx: Context, alert: Alert) -> Outgoing:
    title = {lang: render_stored(alert.title_text, lang, alert.key) for lang in ("ja", "en")}
    detail = {lang: render_stored(alert.detail_text, lang, "") for lang in ("ja", "en")}
    base = ctx.settings.alerts.dashboard_url.rstrip("/")
    link = ""
    if base and alert.object_type == "case" and alert.object_id is not None:
        link = f"{base}/?case={alert.object_id}"
    elif base:
        link = base + "/"
    return Outgoing(alert.id or 0, alert.rule, alert.kind, alert.severity.value, title, detail, alert.created_at,
                    link, dict(alert.facts))


def deliver_due(ctx: Context, now: datetime) -> dict[str, int]:
    counts = {"sent": 0, "failed": 0, "retrying": 0}
    channels = {c.name: c for c in ctx.settings.alerts.channels}
    with ctx.session() as s:
        due = list(s.exec(select(AlertDelivery).where(AlertDelivery.status == AlertStatus.PENDING,
                                                      col(AlertDelivery.not_before) <= now)
                          .order_by(col(AlertDelivery.id))))
        by_channel: dict[str, list[AlertDelivery]] = {}
        for d in due:
            by_channel.setdefault(d.channel, []).append(d)
        for name, deliveries in by_channel.items():
            ch = channels.get(name)
            if ch is None:  # the channel left the config: nothing can send these
                for d in deliveries:
                    _failed(s, d, f"no alerts channel {name!r} in the config", now, final=True)
                    counts["failed"] += 1
                continue
            batches = [deliveries] if ch.digest else [[d] for d in deliveries]
            if ch.digest and not _digest_due(s, ch, now, ctx.settings.alerts.digest_minutes):
                continue
            for batch in batches:
                _send(ctx, s, ch, batch, now, counts)
                s.commit()
    return counts


def _digest_due(s: Session, ch: AlertChannelSettings, now: datetime, minutes: float) -> bool:
    last = s.exec(select(AlertDelivery.sent_at).where(AlertDelivery.channel == ch.name,
                                                      AlertDelivery.status == AlertStatus.SENT)
                  .order_by(col(AlertDelivery.sent_at).desc())).first()
    return last is None or now - last >= timedelta(minutes=minutes)


def _send(ctx: Context, s: Session, ch: AlertChannelSettings, batch: list[AlertDelivery], now: datetime,
          counts: dict[str, int]) -> None:
    alerts = [s.get(Alert, d.alert_id) for d in batch]
    out = [outgoing(ctx, a) for a in alerts if a is not None]
    try:
        receipt = sender(ch.type)(ctx, ch, out)
    except (SendError, OSError, ValueError) as e:
        error = str(e) if isinstance(e, SendError) else f"{type(e).__name__}: {e}"
        log.warning("alert to %s failed: %s", ch.name, error)
        for d in batch:
            d.attempts += 1
            final = d.attempts >= ctx.settings.alerts.max_attempts
            _failed(s, d, error, now, final=final)
            counts["failed" if final else "retrying"] += 1
        return
    for d in batch:
        d.status, d.sent_at, d.receipt, d.error = AlertStatus.SENT, now, receipt[:500], ""
        d.attempts += 1
        s.add(d)
        record(s, ACTOR, "alert.sent", ("alert", d.alert_id),
               {"channel": ch.name, "type": ch.type, "receipt": receipt[:500], "digest": len(batch) > 1}, at=now)
        counts["sent"] += 1


def _failed(s: Session, d: AlertDelivery, error: str, now: datetime, *, final: bool) -> None:
    d.error = error[:1000]
    if final:
        d.status = AlertStatus.FAILED
    else:  # 2, 4, 8... minutes, at most an hour
        d.not_before = now + timedelta(minutes=min(2 ** max(d.attempts, 1), 60))
    s.add(d)
    record(s, ACTOR, "alert.failed", ("alert", d.alert_id),
           {"channel": d.channel, "error": error[:1000], "attempt": d.attempts, "final": final}, at=now)


# --- the job -------------------------------------------------------------------------------------


def run(ctx: Context) -> dict[str, Any]:
    """The ``alerts`` job: evaluate every rule, raise what changed, send what is due."""
    if not ctx.settings.alerts.enabled:
        return {"enabled": False}
    now = ctx.now()
    with ctx.session() as s:
        signals = evaluate(ctx, s)
        raised = raise_alerts(ctx, s, signals, now)
        routed = sum(len(route(ctx, s, a, now)) for a in raised)
        s.commit()
    counts = deliver_due(ctx, now)
    by_rule: dict[str, int] = {}
    for a in raised:
        by_rule[a.rule] = by_rule.get(a.rule, 0) + 1
    return {"open": len(signals), "raised": len(raised), "deliveries": routed, **counts,
            **{f"raised.{k}": v for k, v in sorted(by_rule.items())}}


def send_test(ctx: Context, channel: str | None = None) -> dict[str, Any]:
    """A test alert to one channel (or every channel) now: proves the route before anything happens."""
    now = ctx.now()
    names = [c.name for c in ctx.settings.alerts.channels if channel in (None, c.name)]
    if not names:
        raise KeyError(f"no alerts channel {channel!r}; channels are: "
                       f"{', '.join(c.name for c in ctx.settings.alerts.channels) or 'none configured'}")
    with ctx.session() as s:
        for name in names:
            title: Text = text("alert.test", channel=name)
            a = Alert(key=f"test:{name}:{now.isoformat()}", rule="test", kind="test", severity=Severity.INFO,
                      title_text=title.as_dict(), created_at=now)
            s.add(a)
            s.flush()
            s.add(AlertDelivery(alert_id=a.id or 0, channel=name, not_before=now))
        s.commit()
    return deliver_due(ctx, now)

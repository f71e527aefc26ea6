"""Alerts reach the team's tools (the lab's webhook receiver, mailbox and syslog collector) once per
state change, with reminders, digests, quiet hours and an Event for every send or failure."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from tests.report.seed import seed_week
from watcher.alerts import engine
from watcher.core.findings import open_finding
from watcher.core.models import AlertDelivery, AlertStatus, Event, FindingKind, Severity
from watcher.core.texts import text

NOON = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 12:00 JST, outside the quiet hours


def channels(webhooks, syslog, *, digest: bool = False) -> list[dict]:
    return [{"name": "team-mail", "type": "email", "to": ["soc@hoshizora-sec.co.jp"], "digest": digest},
            {"name": "slack", "type": "slack", "url": webhooks.url_for("slack")},
            {"name": "teams", "type": "teams", "url": webhooks.url_for("teams")},
            {"name": "siem-hook", "type": "webhook", "url": webhooks.url_for("json"), "secret": "s3cret"},
            {"name": "siem", "type": "syslog", "host": syslog.host, "port": syslog.port, "protocol": "tcp"}]


def _findings(ctx) -> None:
    with ctx.session() as s:
        open_finding(s, FindingKind.TAKEOVER_CNAME, "campaign.hoshizora-sec.co.jp",
                     text("self.job_failing", job="x", n=1), severity=Severity.CRITICAL, now=ctx.now())
        open_finding(s, FindingKind.DNSSEC, "hzsec.com", "no DNSSEC", severity=Severity.LOW, now=ctx.now())
        open_finding(s, FindingKind.FEED_SILENT, "certstream", text("self.feed_silent_start", feed="certstream"),
                     severity=Severity.HIGH, now=ctx.now())
        s.commit()


def test_each_default_rule_alerts_every_channel_once(make_ctx, lab_smtp, lab_webhooks, lab_syslog, clock) -> None:
    clock.set(NOON)
    ctx = make_ctx(smtp=lab_smtp, alerts={"channels": channels(lab_webhooks, lab_syslog)})
    seed_week(ctx)
    _findings(ctx)
    first = engine.run(ctx)
    rules = {k.removeprefix("raised."): v for k, v in first.items() if k.startswith("raised.")}
    # D confirmed; E scores 80; D's draft waits; D's request failed; the critical takeover; the silent feed.
    assert rules == {"candidate_confirmed": 1, "candidate_high_score": 1, "approval_waiting": 1,
                     "takedown_stalled": 1, "owned_finding": 1, "self_finding": 1}, first
    assert first["sent"] == 6 * 5 and first["failed"] == 0
    for _ in range(3):  # nothing changed: nothing more is said
        clock.advance(minutes=5)
        assert engine.run(ctx)["raised"] == 0
    assert len(lab_smtp.messages()) == 6
    assert {r.kind for r in lab_webhooks.received()} == {"slack", "teams", "json"}
    assert len(lab_webhooks.received("slack")) == len(lab_webhooks.received("teams")) == 6
    assert len(lab_syslog.messages()) == 6
    slack = next(r.json() for r in lab_webhooks.received("slack") if "login-check" in r.body.decode())
    assert "hoshizora-sec[.]co[.]jp[.]login-check[.]cn" in slack["text"]  # defanged: no clickable phishing link
    assert "偽サイトを確認しました" in slack["text"] or any("偽サイト" in str(b) for b in slack["blocks"])
    hook = lab_webhooks.received("json")[0]
    import hashlib
    import hmac
    assert hook.headers["X-Omamori-Signature"] == "sha256=" + hmac.new(b"s3cret", hook.body, hashlib.sha256).hexdigest()
    syslog = lab_syslog.messages()[0]
    assert syslog.app == "omamori" and syslog.json()["title"]["en"]
    with ctx.session() as s:
        assert len(list(s.exec(select(Event).where(Event.action == "alert.sent")))) == 30

    clock.advance(hours=ctx.settings.alerts.reminder_hours)
    again = engine.run(ctx)
    assert again["raised"] == 6  # still open a day later: one reminder each


def test_a_state_change_is_a_new_alert_and_a_failure_is_retried(make_ctx, lab_webhooks, lab_syslog, clock) -> None:
    clock.set(NOON)
    ctx = make_ctx(alerts={"channels": [{"name": "slack", "type": "slack", "url": lab_webhooks.url_for("slack")}]})
    with ctx.session() as s:
        open_finding(s, FindingKind.EXPIRY, "hoshizora.jp", "expires in 30 days", severity=Severity.HIGH, now=NOON)
        s.commit()
    lab_webhooks.fail_next(1, 503)
    first = engine.run(ctx)
    assert first["raised"] == 1 and first["retrying"] == 1 and not lab_webhooks.received()
    clock.advance(minutes=3)
    assert engine.run(ctx)["sent"] == 1
    with ctx.session() as s:
        open_finding(s, FindingKind.EXPIRY, "hoshizora.jp", "expires in 7 days", severity=Severity.CRITICAL,
                     now=ctx.now())
        s.commit()
        actions = [e.action for e in s.exec(select(Event).where(Event.action.startswith("alert.")))]
    assert actions == ["alert.failed", "alert.sent"]
    assert engine.run(ctx)["raised"] == 1  # severity raised: a new state
    assert len(lab_webhooks.received("slack")) == 2


def test_quiet_hours_hold_low_alerts_and_a_digest_gathers(make_ctx, lab_smtp, lab_webhooks, clock) -> None:
    night = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 23:00 JST
    clock.set(night)
    ctx = make_ctx(smtp=lab_smtp, alerts={
        "channels": [{"name": "mail", "type": "email", "to": ["soc@hoshizora-sec.co.jp"], "digest": True},
                     {"name": "slack", "type": "slack", "url": lab_webhooks.url_for("slack")}],
        "rules": [{"what": "owned_finding", "severity": "low"}]})
    with ctx.session() as s:
        for name in ("a.hoshizora-sec.co.jp", "b.hoshizora-sec.co.jp"):
            open_finding(s, FindingKind.TAKEOVER_CNAME, name, f"{name} dangles", severity=Severity.HIGH, now=night)
        s.commit()
    assert engine.run(ctx)["sent"] == 0  # low (by the rule's override) at 23:00 JST: held
    with ctx.session() as s:
        held = list(s.exec(select(AlertDelivery)))
    assert len(held) == 4 and all(d.status == AlertStatus.PENDING for d in held)
    assert held[0].not_before == datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 07:00 JST
    clock.set(datetime(2026, 11, 25, 22, 1, tzinfo=UTC))
    assert engine.run(ctx)["sent"] == 4
    assert len(lab_smtp.messages()) == 1 and "(2" in lab_smtp.messages()[0].subject  # one digest of two
    assert len(lab_webhooks.received("slack")) == 2
    assert engine.quiet_until(ctx, datetime(2026, 11, 25, 3, 0, tzinfo=UTC)) is None
    assert engine.quiet_until(ctx, night) - night == timedelta(hours=8)


def test_a_siem_hears_over_udp_syslog_and_reads_json_lines(make_ctx, lab_syslog, clock, tmp_path) -> None:
    clock.set(NOON)
    lines = tmp_path / "siem" / "omamori-alerts.jsonl"
    ctx = make_ctx(alerts={"channels": [
        {"name": "siem-udp", "type": "syslog", "host": lab_syslog.host, "port": lab_syslog.port, "protocol": "udp"},
        {"name": "siem-file", "type": "jsonl", "path": str(lines)}]})
    _findings(ctx)
    result = engine.run(ctx)
    assert result["sent"] == 2 * result["raised"] and result["failed"] == 0
    for _ in range(100):  # UDP: the collector's thread may not have read the datagrams yet
        if len(lab_syslog.messages()) == result["raised"]:
            break
        time.sleep(0.05)
    heard = lab_syslog.messages()
    assert len(heard) == result["raised"] and {m.transport for m in heard} == {"udp"}
    assert all(m.app == "omamori" and m.json()["severity"] for m in heard)
    critical = next(m for m in heard if m.json()["severity"] == "critical")
    assert critical.pri == 16 * 8 + 2  # local0.crit
    rows = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == result["raised"] and all(r["source"] == "omamori" for r in rows)
    assert {r["title"]["ja"] for r in rows} and all(r["title"]["en"] for r in rows)

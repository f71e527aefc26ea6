"""Where alerts go, each in the form its receiver documents.

- ``email``: one message through the SMTP client (S/MIME-signed when the mailer signs).
- ``slack``: a Slack incoming webhook (``{"text", "blocks"}``; ``text`` is the notification fallback).
- ``teams``: a Microsoft Teams incoming webhook / Workflows webhook: a ``message`` with one Adaptive
  Card attachment (``application/vnd.microsoft.card.adaptive``, schema 1.4).
- ``webhook``: a generic JSON body (``{"source": "omamori", "alerts": [...]}``), signed with
  HMAC-SHA256 in ``X-Omamori-Signature: sha256=<hex>`` when the channel has a secret.
- ``syslog``: RFC 5424 lines with the alert as JSON in the message (UDP or TCP, octet-counted), for a SIEM.
- ``jsonl``: one JSON object per line appended to a file a SIEM agent tails.

A sender takes the channel's settings and the alerts (one, or a digest) and returns a receipt (the
Message-ID, the HTTP status) or raises ``SendError``. Senders never see the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from watcher.clients.http import make_client
from watcher.clients.smtp import MailError
from watcher.context import Context
from watcher.core.config import AlertChannelSettings
from watcher.core.texts import t

SEVERITY_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825", "low": "#558b2f", "info": "#607d8b"}
# Teams Adaptive Card text colours by severity (the card schema's named colours).
TEAMS_COLOURS = {"critical": "Attention", "high": "Attention", "medium": "Warning", "low": "Good", "info": "Default"}
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}  # RFC 5424 numeric severities


class SendError(Exception):
    """The channel did not take the alert (the message says why, for the Event log)."""


@dataclass(frozen=True)
class Outgoing:
    """One alert as a channel needs it: both languages already rendered."""

    id: int
    rule: str
    kind: str
    severity: str
    title: dict[str, str]  # lang -> sentence
    detail: dict[str, str]
    created_at: datetime
    link: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "kind": self.kind, "severity": self.severity,
                "title": self.title, "detail": self.detail, "created_at": self.created_at.isoformat(),
                "link": self.link, "facts": self.facts}


def langs(channel: AlertChannelSettings) -> tuple[str, ...]:
    return ("ja", "en") if channel.language == "both" else (channel.language,)


def headline(alerts: list[Outgoing], channel: AlertChannelSettings) -> str:
    if len(alerts) == 1:
        a = alerts[0]
        return f"[{a.severity.upper()}] " + " / ".join(a.title[lang] for lang in langs(channel))
    return " / ".join(t("alert.digest_title", lang, n=len(alerts)) for lang in langs(channel))


def plain(alerts: list[Outgoing], channel: AlertChannelSettings) -> str:
    """The alerts as plain text: Japanese first, English below (or one language)."""
    blocks = []
    for lang in langs(channel):
        lines = []
        for a in alerts:
            kind = t(f"alert.kind.{a.kind}", lang)
            lines.append(f"■ [{a.severity.upper()}] {a.title[lang]} ({kind})")
            if a.detail.get(lang):
                lines.append(f"  {a.detail[lang]}")
            if a.link:
                lines.append(f"  {t('alert.open_dashboard', lang)}: {a.link}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# --- senders -------------------------------------------------------------------------------------


def send_email(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    if not channel.to:
        raise SendError(f"alerts channel {channel.name}: `to` is empty")
    msg = EmailMessage()
    msg["Subject"] = f"【omamori】{headline(alerts, channel)}"[:300]
    msg["To"] = ", ".join(channel.to)
    msg["X-Omamori-Alerts"] = ",".join(str(a.id) for a in alerts)
    msg.set_content(plain(alerts, channel) + "\n\n-- \nomamori\n")
    try:
        return ctx.mailer.send(msg)
    except MailError as e:
        raise SendError(f"{type(e).__name__}: {e}") from None


def _mrkdwn(s: str) -> str:
    # Slack's three control characters; nothing else is escaped (its documented rule).
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alerts: list[Outgoing], channel: AlertChannelSettings) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text",
                                                                "text": headline(alerts, channel)[:150]}}]
    for a in alerts[:20]:  # Slack accepts 50 blocks; a digest longer than that is summarised by its title
        body = "\n".join(f"*{_mrkdwn(a.title[lang])}*\n{_mrkdwn(a.detail.get(lang, ''))}" for lang in langs(channel))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
        ctx_line = f"{a.severity.upper()} · {t(f'alert.kind.{a.kind}', 'en')} · {a.rule}"
        if a.link:
            ctx_line += f" · <{a.link}|{t('alert.open_dashboard', 'en')}>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ctx_line}]})
    return {"text": headline(alerts, channel), "blocks": blocks}


def teams_payload(alerts: list[Outgoing], channel: AlertChannelSettings) -> dict[str, Any]:
    body: list[dict[str, Any]] = [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
                                   "text": headline(alerts, channel)}]
    for a in alerts[:20]:
        for lang in langs(channel):
            body.append({"type": "TextBlock", "weight": "Bolder", "wrap": True, "color": TEAMS_COLOURS[a.severity],
                         "text": a.title[lang]})
            if a.detail.get(lang):
                body.append({"type": "TextBlock", "wrap": True, "isSubtle": True, "text": a.detail[lang]})
        body.append({"type": "FactSet", "facts": [{"title": t("alert.severity", "en"), "value": a.severity},
                                                  {"title": "rule", "value": a.rule},
                                                  {"title": "kind", "value": a.kind}]})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                            "version": "1.4", "body": body}
    if alerts and alerts[0].link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": t("alert.open_dashboard", "en"),
                            "url": alerts[0].link}]
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


def webhook_payload(alerts: list[Outgoing], channel: AlertChannelSettings) -> dict[str, Any]:
    return {"source": "omamori", "channel": channel.name, "alerts": [a.as_json() for a in alerts]}


def _post(ctx: Context, channel: AlertChannelSettings, payload: dict[str, Any]) -> str:
    url = channel.url.get_secret_value()
    if not url:
        raise SendError(f"alerts channel {channel.name}: `url` is empty")
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "omamori-alerts"}
    secret = channel.secret.get_secret_value()
    if secret:
        headers["X-Omamori-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    try:
        # Webhooks are the team's own services: reached directly or through alerts.proxy (never the
        # crawl egress proxy)
        # by the guarded client, the configured host judged as an endpoint (never a metadata or
        # link-local address, whatever its name resolves to), no redirect followed.
        with make_client(ctx.settings, timeout=ctx.settings.alerts.timeout, follow_redirects=False,
                         endpoints=(httpx.URL(url).host,), proxy=ctx.settings.alerts.proxy) as client:
            r = client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise SendError(f"{type(e).__name__}: {e}") from None
    if r.status_code >= 300:
        raise SendError(f"HTTP {r.status_code}: {r.text[:300]}")
    return f"HTTP {r.status_code}"


def send_slack(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    return _post(ctx, channel, slack_payload(alerts, channel))


def send_teams(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    return _post(ctx, channel, teams_payload(alerts, channel))


def send_webhook(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    return _post(ctx, channel, webhook_payload(alerts, channel))


def syslog_line(a: Outgoing, *, hostname: str, now: datetime) -> bytes:
    """RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG, facility local0 (16)."""
    pri = 16 * 8 + SYSLOG_SEVERITY.get(a.severity, 5)
    msg = json.dumps(a.as_json(), ensure_ascii=False)
    return f"<{pri}>1 {now.isoformat()} {hostname} omamori - {a.rule} - \ufeff{msg}".encode()


def send_syslog(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    if not channel.host:
        raise SendError(f"alerts channel {channel.name}: `host` is empty")
    hostname, now = socket.gethostname() or "-", ctx.now()
    lines = [syslog_line(a, hostname=hostname, now=now) for a in alerts]
    try:
        if channel.protocol == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for line in lines:
                    sock.sendto(line, (channel.host, channel.port))
        else:
            with socket.create_connection((channel.host, channel.port), timeout=ctx.settings.alerts.timeout) as sock:
                for line in lines:  # RFC 6587 octet counting: no ambiguity about line ends inside JSON
                    sock.sendall(b"%d %s" % (len(line), line))
    except OSError as e:
        raise SendError(f"{type(e).__name__}: {e}") from None
    return f"{len(lines)} syslog line(s) to {channel.host}:{channel.port}/{channel.protocol}"


def send_jsonl(ctx: Context, channel: AlertChannelSettings, alerts: list[Outgoing]) -> str:
    if channel.path is None:
        raise SendError(f"alerts channel {channel.name}: `path` is empty")
    path = ctx.settings.path(channel.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for a in alerts:
                fh.write(json.dumps({"source": "omamori", **a.as_json()}, ensure_ascii=False) + "\n")
    except OSError as e:
        raise SendError(f"{type(e).__name__}: {e}") from None
    return f"{len(alerts)} line(s) to {path}"


Sender = Callable[[Context, AlertChannelSettings, list[Outgoing]], str]

SENDERS: tuple[tuple[str, Sender], ...] = (
    ("email", send_email),
    ("slack", send_slack),
    ("teams", send_teams),
    ("webhook", send_webhook),
    ("syslog", send_syslog),
    ("jsonl", send_jsonl),
)


def sender(kind: str) -> Sender:
    for name, fn in SENDERS:
        if name == kind:
            return fn
    raise KeyError(f"no alert channel type {kind!r}")

"""The customer alert page (guideline IV.7(2)): the fake sites impersonating the firm now, for customers.

Only sites a person confirmed (the brand's auto rule alone never publishes a site on the firm's
website), defanged (``example[.]top``), with the date first seen and the status: active (a takedown
is asked for) or taken down (kept for ``KEEP_CLOSED`` after it went down, so a customer who got the
mail last week still finds it). Japanese and English, HTML and JSON, one page per brand (a firm
publishes its own page) plus the whole set.

The ``publish`` job regenerates the pages when a case opens or closes: it renders every run and
rewrites the files only when their content changed (the ``updated`` time moves only then).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from takedown.notice import defang
from watcher.context import Context
from watcher.core.casefacts import live_cases, person_confirmation
from watcher.core.events import record
from watcher.core.models import Brand, CaseStatus
from watcher.report.official_domains import render_official_domains
from watcher.report.render import env, local_time

KEEP_CLOSED = timedelta(days=30)


def collect_sites(ctx: Context, session: Session) -> list[dict[str, Any]]:
    tz = ZoneInfo(ctx.settings.service.timezone)
    now = ctx.now()
    brands = {b.id: b for b in session.exec(select(Brand))}
    out = []
    for f in live_cases(session):
        if f.case.status == CaseStatus.CLOSED and (f.case.closed_at is None or now - f.case.closed_at > KEEP_CLOSED):
            continue
        if not f.confirmed or person_confirmation(session, f) is None:
            continue
        b = brands.get(f.case.brand_id)
        urls = sorted({u for c in f.hosts for u in (c.urls or [f"https://{c.domain}/"])})
        out.append({"case": f.id, "brand": b.slug if b else "", "site": defang(f.site),
                    "hostnames": [defang(c.domain) for c in f.hosts], "urls": [defang(u) for u in urls[:5]],
                    "first_seen": local_time(f.first_seen_at, tz),
                    "status": "open" if f.case.status == CaseStatus.OPEN else "closed",
                    "closed": local_time(f.case.closed_at, tz) if f.case.closed_at else ""})
    out.sort(key=lambda r: (r["status"] != "open", r["first_seen"]), reverse=False)
    return out


def render_customer_alerts(ctx: Context) -> dict[str, Path]:
    """Write ``customer-alerts[-<brand>].{html,json}``; a file is rewritten only when its content changes."""
    tz = ZoneInfo(ctx.settings.service.timezone)
    with ctx.session() as s:
        sites = collect_sites(ctx, s)
        brands = list(s.exec(select(Brand).order_by(Brand.slug)))
    out = ctx.state_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    template = env().get_template("customer-alerts.html.j2")
    paths: dict[str, Path] = {}
    groups: list[tuple[str, list[Brand]]] = [("", brands), *((b.slug, [b]) for b in brands)]
    for slug, group in groups:
        mine = [x for x in sites if not slug or x["brand"] == slug]
        data = {"brands": [{"slug": b.slug, "name": b.name, "name_ja": b.name_ja} for b in group], "sites": mine}
        stem = f"customer-alerts-{slug}" if slug else "customer-alerts"
        json_path, html_path = out / f"{stem}.json", out / f"{stem}.html"
        fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        old = _read_json(json_path)
        if old.get("fingerprint") == fingerprint and html_path.exists():
            paths[f"json:{slug}" if slug else "json"], paths[f"html:{slug}" if slug else "html"] = json_path, html_path
            continue
        updated = local_time(ctx.now(), tz, "%Y-%m-%d %H:%M %Z")
        doc = {**data, "generated_at": ctx.now().isoformat(), "fingerprint": fingerprint,
               "official_list_url": ctx.settings.report.official_list_url}
        json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        html_path.write_text(template.render(**doc, updated=updated,
                                             brand_names={lang: _brand_names(group, lang) for lang in ("ja", "en")}),
                             encoding="utf-8")
        paths[f"json:{slug}" if slug else "json"], paths[f"html:{slug}" if slug else "html"] = json_path, html_path
        paths[f"changed:{slug}" if slug else "changed"] = json_path
    return paths


def _brand_names(group: list[Brand], lang: str) -> str:
    names = [(b.name_ja or b.name) if lang == "ja" else b.name for b in group]
    return ("、" if lang == "ja" else ", ").join(names)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def publish(ctx: Context) -> dict[str, Any]:
    """The ``publish`` job: the customer alert page and the official-domains list, kept current."""
    paths = render_customer_alerts(ctx)
    official = render_official_domains(ctx)
    changed = sorted(k.partition(":")[2] or "all" for k in paths if k.startswith("changed"))
    if changed:
        with ctx.session() as s:
            record(s, "publish", "report.customer_alerts", None, {"changed": changed}, at=ctx.now())
            s.commit()
    sites = _read_json(paths["json"]).get("sites", [])
    return {"customer_alert_sites": len(sites), "customer_alerts_changed": ", ".join(changed),
            "customer_alerts": str(paths["html"]), "official_domains": str(official["json"])}

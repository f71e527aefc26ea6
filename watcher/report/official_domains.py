"""The customer-facing list of official domains (guideline IV.4(4)③, IV.7(2)⑥), HTML and JSON, ja + en."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.models import (
    Brand,
    OwnedDomain,
)
from watcher.report.render import env, local_time


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
                    "login_pages": spec.get("login_pages") or [], "apps": spec.get("apps") or [],
                    # A look-alike ending, to make the rule concrete: our name followed by someone else's.
                    "example": f"{apexes[0]}.login-check.top" if apexes else ""})
    return {"generated_at": ctx.now().isoformat(), "brands": out}


def render_official_domains(ctx: Context) -> dict[str, Path]:
    with ctx.session() as s:
        data = collect_official(ctx, s)
    out = ctx.state_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    tz = ZoneInfo(ctx.settings.service.timezone)
    template = env().get_template("official-domains.html.j2")
    updated = local_time(ctx.now(), tz)
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

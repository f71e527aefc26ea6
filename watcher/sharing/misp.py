"""A confirmed case pushed to a MISP instance (the ISAC's) with PyMISP, once.

One MISP event per case, its uuid the UUIDv5 of the case (so a second push is the same event, which
MISP refuses as a duplicate rather than storing twice): the site as ``info``, the TLP and the brand
as tags, an attribute per URL, hostname and IP address (``to_ids``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlmodel import Session

from watcher.context import Context
from watcher.core.casefacts import CaseFacts
from watcher.core.models import Brand
from watcher.core.texts import t
from watcher.sharing.stix import NAMESPACE, observables

log = logging.getLogger("omamori.sharing")


class MispError(Exception):
    pass


def event_uuid(facts: CaseFacts) -> str:
    return str(uuid.uuid5(NAMESPACE, f"misp-event|{facts.id}|{facts.site}"))


def build_event(ctx: Context, session: Session, facts: CaseFacts) -> Any:
    from pymisp import MISPEvent

    brand = session.get(Brand, facts.case.brand_id) if facts.case.brand_id is not None else None
    brand_name = brand.name if brand else "unknown brand"
    ev = MISPEvent()
    ev.uuid = event_uuid(facts)
    ev.info = t("sharing.stix.campaign", "en", brand=brand_name, site=facts.site)
    ev.distribution = ctx.settings.sharing.misp_distribution
    ev.threat_level_id = 2
    ev.analysis = 2 if facts.case.closed_at else 1
    ev.set_date(facts.first_seen_at.date())
    ev.add_tag(f"tlp:{ctx.settings.sharing.tlp}")
    ev.add_tag('rsit:fraud="phishing"')
    if brand:
        ev.add_tag(f"omamori:brand={brand.slug}")
    obs = observables(session, facts)
    for kind, values in (("url", obs["url"]), ("domain", obs["domain"]), ("ip-dst", obs["ip"])):
        for value in values:
            ev.add_attribute(kind, value, to_ids=True, comment=f"omamori case {facts.id}")
    return ev


def push(ctx: Context, session: Session, facts: CaseFacts) -> dict[str, Any]:
    """Push the case's event; returns {"id", "uuid", "duplicate"}. Raises MispError with one line."""
    sh = ctx.settings.sharing
    if not sh.misp_url:
        raise MispError("sharing.misp_url is empty: nowhere to push")
    try:
        from pymisp import PyMISP, PyMISPError
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise MispError(f"PyMISP is not installed: {e}") from None
    verify: bool | str = str(ctx.settings.path(sh.misp_ca_file)) if sh.misp_ca_file else sh.misp_verify_tls
    event = build_event(ctx, session, facts)
    try:
        misp = PyMISP(sh.misp_url, sh.misp_key.get_secret_value(), ssl=verify, timeout=30, tool="omamori")
        answer = misp.add_event(event, pythonify=False)
    except PyMISPError as e:
        raise MispError(f"{sh.misp_url}: {e}") from None
    except OSError as e:
        raise MispError(f"{sh.misp_url}: {type(e).__name__}: {e}") from None
    if isinstance(answer, dict) and answer.get("errors"):
        text = str(answer["errors"])
        if "already exists" in text:
            return {"id": "", "uuid": event.uuid, "duplicate": True}
        raise MispError(f"{sh.misp_url} refused the event: {text[:300]}")
    stored = answer.get("Event", answer) if isinstance(answer, dict) else {}
    return {"id": str(stored.get("id", "")), "uuid": str(stored.get("uuid", event.uuid)), "duplicate": False}

"""A confirmed case pushed to a MISP instance (the ISAC's), once.

One MISP event per case, its uuid the UUIDv5 of the case (so a second push is the same event, which
MISP refuses as a duplicate rather than storing twice): the site as ``info``, the TLP and the brand
as tags, an attribute per URL, hostname and IP address (``to_ids``).

PyMISP builds the event; the ``POST /events/add`` itself goes through the watcher's guarded HTTP
client (``sharing.misp_url`` is a configured endpoint: reached directly, never a metadata or
link-local address, no redirect followed), not through PyMISP's own unguarded session.
"""

from __future__ import annotations

import json
import logging
import ssl
import uuid
from typing import Any
from urllib.parse import urljoin

import httpx
from sqlmodel import Session

from watcher.clients.http import make_client
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
    from pymisp.abstract import pymisp_json_default

    verify: bool | ssl.SSLContext = sh.misp_verify_tls
    if sh.misp_ca_file:
        verify = ssl.create_default_context(cafile=str(ctx.settings.path(sh.misp_ca_file)))
    event = build_event(ctx, session, facts)
    base = sh.misp_url if sh.misp_url.endswith("/") else sh.misp_url + "/"
    try:
        host = httpx.URL(base).host
        with make_client(ctx.settings, timeout=30.0, follow_redirects=False, endpoints=(host,),
                         proxy=sh.misp_proxy, verify=verify) as client:
            r = client.post(urljoin(base, "events/add"), content=json.dumps(event, default=pymisp_json_default),
                            headers={"Authorization": sh.misp_key.get_secret_value(), "Accept": "application/json",
                                     "Content-Type": "application/json", "User-Agent": "omamori"})
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as e:
        raise MispError(f"{sh.misp_url}: {type(e).__name__}: {e}") from None
    if r.is_redirect:
        raise MispError(f"{sh.misp_url} redirected to {r.headers.get('Location', '?')[:200]} (not followed): "
                        "set sharing.misp_url to the server's own address")
    try:
        answer = r.json()
    except ValueError:
        answer = None
    if r.status_code >= 400 or not isinstance(answer, dict):
        text = str(answer.get("errors") or answer.get("message")) if isinstance(answer, dict) else r.text
        if r.status_code < 500 and "already exists" in text:
            return {"id": "", "uuid": event.uuid, "duplicate": True}
        raise MispError(f"{sh.misp_url} refused the event: HTTP {r.status_code}: {text[:300]}")
    stored = answer.get("Event", answer) if isinstance(answer, dict) else {}
    return {"id": str(stored.get("id", "")), "uuid": str(stored.get("uuid", event.uuid)), "duplicate": False}

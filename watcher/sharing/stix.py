"""A confirmed case as a STIX 2.1 bundle, for the firm's ISAC and the other firms (guideline IV.6(3)).

The bundle holds: the firm as the author (``identity``), the brand as the targeted identity, one
``campaign`` for the site (``targets`` the brand), and an ``indicator`` per URL, hostname and IP
address (``indicates`` the campaign), all under the configured TLP marking. Objects are built with
the ``stix2`` library, which checks every property and pattern; ids are UUIDv5 of the case and the
value, so sharing the same case again gives the same objects (a peer de-duplicates them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import stix2
from sqlmodel import Session, col, select

from watcher.clients.resolver import DnsProfile
from watcher.context import Context
from watcher.core.casefacts import CaseFacts
from watcher.core.models import Brand, Snapshot
from watcher.core.texts import t

NAMESPACE = uuid.UUID("6f6d616d-6f72-6900-8000-000000000019")  # omamori's own UUIDv5 namespace
TLP = {"clear": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER,
       "amber+strict": stix2.TLP_AMBER, "red": stix2.TLP_RED}


def _id(kind: str, *parts: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(str(p) for p in parts))}"


def _literal(value: str) -> str:
    """A STIX pattern string literal: backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def observables(session: Session, facts: CaseFacts) -> dict[str, list[str]]:
    """The case's URLs, hostnames and IP addresses, from its candidates and their snapshots."""
    urls: set[str] = set()
    domains: set[str] = set()
    ips: set[str] = set()
    for c in facts.hosts:
        domains.add(c.domain)
        urls.update(u for u in (c.urls or []) if u.startswith(("http://", "https://")))
    ids = facts.candidate_ids()
    if ids:
        for snap in session.exec(select(Snapshot).where(col(Snapshot.candidate_id).in_(ids))):
            ips.update(DnsProfile.from_dict(snap.dns).addresses)
            final = str((snap.capture or {}).get("final_url") or "")
            if snap.reachable and final.startswith(("http://", "https://")):
                urls.add(final)
    return {"url": sorted(urls), "domain": sorted(domains), "ip": sorted(ips)}


def organisation(ctx: Context, session: Session) -> str:
    if ctx.settings.sharing.organisation:
        return ctx.settings.sharing.organisation
    first = session.exec(select(Brand).order_by(col(Brand.id))).first()
    return first.name if first else "omamori user"


def case_bundle(ctx: Context, session: Session, facts: CaseFacts) -> stix2.Bundle:
    brand = session.get(Brand, facts.case.brand_id) if facts.case.brand_id is not None else None
    brand_name = brand.name if brand else "unknown brand"
    marking = TLP[ctx.settings.sharing.tlp]
    org_name = organisation(ctx, session)
    seen: datetime = facts.first_seen_at
    org = stix2.Identity(id=_id("identity", "org", org_name), name=org_name, identity_class="organization",
                         sectors=["financial-services"], created=seen, modified=seen)
    target = stix2.Identity(id=_id("identity", "brand", brand.slug if brand else brand_name), name=brand_name,
                            identity_class="organization", sectors=["financial-services"],
                            created_by_ref=org.id, created=seen, modified=seen, object_marking_refs=[marking])
    common: dict[str, Any] = {"created_by_ref": org.id, "object_marking_refs": [marking], "created": seen,
                              "modified": ctx.now() if ctx.now() > seen else seen}
    campaign = stix2.Campaign(id=_id("campaign", facts.id, facts.site), first_seen=seen, objective="credential theft",
                              name=t("sharing.stix.campaign", "en", brand=brand_name, site=facts.site),
                              description=t("sharing.stix.campaign", "ja", brand=brand_name, site=facts.site),
                              **common)
    objects: list[Any] = [org, target, campaign,
                          stix2.Relationship(id=_id("relationship", facts.id, "targets"), source_ref=campaign.id,
                                             relationship_type="targets", target_ref=target.id, **common)]
    obs = observables(session, facts)
    for kind, sco, values in (("url", "url", obs["url"]), ("domain", "domain-name", obs["domain"]),
                              ("ip", "ipv4-addr", obs["ip"])):
        for value in values:
            obj = "ipv6-addr" if kind == "ip" and ":" in value else sco
            ind = stix2.Indicator(id=_id("indicator", facts.id, kind, value), pattern_type="stix",
                                  pattern=f"[{obj}:value = {_literal(value)}]", valid_from=seen,
                                  indicator_types=["malicious-activity"],
                                  name=t("sharing.stix.indicator", "en", brand=brand_name, value=value), **common)
            objects += [ind, stix2.Relationship(id=_id("relationship", facts.id, "indicates", kind, value),
                                                source_ref=ind.id, relationship_type="indicates",
                                                target_ref=campaign.id, **common)]
    return stix2.Bundle(objects=objects, id=_id("bundle", facts.id, facts.site, len(objects)), allow_custom=False)

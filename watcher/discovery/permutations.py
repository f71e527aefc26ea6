"""The permutation scan: lookalikes of every official domain → DNS → ``discover``.

Every day: generate the permutations of each brand's official domains (``watcher.discovery.fuzzers``), resolve
them all with the asynchronous resolver (A, AAAA, CNAME, MX, NS), drop the answers of wildcard zones
(a wildcard TLD would otherwise make every permutation under it look registered), and send the names
that exist through ``discover`` with the fuzzer as the reason. ``PermutationState`` remembers
whether each name existed at the last scan, so a name that appears between two scans is recorded
as newly registered (an Event and a reason with the date of the last scan that did not see it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from watcher.clients.resolver import DnsProfile, Resolver
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import Brand, PermutationState, Source
from watcher.core.names import _icann, normalize_host
from watcher.core.reasons import Reason
from watcher.core.texts import text
from watcher.discovery.discover import OwnedIndex, Sighting, discover
from watcher.discovery.fuzzers import Permutation, permutations

# Points for the discovery reason: a registered lookalike of an official domain is a strong signal;
# a newly registered one more so (most phishing domains are days old when used).
POINTS_EXISTS = 30
POINTS_NEW = 20
COMMIT_EVERY = 200  # names per write transaction (see _record)


@dataclass
class ScanResult:
    domains: int = 0
    generated: int = 0
    resolved: int = 0
    existing: int = 0
    wildcard_skipped: int = 0
    failed: int = 0  # timeouts / servfail / errors: recorded, retried next scan
    discovered: int = 0
    new_candidates: int = 0
    newly_registered: list[str] = field(default_factory=list)
    wildcard_zones: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _zones(name: str) -> list[str]:
    """Zones whose wildcard could answer for ``name``: its public suffix and its registrable domain.

    ``name`` is already normalised (A-labels), so the suffix list is asked directly, without the
    IDNA work of ``normalize_host`` (this runs for every one of thousands of permutations).
    """
    ext = _icann()(name)
    out = [ext.suffix] if ext.suffix else []
    registrable = f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else ""
    if registrable and registrable != name:
        out.append(registrable)
    return out


async def _resolve(resolver: Resolver, names: list[str], progress: Callable[[int, int], None] | None
                   ) -> tuple[dict[str, DnsProfile], dict[str, list[str] | None]]:
    zones = sorted({z for n in names for z in _zones(n)})
    answers = await asyncio.gather(*(resolver.wildcard_answer(z) for z in zones))
    wild = dict(zip(zones, answers, strict=True))
    profiles = await resolver.aprofile_many(names, progress=progress)
    return profiles, wild


def is_wildcard_noise(name: str, profile: DnsProfile, wild: dict[str, list[str] | None]) -> str:
    """The wildcard zone that synthesised this answer, or "" when the name has its own records.

    A name registered under a wildcard TLD with its own addresses is still reported; one whose
    addresses are exactly the wildcard's is not.
    """
    addrs = sorted(profile.records.get("A", []))
    for zone in _zones(name):
        answer = wild.get(zone)
        if answer is not None and (not addrs or set(addrs) <= set(answer)):
            return zone
    return ""


def _targets(ctx: Context, domains: Iterable[str] | None, brand: str | None) -> list[tuple[str | None, str]]:
    """(brand slug, official domain) to permute: every brand's, one brand's, or the given names."""
    targets: list[tuple[str | None, str]] = []
    for b in ctx.brands:
        if brand and b.slug != brand:
            continue
        targets += [(b.slug, d) for d in b.official_domains]
    if domains is not None:
        wanted = [normalize_host(d).ascii for d in domains]
        known = dict((d, s) for s, d in targets)
        targets = [(known.get(d), d) for d in wanted]
    return targets


def _generate(ctx: Context, targets: list[tuple[str | None, str]]) -> dict[str, tuple[str | None, Permutation]]:
    """Every permutation of every target, once, minus our own names and the lapsed ones: the
    drop-catch watch (inventory) owns those and reports a re-registration with its own reason."""
    perms: dict[str, tuple[str | None, Permutation]] = {}
    for slug, domain in targets:
        for p in permutations(domain):
            perms.setdefault(p.name, (slug, p))
    with ctx.session() as s:
        owned = OwnedIndex.from_brands(ctx.brands, s)
    lapsed = OwnedIndex(d for b in ctx.brands for d in b.lapsed_domains)
    return {n: v for n, v in perms.items() if not owned.owner_of(n) and not lapsed.owner_of(n)}


def scan(ctx: Context, *, domains: Iterable[str] | None = None, brand: str | None = None,
         progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The ``permutations`` job: scan the official domains of every brand (or the given ones)."""
    targets = _targets(ctx, domains, brand)
    result = ScanResult(domains=len(targets))
    perms = _generate(ctx, targets)
    result.generated = len(perms)
    profiles, wild = ctx.resolver.run(_resolve(ctx.resolver, list(perms), progress))
    result.resolved = len(profiles)
    result.wildcard_zones = sorted(z for z, a in wild.items() if a is not None)
    ctx.run.check()  # the names are resolved; recording them is never cut short by the deadline
    _record(ctx, perms, profiles, wild, result)
    return result.as_dict()


def _record(ctx: Context, perms: dict[str, tuple[str | None, Permutation]], profiles: dict[str, DnsProfile],
            wild: dict[str, Any], result: ScanResult) -> None:
    """Compare each answer with the last scan: existing names are discovered, newly registered ones
    say so, and an unknown answer (timeout, SERVFAIL) keeps the last state.

    Committed every ``COMMIT_EVERY`` names: thousands of rows in one transaction held SQLite's write
    lock for tens of seconds on a busy host, and every other job's write failed with "database is
    locked". Each name's row is complete in itself, so a scan cut between two commits loses nothing:
    the names not yet recorded keep their last state, as an unknown answer does.
    """
    now = ctx.now()
    with ctx.session() as s:
        owned = OwnedIndex.from_brands(ctx.brands, s)
        states = {st.name: st for st in s.exec(select(PermutationState))}
        brand_ids = {b.slug: b.id for b in s.exec(select(Brand))}
        scanned_before = any(st.last_scanned_at is not None for st in states.values())
        for i, (name, (slug, perm)) in enumerate(perms.items()):
            if i and i % COMMIT_EVERY == 0:
                s.commit()
            prof = profiles[name]
            st = states.get(name)
            if st is None:
                st = PermutationState(name=name, brand_id=brand_ids.get(slug or ""), fuzzer=perm.fuzzer)
            failed = [t for t, v in prof.statuses.items() if v in ("timeout", "servfail", "error")]
            noise = is_wildcard_noise(name, prof, wild) if prof.exists else ""
            if noise:
                result.wildcard_skipped += 1
            exists = prof.exists and not noise
            if failed and not prof.exists:
                # Unknown is not "gone": keep the last state so a flaky resolver does not make
                # a registered name look newly registered tomorrow.
                result.failed += 1
                st.last_scanned_at = now
                s.add(st)
                continue
            if exists:
                _existing(s, owned, st, slug, perm, prof, now, scanned_before, result)
            st.exists = exists
            st.last_scanned_at = now
            s.add(st)
        s.commit()


def _existing(s: Session, owned: OwnedIndex, st: PermutationState, slug: str | None, perm: Permutation,
              prof: DnsProfile, now: datetime, scanned_before: bool, result: ScanResult) -> None:
    """A permutation that resolves: a candidate, and "newly registered" if the last scan missed it."""
    name = perm.name
    was_seen_missing = st.last_scanned_at is not None and not st.exists
    last_missing = st.last_scanned_at
    result.existing += 1
    reasons = [Reason.said("permutation", text("discovery.permutation", name=name, base=perm.base, fuzzer=perm.fuzzer),
                           POINTS_EXISTS, "permutation")]
    newly = was_seen_missing and scanned_before
    if newly and last_missing is not None:
        reasons.append(Reason.said("newly_registered",
                                   text("discovery.newly_registered", since=f"{last_missing:%Y-%m-%d}"), POINTS_NEW,
                              "permutation"))
    out = discover(s, Sighting(name, Source.PERMUTATION, brand=slug, reasons=reasons,
                               facts={"fuzzer": perm.fuzzer, "base": perm.base, "dns": prof.as_dict()},
                               seen_at=now), owned, now=now, actor="permutations")
    if out.candidate is not None:
        result.discovered += 1
        result.new_candidates += int(out.created)
    if newly:
        result.newly_registered.append(name)
        record(s, "permutations", "permutation.registered", out.candidate,
               {"name": name, "fuzzer": perm.fuzzer, "base": perm.base,
                "not_seen_at": last_missing.isoformat() if last_missing else None}, at=now)
    if not st.exists or st.first_seen_existing_at is None:
        st.first_seen_existing_at = now

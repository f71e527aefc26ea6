"""The snapshot job: due candidates -> DNS -> RDAP -> capture -> score -> Snapshot row -> triage.

Every candidate checked yields one Snapshot, whatever failed on the way (a failure is recorded in the
snapshot, never raised): a dead resolver, a missing RDAP server, a crashed browser. Triage never
confirms on its own (the per-brand auto rule belongs to the takedown side); it only moves between
checked/watching, counts a reported site's consecutive "gone" checks until it is DOWN, and brings a
DOWN site that came back to CHECKED.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import ipaddress
import logging
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from PIL import Image
from sqlmodel import Session, col, select

from watcher.capture import score as scoring
from watcher.capture.crawl import capture_batch
from watcher.capture.triage import after_snapshot
from watcher.clients.records import parse_date
from watcher.clients.resolver import DnsProfile
from watcher.context import Context
from watcher.core import cases
from watcher.core.casefacts import live_evidence
from watcher.core.events import record
from watcher.core.models import Brand, Candidate, CandidateStatus, Snapshot, Verdict
from watcher.core.reasons import Reason
from watcher.core.runcontrol import JobStopped
from watcher.core.texts import Text, text

log = logging.getLogger("omamori.snapshot")
S = CandidateStatus

Image.MAX_IMAGE_PIXELS = 40_000_000  # screenshots are capped far below this; refuse decompression bombs
HOLD_STATUSES = ("client hold", "server hold", "clienthold", "serverhold", "suspended")
MAX_TEXT_STORED = 5000


# ------------------------------------------------------------------ the peers, called defensively


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "as_dict"):
        return dict(obj.as_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return dict(vars(obj)) if hasattr(obj, "__dict__") else {"value": str(obj)}


def _json_safe(d: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(d, default=str))


def lookup_rdap(ctx: Context, domain: str, address: str | None, *, nxdomain: bool = False) -> dict[str, Any]:
    try:
        client = ctx.rdap
    except Exception as e:  # the RDAP module may not be built or configured yet: say so and go on
        return {"error": f"rdap: not available ({type(e).__name__})"}
    out: dict[str, Any] = {}
    try:
        reg = _json_safe(_as_dict(client.domain(domain, nxdomain=nxdomain)))
        reg.pop("raw", None)  # the parsed facts are the record; the raw JSON stays with the RDAP client
        out["domain"] = reg
    except Exception as e:
        out["error"] = f"rdap domain lookup failed: {type(e).__name__}: {e}"[:300]
    if address:
        try:
            net = _json_safe(_as_dict(client.ip(address)))
            net.pop("raw", None)
            out["ip"] = net
        except Exception as e:
            out["ip_error"] = f"rdap ip lookup failed: {type(e).__name__}: {e}"[:300]
    return out


def _rdap_batch(ctx: Context, cands: list[Candidate], dns: dict[str, dict[str, Any]]) -> AbstractContextManager[None]:
    """The batch's RDAP lookups as one batch: stored answers read in one query, new ones written in one."""
    try:
        addresses = [a for c in cands for a in DnsProfile.from_dict(dns[c.domain]).addresses[:1]]
        return ctx.rdap.batch(domains=[c.registrable or c.domain for c in cands], addresses=addresses)
    except Exception as e:  # lookup_rdap says what is wrong with the client, per candidate
        log.debug("rdap batch: %s", e)
        return nullcontext()


def classify_hosting(addresses: list[str], cnames: list[str], nameservers: list[str], host: str) -> dict[str, Any]:
    try:
        from watcher.clients.hosting import classify
    except ImportError:
        return {"error": "hosting: not available"}
    try:
        return _json_safe(_as_dict(classify(addresses, cnames, nameservers, host=host)))
    except Exception as e:
        return {"error": f"hosting classification failed: {type(e).__name__}: {e}"[:300]}


def rdap_statuses(rdap: dict[str, Any]) -> list[str]:
    return [str(s).lower() for s in (rdap.get("domain") or {}).get("statuses") or []]


def _host(domain: str) -> str:
    """The name to resolve and fetch: a CT wildcard stands for its parent."""
    return domain.removeprefix("*.")


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve_all(ctx: Context, domains: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for d in domains:
        if _ip_literal(_host(d)):  # an IP-address candidate: nothing to resolve
            out[d] = {"name": d, "records": {"A" if ":" not in d else "AAAA": [d.strip("[]")]}, "statuses": {}}
    names = [d for d in domains if d not in out]
    if not names:
        return out

    async def go() -> list[Any]:
        return await asyncio.gather(*(ctx.resolver.profile(_host(n)) for n in names), return_exceptions=True)

    try:
        results = asyncio.run(go())
    except Exception as e:
        err = f"{type(e).__name__}: {e}"[:200]
        return {**out, **{n: {"name": n, "records": {}, "statuses": {}, "error": err} for n in names}}
    for n, r in zip(names, results, strict=True):
        if isinstance(r, BaseException):
            out[n] = {"name": n, "records": {}, "statuses": {}, "error": f"{type(r).__name__}: {r}"[:200]}
        else:
            out[n] = r.as_dict()
    return out


# ------------------------------------------------------------------ scoring one record


@dataclasses.dataclass
class _BrandRef:
    brand: dict[str, Any]
    references: list[dict[str, Any]]
    logos: list[Image.Image]


def _load_image(ctx: Context, sha: str) -> Image.Image | None:
    if not sha or not ctx.evidence.exists(sha):
        return None
    try:
        img = Image.open(io.BytesIO(ctx.evidence.get(sha)))
        img.load()
        return img.convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError):
        return None


_LOGOS: dict[str, Image.Image] = {}  # evidence sha256 -> the logo image (immutable, content-addressed)


def brand_refs(ctx: Context, session: Session) -> dict[int, _BrandRef]:
    out: dict[int, _BrandRef] = {}
    for b in session.exec(select(Brand)):
        spec = dict(b.spec or {})
        brand = {"slug": b.slug, "name": b.name, "name_ja": b.name_ja, "keywords": spec.get("keywords", []),
                 "official_domains": spec.get("official_domains", []), "group_domains": spec.get("group_domains", [])}
        logos, seen = [], set()
        for ref in b.references or []:
            sha = ref.get("logo_sha256", "")
            if sha and sha not in seen:
                seen.add(sha)
                img = _LOGOS.get(sha) or _load_image(ctx, sha)
                if img is not None:
                    _LOGOS[sha] = img  # the same image object each time: its SIFT features are kept on it
                    logos.append(img)
        assert b.id is not None
        out[b.id] = _BrandRef(brand, list(b.references or []), logos)
    return out


_LOGO_INDEXES: dict[tuple[int, ...], scoring.LogoIndex] = {}


def logo_index(logos: list[Image.Image]) -> scoring.LogoIndex:
    """The index of these logo images (kept while the same images are in use: one brand_refs load)."""
    key = tuple(id(logo) for logo in logos)
    found = _LOGO_INDEXES.get(key)
    if found is None or any(a is not b for a, b in zip(found.logos, logos, strict=True)):
        _LOGO_INDEXES.clear()  # one set of brands at a time is in use
        found = _LOGO_INDEXES[key] = scoring.LogoIndex(logos)
    return found


def assess_record(ctx: Context, rec: dict[str, Any], refs: list[_BrandRef], rdap: dict[str, Any],
                  match_points: int) -> scoring.Assessment:
    """The best assessment of one capture over the candidate's brand (or every brand if unknown)."""
    files = rec.get("files") or {}
    shot = _load_image(ctx, files.get("screenshot", "")) if rec.get("ok") else None
    full = (_load_image(ctx, files["fullpage"])
            if rec.get("ok") and files.get("fullpage") and files.get("fullpage") != files.get("screenshot") else None)
    best: scoring.Assessment | None = None
    page_cache: dict[str, Any] = {}  # the page's own work (its SIFT features), once for every brand
    logos_of: dict[int, list[Image.Image]] = {}
    if len(refs) > 1 and shot is not None:
        # No brand yet: one search of every brand's logos finds the few worth the exact search.
        everyone = [(i, logo) for i, br in enumerate(refs) for logo in br.logos]
        index = logo_index([logo for _, logo in everyone])
        ev0 = scoring.Evidence(record=rec, brand={}, screenshot=shot, fullpage=full, page_cache=page_cache)
        hits: set[int] = set()
        for name, picture in (("screenshot", shot), ("full-page screenshot", full)):
            if picture is not None:
                hits |= index.candidates(scoring.screen_features(ev0, name, picture))
        for j in hits:
            logos_of.setdefault(everyone[j][0], []).append(everyone[j][1])
    for i, br in enumerate(refs or [_BrandRef({}, [], [])]):
        profile_refs = [r for r in br.references if r.get("profile", "desktop") == rec.get("profile", "desktop")]
        logos = logos_of.get(i, []) if len(refs) > 1 and shot is not None else br.logos
        ev = scoring.Evidence(record=rec, brand=br.brand, references=profile_refs or br.references, screenshot=shot,
                              fullpage=full, logos=logos, rdap=(rdap.get("domain") or {}), match_points=match_points,
                              now=ctx.now(), page_cache=page_cache)
        a = scoring.assess(ev)
        if best is None or a.score > best.score:
            best = a
    assert best is not None
    return best


# ------------------------------------------------------------------ the job


def _targets_for(cand: Candidate, profiles: list[str]) -> list[dict[str, Any]]:
    host = _host(cand.domain)
    host = f"[{host}]" if ":" in host else host
    urls = [u for u in (cand.urls or []) if u.startswith(("http://", "https://"))][:2] or [f"https://{host}/"]
    return [{"id": f"{cand.id}|{i}|{p}", "url": u, "profile": p} for i, u in enumerate(urls) for p in profiles]


def _capture_record(rec: dict[str, Any]) -> dict[str, Any]:
    keep = {k: v for k, v in rec.items() if k not in ("files", "hashes", "id")}
    keep["text"] = str(keep.get("text", ""))[:MAX_TEXT_STORED]
    return keep


def check_candidates(ctx: Context, ids: list[int], actor: str = "system", *,
                     claim: datetime | None = None) -> list[Snapshot]:
    """Check several candidates in one crawler batch; one Snapshot each, in the order of ``ids``.

    With ``claim`` (see ``claim_due``) only candidates still held by that claim are checked, and each
    Snapshot is committed only if the claim still holds then: a task retried after its worker died
    checks again what was not committed, and nothing that was.
    """
    settings = ctx.settings
    with ctx.session() as s:
        by_id = {c.id: c for c in s.exec(select(Candidate).where(col(Candidate.id).in_(list(ids))))}
        cands = [c for c in (by_id.get(i) for i in ids) if c is not None
                 and (claim is None or c.next_check_at == claim)]
        refs_by_brand = brand_refs(ctx, s)
        # Which of them ever had a live capture (the others have no evidence to keep): one query.
        ever_live = set(s.exec(select(Snapshot.candidate_id).where(
            col(Snapshot.candidate_id).in_([c.id for c in cands]), col(Snapshot.reachable).is_(True),
            col(Snapshot.gone).is_(False)).distinct()))
    if not cands:
        return []
    dns = _resolve_all(ctx, sorted({c.domain for c in cands}))
    rdap: dict[int, dict[str, Any]] = {}
    hosting: dict[int, dict[str, Any]] = {}
    targets: list[dict[str, Any]] = []
    with _rdap_batch(ctx, cands, dns):
        for c in cands:
            prof = DnsProfile.from_dict(dns[c.domain])
            addrs = prof.addresses
            # "Not registered" stands longer only for the registrable name itself not resolving.
            rdap[c.id or 0] = lookup_rdap(ctx, c.registrable or c.domain, addrs[0] if addrs else None,
                                          nxdomain=prof.nxdomain and _host(c.domain) == (c.registrable or c.domain))
    for c in cands:
        d = dns[c.domain]
        addrs = DnsProfile.from_dict(d).addresses
        recs = d.get("records") or {}
        hosting[c.id or 0] = classify_hosting(addrs, recs.get("CNAME", []), recs.get("NS", []), c.domain)
        if DnsProfile.from_dict(d).nxdomain:
            continue  # nothing to fetch: the name does not exist
        for t in _targets_for(c, list(settings.crawl.profiles)):
            t["addresses"] = addrs
            targets.append(t)
    records = capture_batch(ctx, targets) if targets else []
    # Host-only candidates: when https fails to connect, try plain http once.
    retry = [dict(t, url="http://" + t["url"].removeprefix("https://"))
             for t, r in zip(targets, records, strict=True)
             if not r.get("ok") and r.get("error_kind") in ("connect", "tls", "other")
             and t["url"].startswith("https://") and t["url"].count("/") == 3]
    if retry:
        again = {r["id"]: r for r in capture_batch(ctx, retry)}
        # Keep the https failure unless plain http really answered (a proxy's 502 is not an answer).
        records = [again[r["id"]] if r["id"] in again and again[r["id"]].get("ok")
                   and int(again[r["id"]].get("status") or 0) < 500 else r for r in records]
    by_cand: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        by_cand.setdefault(int(str(r["id"]).split("|")[0]), []).append(r)
    # Scoring (SIFT, image hashes) before any transaction: the batch's writes then go in one short
    # transaction (one commit for the batch, not one per candidate), each still behind its claim.
    scored: dict[int, tuple[list[_BrandRef], _Scored]] = {}
    for c in cands:
        brs = [refs_by_brand[c.brand_id]] if c.brand_id in refs_by_brand else list(refs_by_brand.values())
        records_c = by_cand.get(c.id or 0, [])
        scored[c.id or 0] = (brs, (list(c.reasons or []), _best(ctx, records_c, brs, rdap[c.id or 0],
                                                                scoring.lexical_points(c.reasons))))
    done: dict[int, Snapshot] = {}
    with ctx.transaction() as s:
        for c in sorted(cands, key=lambda c: c.id or 0):  # one lock order for every writer of a batch
            cid = c.id or 0
            brs, pre = scored[cid]
            snap = _finish(ctx, cid, dns[c.domain], rdap[cid], hosting[cid], by_cand.get(cid, []), brs, actor,
                           claim=claim, session=s, scored=pre, ever_live=cid in ever_live)
            if snap is not None:
                done[cid] = snap
    snaps = [done[c.id or 0] for c in cands if (c.id or 0) in done]
    phishing = [sn.candidate_id for sn in snaps if sn.verdict == Verdict.PHISHING]
    if phishing:
        ctx.nudge.takedowns(phishing)  # the auto rule and the requests go now, not at the next run
    return snaps


def _best(ctx: Context, records: list[dict[str, Any]], brs: list[_BrandRef], rdap: dict[str, Any],
          match_points: int) -> tuple[scoring.Assessment, dict[str, Any]] | None:
    """The capture that looks most like the brand (a live one wins a tie), with its assessment."""
    best: tuple[scoring.Assessment, dict[str, Any]] | None = None
    for rec in records:
        a = assess_record(ctx, rec, brs, rdap, match_points)
        if best is None or (a.score, rec.get("ok", False)) > (best[0].score, best[1].get("ok", False)):
            best = (a, rec)
    return best


def gone_reason(dns: dict[str, Any], rdap: dict[str, Any], rec: dict[str, Any], page_kind: str) -> str:
    """Why the site counts as gone ("" while it is up), in English (logs, the snapshot's error)."""
    why = gone_text(dns, rdap, rec, page_kind)
    return why.render("en") if why else ""


def gone_text(dns: dict[str, Any], rdap: dict[str, Any], rec: dict[str, Any], page_kind: str) -> Text | None:
    """Why the site counts as gone (None while it is up): the name, the registry, the connection, the page."""
    holds = [h for h in rdap_statuses(rdap) if h.replace("_", " ") in HOLD_STATUSES]
    if DnsProfile.from_dict(dns).nxdomain:
        return text("capture.gone_nxdomain")
    if holds:
        return text("capture.gone_hold", holds=", ".join(holds))
    if not rec:
        return None
    status = int(rec.get("status") or 0)
    if not rec.get("ok") and rec.get("error_kind") == "connect":
        return text("capture.gone_connect", error=str(rec.get("error", ""))[:120])
    if status in (404, 410):
        return text("capture.gone_http", status=status)
    if page_kind == "suspended":
        return text("capture.gone_suspended")
    return None


def _capture_facts(rec: dict[str, Any], records: list[dict[str, Any]], page_kind: str) -> dict[str, Any]:
    """What the snapshot keeps of the captures: the chosen one whole, the others in a line each."""
    capture = _capture_record(rec) if rec else {}
    if len(records) > 1:
        capture["other_captures"] = [{"url": r["url"], "profile": r.get("profile"), "ok": r.get("ok"),
                                      "status": r.get("status"), "title": str(r.get("title", ""))[:100],
                                      "error": r.get("error", "")} for r in records if r is not rec]
    capture["page_kind"] = page_kind
    return capture


def _hashes(rec: dict[str, Any]) -> dict[str, Any]:
    hashes = dict(rec.get("hashes") or {})
    if (rec.get("favicon") or {}).get("sha256"):
        hashes["favicon_sha256"] = rec["favicon"]["sha256"]
        hashes["favicon_dhash"] = rec["favicon"].get("dhash", "")
    return hashes


# The reasons a candidate was scored with, and the best capture's assessment (None: nothing captured).
_Scored = tuple[list[dict[str, Any]], "tuple[scoring.Assessment, dict[str, Any]] | None"]


def _finish(ctx: Context, cid: int, dns: dict[str, Any], rdap: dict[str, Any], hosting: dict[str, Any],
            records: list[dict[str, Any]], brs: list[_BrandRef], actor: str, *,
            claim: datetime | None = None, session: Session | None = None,
            scored: _Scored | None = None, ever_live: bool = True) -> Snapshot | None:
    """Score the captures, decide whether the site is gone, store the Snapshot, move the candidate.

    In ``session`` (the batch's transaction; its own otherwise), with the scoring already done when
    ``scored`` is given (done again if the candidate's reasons changed meanwhile); ``ever_live``
    False says no earlier capture was live (no evidence to keep: not looked for).
    None when ``claim`` no longer holds (the candidate was claimed again, or already checked)."""
    if session is None:
        with ctx.transaction() as s:
            return _finish(ctx, cid, dns, rdap, hosting, records, brs, actor, claim=claim, session=s, scored=scored,
                           ever_live=ever_live)
    s = session
    now = ctx.now()
    if claim is not None:
        # Before anything else of this candidate: it locks the row (PostgreSQL) or the database
        # (SQLite) until the commit, so of two checks racing for one candidate exactly one commits
        # a Snapshot.
        held = s.execute(sa.update(Candidate).where(col(Candidate.id) == cid, col(Candidate.next_check_at) == claim)
                         .values(next_check_at=now)).rowcount  # type: ignore[attr-defined]
        if held != 1:
            log.info("candidate %s: claim lost, its check is not recorded", cid)
            return None
    cand = s.get(Candidate, cid)
    assert cand is not None
    if scored is not None and scored[0] == list(cand.reasons or []):
        best = scored[1]
    else:
        best = _best(ctx, records, brs, rdap, scoring.lexical_points(cand.reasons))
    if best is None:
        assessment = scoring.Assessment(0, Verdict.UNREACHABLE, [])
        rec: dict[str, Any] = {}
    else:
        assessment, rec = best
    gone_said = gone_text(dns, rdap, rec, assessment.page_kind)
    gone_why = gone_said.render("en") if gone_said else ""
    if best is None:
        assessment.reasons.append(Reason.said("unreachable", gone_said or text("capture.nothing_captured"))
                                  .as_dict())
    status = int(rec.get("status") or 0)
    reachable = bool(rec.get("ok")) and status < 400 and not gone_why
    verdict = assessment.verdict
    if gone_why and verdict not in (Verdict.SUSPENDED, Verdict.PHISHING):
        on_hold = any(h.replace("_", " ") in HOLD_STATUSES for h in rdap_statuses(rdap))
        verdict = Verdict.SUSPENDED if on_hold else Verdict.UNREACHABLE
    reasons = list(assessment.reasons)
    if gone_said:
        reasons.append(Reason.said("gone", gone_said).as_dict())
    if "error" in rdap and rdap["error"].startswith("rdap: not available"):
        reasons.append(Reason.said("rdap", text("capture.rdap_unavailable", error=rdap["error"])).as_dict())
    files = rec.get("files") or {}
    snap = Snapshot(
        candidate_id=cid, taken_at=now, dns=dns, rdap=rdap, hosting=hosting,
        capture=_capture_facts(rec, records, assessment.page_kind),
        screenshot_sha256=files.get("screenshot", ""), fullpage_sha256=files.get("fullpage", ""),
        html_sha256=files.get("html", ""), favicon_sha256=files.get("favicon", ""), hashes=_hashes(rec),
        reachable=reachable, gone=bool(gone_why), score=assessment.score, verdict=verdict, reasons=reasons,
        error="" if rec.get("ok") else str(rec.get("error", "") or gone_why)[:500],
    )
    s.add(snap)
    s.flush()
    cand.last_snapshot_id, cand.last_checked_at = snap.id, now
    evidence = None if reachable or not ever_live else live_evidence(s, cid)
    if evidence is None:
        cand.score, cand.verdict = snap.score, verdict
    else:  # gone or unreachable now: the case keeps the score and verdict of its last live capture
        cand.score, cand.verdict = evidence.score, evidence.verdict
    created = (rdap.get("domain") or {}).get("created_at")
    if created and cand.registered_at is None:
        cand.registered_at = parse_date(str(created))
    after_snapshot(s, cand, snap, actor=actor, now=now, recheck_hours=ctx.settings.takedown.recheck_hours,
                   down_confirmations=ctx.settings.takedown.down_confirmations)
    cases.join_same_page(s, cand, snap, now=now, actor=actor)
    record(s, actor, "snapshot.taken", cand, {"snapshot_id": snap.id, "verdict": verdict.value,
                                              "score": snap.score, "gone": snap.gone}, at=now)
    return snap


def check_candidate(ctx: Context, candidate_id: int, actor: str = "system") -> Snapshot:
    """Check one candidate now (the dashboard's "re-check now", the CLI, the demo)."""
    snaps = check_candidates(ctx, [candidate_id], actor)
    if not snaps:
        raise KeyError(f"no candidate {candidate_id}")
    return snaps[0]


_REFERENCE_TRIES: dict[tuple[str, str], Any] = {}  # (database, brand) -> last try, in this process


def ensure_references(ctx: Context) -> dict[str, Any]:
    """Capture the reference pages of brands that have none yet (a new deployment), at most hourly:
    without them the visual, logo and HTML signals cannot fire."""
    from watcher.capture.references import capture_references

    now = ctx.now()
    with ctx.session() as s:
        missing = [b.slug for b in s.exec(select(Brand)) if not b.references
                   and (b.spec.get("reference_pages") or b.spec.get("login_pages"))]
    out: dict[str, Any] = {}
    for slug in missing:
        key = (ctx.settings.database_url, slug)
        last = _REFERENCE_TRIES.get(key)
        if last is not None and now - last < timedelta(hours=1):
            continue
        _REFERENCE_TRIES[key] = now
        try:
            out[slug] = capture_references(ctx, slug).get(slug, {})
        except Exception as e:
            out[slug] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return out


def claim_due(ctx: Context, *, limit: int, ids: Sequence[int] | None = None) -> tuple[list[int], datetime]:
    """Claim due candidates (or those of ``ids`` that are due) for one checker: their ``next_check_at``
    moves to a claim time ``tasks.claim_seconds`` ahead, unique to this claim, with one conditional
    UPDATE. Nobody else claims them until then; a checker that dies frees them when the claim passes.
    Returns the ids this claim holds and the claim (the token its checks must present)."""
    now = ctx.now()
    claim = now + timedelta(seconds=ctx.settings.tasks.claim_seconds, microseconds=secrets.randbelow(1_000_000))
    due_q = select(Candidate.id).where(col(Candidate.next_check_at).is_not(None), col(Candidate.next_check_at) <= now,
                                       Candidate.status != S.DISMISSED)
    if ids is not None:
        due_q = due_q.where(col(Candidate.id).in_(list(ids)))
    with ctx.session() as s:
        due = [c for c in s.exec(due_q.order_by(col(Candidate.next_check_at)).limit(limit)) if c is not None]
        if not due:
            return [], claim
        s.execute(sa.update(Candidate).where(col(Candidate.id).in_(due), col(Candidate.next_check_at) <= now)
                  .values(next_check_at=claim))
        s.commit()
        held = [c for c in s.exec(select(Candidate.id).where(col(Candidate.id).in_(due),
                                                             col(Candidate.next_check_at) == claim)) if c is not None]
    order = {c: i for i, c in enumerate(due)}
    return sorted(held, key=order.__getitem__), claim


def check_claimed(ctx: Context, ids: list[int], claim: datetime, actor: str = "system") -> list[Snapshot]:
    """One claimed batch (a task): the references first if a brand has none, then the checks."""
    ensure_references(ctx)
    return check_candidates(ctx, ids, actor, claim=claim)


def run_due(ctx: Context) -> dict[str, Any]:
    """The job: every candidate whose next check is due, in crawler batches of ``crawl.batch_size``."""
    size = ctx.settings.crawl.batch_size
    ids, claim = claim_due(ctx, limit=size * 5)
    summary: dict[str, Any] = {"due": len(ids), "checked": 0, "errors": 0, "verdicts": {}}
    if ids:
        refs = ensure_references(ctx)
        if refs:
            summary["references"] = refs
    for i in range(0, len(ids), size):
        batch = ids[i: i + size]
        if ctx.run.stopping:
            release_claim(ctx, ids[i:], claim)  # what was not checked is due again at once
        ctx.run.check()  # a batch is finished whole or not started; what was not checked stays due
        try:
            snaps = check_candidates(ctx, batch, claim=claim)
        except JobStopped:
            release_claim(ctx, ids[i:], claim)
            raise
        except Exception as e:  # one broken batch is data; the next batch still runs
            log.exception("snapshot batch failed")
            release_claim(ctx, batch, claim)
            summary["errors"] += len(batch)
            summary.setdefault("error", f"{type(e).__name__}: {e}"[:300])
            continue
        for sn in snaps:
            summary["checked"] += 1
            summary["verdicts"][sn.verdict.value] = summary["verdicts"].get(sn.verdict.value, 0) + 1
    return summary


def release_claim(ctx: Context, ids: list[int], claim: datetime) -> int:
    """Give candidates back (due now) that this claim holds and will not check."""
    if not ids:
        return 0
    with ctx.session() as s:
        n = s.execute(sa.update(Candidate).where(col(Candidate.id).in_(ids), col(Candidate.next_check_at) == claim)
                      .values(next_check_at=ctx.now())).rowcount  # type: ignore[attr-defined]
        s.commit()
    return int(n or 0)

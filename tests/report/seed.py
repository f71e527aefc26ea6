"""A week of cases, made through the same functions the jobs use (cases.assign, triage.transition).

Six sites, eleven hostnames, eleven e-mails — the numbers management must see are per site:
- A ``hoshizora-login.top`` + ``www.``: confirmed by a person, 3 requests, down 5 h after sending.
- B ``hz-sec.xyz``: confirmed by the auto rule, 2 requests, down after 9 h.
- C ``k3v9q.xyz``: confirmed in the dashboard, 3 requests, down after 30 h.
- D ``hoshizora-sec.co.jp.login-check.cn`` + ``www.``: confirmed by a person, still up; one request
  failed, one draft waits for approval.
- E ``hoshizora-secure.top``: scored 80, nobody has decided yet.
- F ``hoshizora-sec.co``: a parked permutation, watched.

Blocklists (``BlocklistSubmission``, as the ``blocklists`` job writes them): A listed 1.5 h after its
first submission (Netcraft first, Web Risk later), B 0.5 h after; C's only submission was refused, so it
has no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from watcher.capture import triage
from watcher.core import cases
from watcher.core.models import (
    BlocklistStatus,
    BlocklistSubmission,
    Brand,
    Candidate,
    CandidateStatus,
    RecipientKind,
    RequestStatus,
    Snapshot,
    Source,
    TakedownRequest,
    Verdict,
)

S = CandidateStatus


def _cand(s: Session, brand_id: int, domain: str, at: datetime, *, score: int = 75, source: Source = Source.CT,
          verdict: Verdict = Verdict.PHISHING) -> Candidate:
    c = Candidate(domain=domain, registrable=".".join(domain.split(".")[-2:]), brand_id=brand_id, source=source,
                  score=score, verdict=verdict, first_seen_at=at, last_seen_at=at, status_changed_at=at,
                  urls=[f"https://{domain}/login"])
    s.add(c)
    s.flush()
    cases.assign(s, c, now=at)
    snap = Snapshot(candidate_id=c.id, taken_at=at, reachable=True, score=score, verdict=verdict,
                    dns={"name": domain, "records": {"A": ["203.0.113.10"]}, "statuses": {}},
                    capture={"final_url": f"https://{domain}/login"})
    s.add(snap)
    s.flush()
    c.last_snapshot_id = snap.id
    return c


def _to(s: Session, c: Candidate, path: list[CandidateStatus], at: datetime, actor: str) -> None:
    for st in path:
        triage.transition(s, c, st, actor=actor, now=at)


def _req(s: Session, c: Candidate, recipient: str, kind: RecipientKind, status: RequestStatus,
         sent: datetime | None, closed: datetime | None = None, error: str = "") -> TakedownRequest:
    r = TakedownRequest(candidate_id=c.id, recipient=recipient, recipient_kind=kind, status=status, sent_at=sent,
                        closed_at=closed, subject=f"Phishing site {c.domain}", body="…", last_error=error,
                        time_to_down_seconds=(closed - sent).total_seconds() if closed and sent else None,
                        message_id=f"<{c.id}.{recipient}@omamori.test>" if sent else "")
    s.add(r)
    return r


def _listing(s: Session, c: Candidate, service: str, submitted: datetime, listed: datetime | None,
             status: BlocklistStatus = BlocklistStatus.LISTED) -> None:
    assert c.id is not None
    s.add(BlocklistSubmission(candidate_id=c.id, service=service, url=c.urls[0], status=status,
                              submitted_at=submitted, listed_at=listed,
                              time_to_listed_seconds=(listed - submitted).total_seconds() if listed else None))


def seed_week(ctx) -> dict[str, int]:
    now = ctx.now()
    with ctx.session() as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        bid = brand.id
        d = timedelta
        three = [("abuse@registrar.test", RecipientKind.REGISTRAR), ("abuse@host.test", RecipientKind.HOSTING),
                 ("phishing@cert.test", RecipientKind.CERT)]
        ids: dict[str, int] = {}
        for key, domains, seen, actor, sent_ago, down_after, n in (
                ("A", ["hoshizora-login.top", "www.hoshizora-login.top"], d(days=4), "cli:analyst", d(days=3), 5, 3),
                ("B", ["hz-sec.xyz"], d(days=3), "auto-rule", d(days=2, hours=12), 9, 2),
                ("C", ["k3v9q.xyz"], d(days=3), "dashboard:demo", d(days=2), 30, 3)):
            cands = [_cand(s, bid, dom, now - seen) for dom in domains]
            sent = now - sent_ago
            down = sent + d(hours=down_after)
            for c in cands:
                _to(s, c, [S.CHECKED], now - seen + d(minutes=5), "system")
            _to(s, cands[0], [S.CONFIRMED], sent - d(minutes=10), actor)
            for c in cands:
                if c.status != S.CONFIRMED:
                    _to(s, c, [S.CONFIRMED], sent - d(minutes=9), actor)
                _to(s, c, [S.REPORTED], sent, "takedown-policy")
            for recipient, kind in three[:n]:
                _req(s, cands[0], recipient, kind, RequestStatus.CLOSED, sent, down)
            for c in cands:
                _to(s, c, [S.DOWN], down, "takedown-policy")
            ids[key] = cands[0].case_id or 0
            b = sent + d(minutes=2)
            if key == "A":
                _listing(s, cands[1], "netcraft", b, b + d(hours=1, minutes=30))
                _listing(s, cands[0], "webrisk", b + d(minutes=1), b + d(hours=3))
            elif key == "B":
                _listing(s, cands[0], "webrisk", b, b + d(minutes=30))
            else:
                _listing(s, cands[0], "apwg", b, None, BlocklistStatus.FAILED)
        dd = [_cand(s, bid, dom, now - d(days=1)) for dom in
              ["hoshizora-sec.co.jp.login-check.cn", "www.hoshizora-sec.co.jp.login-check.cn"]]
        for c in dd:
            _to(s, c, [S.CHECKED], now - d(hours=23), "system")
        _to(s, dd[0], [S.CONFIRMED], now - d(hours=20), "cli:analyst")
        _req(s, dd[0], "abuse@cnregistrar.test", RecipientKind.REGISTRAR, RequestStatus.FAILED, None,
             error="550 5.1.1 mailbox unavailable")
        _req(s, dd[0], "abuse@cnhost.test", RecipientKind.HOSTING, RequestStatus.DRAFT, None)
        ids["D"] = dd[0].case_id or 0
        e = _cand(s, bid, "hoshizora-secure.top", now - d(hours=6), score=80)
        _to(s, e, [S.CHECKED], now - d(hours=5), "system")
        ids["E"] = e.case_id or 0
        f = _cand(s, bid, "hoshizora-sec.co", now - d(days=2), score=10, source=Source.PERMUTATION,
                  verdict=Verdict.PARKED)
        _to(s, f, [S.WATCHING], now - d(days=2), "system")
        ids["F"] = f.case_id or 0
        s.commit()
    return ids

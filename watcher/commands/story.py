"""``omamori run --story``: the terminal tells what happens, one line per thing a person cares about.

Found, captured (a page that looks like phishing), confirmed, sent, down, the firm's own findings,
and errors: read from the audit log (Event), the same truth the dashboard shows, so the story cannot
say something the database does not. Routine lookalikes (parked permutations) are counted, not listed
one by one, and everything else the service logs goes to the log file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.context import Context
from watcher.core.models import Candidate, Event, Finding, FindingGroup, FindingKind, TakedownRequest
from watcher.core.names import show_name
from watcher.core.texts import render_stored

WATCHED = ("candidate.discovered", "snapshot.taken", "candidate.status", "takedown.sent", "finding.opened",
           "job.failed", "error.logged")
OWNED_KINDS = {k.value for k in (*FindingKind.of_group(FindingGroup.OWNED), *FindingKind.of_group(FindingGroup.MAIL))}
# Verdicts worth a line when a capture shows them; parked and unreachable pages are routine.
SHOWN_VERDICTS = ("phishing", "suspicious")


class Story:
    """Turns new Events into story lines (``lines``); ``run`` prints them every ``poll`` seconds."""

    def __init__(self, ctx: Context, emit: Callable[[str], None] = print) -> None:
        self.ctx = ctx
        self.emit = emit
        self.last_id = 0
        self.official = [d for b in ctx.brands for d in b.official_domains]
        self.said_verdict: dict[int, str] = {}

    def start_from_now(self) -> None:
        with Session(self.ctx.engine) as s:
            newest = s.exec(select(Event.id).order_by(col(Event.id).desc()).limit(1)).first()
        self.last_id = int(newest or 0)

    def _name(self, domain: str) -> str:
        shown = show_name(domain, self.official)
        out = shown.plain()
        if shown.looks_like:
            out += f" — looks like {shown.looks_like}"
        return out

    def lines(self) -> list[str]:
        with Session(self.ctx.engine) as s:
            events = list(s.exec(select(Event).where(col(Event.id) > self.last_id, col(Event.action).in_(WATCHED))
                                 .order_by(col(Event.id)).limit(2000)))
            if not events:
                return []
            self.last_id = int(events[-1].id or self.last_id)
            ids = {e.object_id for e in events if e.object_type == "candidate" and e.object_id}
            cands = {c.id: c for c in s.exec(select(Candidate).where(col(Candidate.id).in_(ids)))} if ids else {}
            req_ids = {e.object_id for e in events if e.object_type == "takedownrequest" and e.object_id}
            reqs = ({r.id: r for r in s.exec(select(TakedownRequest).where(col(TakedownRequest.id).in_(req_ids)))}
                    if req_ids else {})
            fids = {e.object_id for e in events if e.object_type == "finding" and e.object_id}
            findings = {f.id: f for f in s.exec(select(Finding).where(col(Finding.id).in_(fids)))} if fids else {}
            req_domains = {r.id: s.get(Candidate, r.candidate_id) for r in reqs.values()}
        out: list[str] = []
        found: Counter[str] = Counter()
        owned: Counter[str] = Counter()
        for e in events:
            line = self._line(e, cands, reqs, req_domains, findings, found, owned)
            if line:
                out.append(f"{_clock(e.at)}  {line}")
        if owned:
            out.append(f"{_clock(events[-1].at)}  owned     " + ", ".join(
                f"{owned[sev]} {sev}" for sev in ("critical", "high", "medium", "low", "info") if owned[sev])
                + " finding(s) about our own domains (dashboard: owned domains, mail authentication)")
        if found:
            out.append(f"{_clock(events[-1].at)}  found     " + ", ".join(f"{n} lookalike(s) by {src}"
                                                                     for src, n in found.items())
                       + " (parked or not checked yet: the dashboard lists them)")
        return out

    def _line(self, e: Event, cands: dict[Any, Candidate], reqs: dict[Any, TakedownRequest],
              req_domains: dict[Any, Candidate | None], findings: dict[Any, Finding], found: Counter[str],
              owned: Counter[str]) -> str:
        d = e.detail or {}
        cand = cands.get(e.object_id)
        if e.action == "candidate.discovered" and cand is not None:
            src = str(d.get("source", ""))
            if src in ("permutation", "dropcatch", "pivot") and cand.match_points < 60:
                found[src] += 1  # routine: counted in one line
                return ""
            return f"found     {self._name(cand.domain)} (from {src})"
        if e.action == "snapshot.taken" and cand is not None:
            verdict = str(d.get("verdict", ""))
            if verdict not in SHOWN_VERDICTS or self.said_verdict.get(cand.id or 0) == verdict:
                return ""
            self.said_verdict[cand.id or 0] = verdict
            return f"captured  {self._name(cand.domain)}: {verdict}, score {d.get('score', 0)}"
        if e.action == "candidate.status" and cand is not None:
            to = str(d.get("to", ""))
            who = "auto rule" if e.actor.startswith("auto") else e.actor
            if to == "confirmed":
                return f"confirmed {self._name(cand.domain)} by {who}"
            if to == "down":
                return f"down      {self._name(cand.domain)}: the site is gone"
            if to == "dismissed":
                return f"dismissed {self._name(cand.domain)} by {who}"
            return ""
        if e.action == "takedown.sent":
            req = reqs.get(e.object_id)
            target = req_domains.get(e.object_id)
            if req is None:
                return ""
            about = f" about {target.domain}" if target is not None else ""
            return f"sent      TD-{req.id} to {req.recipient} ({req.recipient_kind.value}){about}"
        if e.action == "finding.opened":
            f = findings.get(e.object_id)
            kind = str(d.get("kind", ""))
            if f is None or kind not in OWNED_KINDS:
                return ""
            owned[f.severity.value] += 1
            if f.severity.value != "critical":
                return ""  # counted in one line; a critical one is named
            title = render_stored(f.title_text, "en", fallback=f.title)
            return f"owned     [critical] {kind} {f.subject}: {title}"
        if e.action == "job.failed":
            return f"ERROR     job {d.get('job', '')} failed: {str(d.get('error', ''))[:160]} (health view, log file)"
        if e.action == "error.logged":
            return f"ERROR     {str(d.get('message', ''))[:160]} (health view, log file)"
        return ""

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        self.start_from_now()
        while not stop.wait(poll):
            try:
                for line in self.lines():
                    self.emit(line)
            except Exception as e:  # the story is a view: a failed read is said once and retried
                self.emit(f"(story: could not read the database: {type(e).__name__}: {e})")


def _clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}"


def start(ctx: Context, stop: threading.Event, emit: Callable[[str], None] = print) -> threading.Thread:
    story = Story(ctx, emit)
    t = threading.Thread(target=story.run, args=(stop,), name="omamori-story", daemon=True)
    t.start()
    return t

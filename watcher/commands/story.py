"""``omamori run --story``: the terminal tells what happens, one line per thing a person cares about.

Found, captured (a page that looks like phishing), confirmed, sent, down, the firm's own findings,
and errors: read from the audit log (Event), the same truth the dashboard shows, so the story cannot
say something the database does not. Routine lookalikes (parked permutations) are counted, not listed
one by one, and everything else the service logs goes to the log file.

Things of one kind that happen together are told together: the lines of a kind are held for
``WINDOW`` seconds after the first, then said as one ("captured  3: a 95, b 95, c 100"), requests
sent are told per case, and the own-domain findings (which every owned job opens in bursts) are
counted over ``OWNED_WINDOW``; errors and critical findings are said at once. A demo's whole story
(seven sites found, captured, confirmed, reported, down; a few dozen own findings) fits one screen.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from watcher.context import Context
from watcher.core.models import Candidate, Event, Finding, FindingGroup, FindingKind, TakedownRequest
from watcher.core.names import show_name
from watcher.core.texts import render_stored, t, word

WATCHED = ("candidate.discovered", "snapshot.taken", "candidate.status", "takedown.sent", "finding.opened",
           "job.failed", "error.logged")
OWNED_KINDS = {k.value for k in (*FindingKind.of_group(FindingGroup.OWNED), *FindingKind.of_group(FindingGroup.MAIL))}
# Verdicts worth a line when a capture shows them; parked and unreachable pages are routine.
SHOWN_VERDICTS = ("phishing", "suspicious")
WINDOW = 10.0  # seconds a kind's lines wait for company
OWNED_WINDOW = 60.0
VERBS = ("found", "captured", "confirmed", "sent", "down", "dismissed")


class Story:
    """Turns new Events into story lines (``lines``); ``run`` prints them every ``poll`` seconds."""

    def __init__(self, ctx: Context, emit: Callable[[str], None] = print, lang: str | None = None) -> None:
        self.ctx = ctx
        self.emit = emit
        self.lang = lang or ctx.settings.service.language  # the operator's language, as the dashboard's default
        self.last_id = 0
        self.official = [d for b in ctx.brands for d in b.official_domains]
        self.said_verdict: dict[int, str] = {}
        # verb -> (monotonic time of the first held item, [(clock, item)]); sent items are per case
        self.held: dict[str, tuple[float, list[tuple[str, str]]]] = {}
        self.sent: dict[str, list[str]] = {}  # case name -> "TD-1 registrar", in order
        self.owned: Counter[str] = Counter()
        self.owned_since: float | None = None
        self.owned_clock = ""
        self.found: Counter[str] = Counter()
        self.found_since: float | None = None
        self.found_clock = ""

    def start_from_now(self) -> None:
        with Session(self.ctx.engine) as s:
            newest = s.exec(select(Event.id).order_by(col(Event.id).desc()).limit(1)).first()
        self.last_id = int(newest or 0)

    def _name(self, domain: str) -> str:
        shown = show_name(domain, self.official)
        out = shown.plain()
        if shown.looks_like:
            out = self._t("story.looks_like", name=out, official=shown.looks_like)
        return out

    def _sep(self) -> str:
        return "、" if self.lang == "ja" else ", "

    def _t(self, key: str, **params: Any) -> str:
        return t(key, self.lang, **params)

    def _word(self, kind: str, value: str) -> str:
        """A vocabulary word (a source, a verdict, a recipient kind, a severity) in the story's language: the
        catalogue's shared one (``texts.WORDS``), as the terminal and the dashboard say it."""
        return word(kind, value, self.lang)

    def _verb(self, verb: str) -> str:
        shown = self._t(f"story.verb.{verb.lower()}")
        # Japanese letters take two columns of a terminal: pad to the same width as the English verbs.
        width = sum(2 if ord(c) > 0x2E80 else 1 for c in shown)
        return shown + " " * max(1, 10 - width)

    def _at(self, clock: str, verb: str, said: str) -> str:
        return f"{clock}  {self._verb(verb)}{said}"

    def lines(self, *, flush: bool = False) -> list[str]:
        """What to print now: errors and critical findings at once, the rest when its window is over
        (``flush``: everything held, as at the end)."""
        out = self._read()
        now = time.monotonic()
        for verb in VERBS:
            if verb in self.held and (flush or now - self.held[verb][0] >= WINDOW):
                out.append(self._said(verb, self.held.pop(verb)[1]))
        if self.owned and (flush or now - (self.owned_since or now) >= OWNED_WINDOW):
            counts = self._sep().join(self._t("story.counted", word=self._word("severity", sev), n=self.owned[sev])
                               for sev in ("critical", "high", "medium", "low", "info") if self.owned[sev])
            out.append(self._at(self.owned_clock, "owned", self._t("story.owned", counts=counts)))
            self.owned.clear()
            self.owned_since = None
        if self.found and (flush or now - (self.found_since or now) >= OWNED_WINDOW):
            counts = self._sep().join(self._t("story.found_by", n=n, source=self._word("source", src))
                               for src, n in self.found.items())
            out.append(self._at(self.found_clock, "found", self._t("story.found_counted", counts=counts)))
            self.found.clear()
            self.found_since = None
        return out

    def _said(self, verb: str, items: list[tuple[str, str]]) -> str:
        clock = items[0][0]
        if verb == "sent":
            cases = list(dict.fromkeys(i for _, i in items))
            n = sum(len(self.sent[c]) for c in cases)
            said = "; ".join(f"{c}: {self._sep().join(self.sent.pop(c))}" for c in cases)
            return self._at(clock, "sent", self._t("story.sent", n=n, said=said))
        if len(items) == 1:
            return self._at(clock, verb, items[0][1])
        return self._at(clock, verb, self._t("story.many", n=len(items), items="; ".join(i for _, i in items)))

    def _hold(self, verb: str, clock: str, item: str) -> None:
        self.held.setdefault(verb, (time.monotonic(), []))[1].append((clock, item))

    def _read(self) -> list[str]:
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
        for e in events:
            said = self._line(e, cands, reqs, req_domains, findings)
            if said is None:
                continue
            verb, item = said
            if verb in VERBS:
                self._hold(verb, _clock(e.at), item)
            else:
                out.append(self._at(_clock(e.at), verb, item))
        return out

    def _line(self, e: Event, cands: dict[Any, Candidate], reqs: dict[Any, TakedownRequest],
              req_domains: dict[Any, Candidate | None], findings: dict[Any, Finding]) -> tuple[str, str] | None:
        """(verb, what) of one event, or None when it is not worth a line (counted ones are counted here)."""
        d = e.detail or {}
        cand = cands.get(e.object_id)
        if e.action == "candidate.discovered" and cand is not None:
            src = str(d.get("source", ""))
            if src in ("permutation", "dropcatch", "pivot") and cand.match_points < 60:
                self.found[src] += 1  # routine: counted in one line
                if self.found_since is None:
                    self.found_since, self.found_clock = time.monotonic(), _clock(e.at)
                return None
            return "found", self._t("story.found", name=self._name(cand.domain), source=self._word("source", src))
        if e.action == "snapshot.taken" and cand is not None:
            verdict = str(d.get("verdict", ""))
            if verdict not in SHOWN_VERDICTS or self.said_verdict.get(cand.id or 0) == verdict:
                return None
            self.said_verdict[cand.id or 0] = verdict
            return "captured", self._t("story.captured", name=self._name(cand.domain),
                                       verdict=self._word("verdict", verdict), score=d.get("score", 0))
        if e.action == "candidate.status" and cand is not None:
            to = str(d.get("to", ""))
            who = self._t("story.auto_rule") if e.actor.startswith("auto") else e.actor
            if to in ("confirmed", "dismissed"):
                return to, self._t(f"story.{to}", name=self._name(cand.domain), who=who)
            if to == "down":
                return "down", self._t("story.down", name=self._name(cand.domain))
            return None
        if e.action == "takedown.sent":
            req = reqs.get(e.object_id)
            target = req_domains.get(e.object_id)
            if req is None:
                return None
            case = target.domain if target is not None else "?"
            self.sent.setdefault(case, []).append(f"TD-{req.id} {self._word('recipient', req.recipient_kind.value)}")
            return "sent", case
        if e.action == "finding.opened":
            f = findings.get(e.object_id)
            kind = str(d.get("kind", ""))
            if f is None or kind not in OWNED_KINDS:
                return None
            self.owned[f.severity.value] += 1
            if self.owned_since is None:
                self.owned_since, self.owned_clock = time.monotonic(), _clock(e.at)
            if f.severity.value != "critical":
                return None  # counted in one line; a critical one is named
            title = render_stored(f.title_text, self.lang, fallback=f.title)
            return "owned", self._t("story.owned_critical", kind=kind, subject=f.subject, title=title)
        if e.action == "job.failed":
            return "ERROR", self._t("story.job_failed", job=d.get("job", ""), error=str(d.get("error", ""))[:160])
        if e.action == "error.logged":
            return "ERROR", self._t("story.error", message=str(d.get("message", ""))[:160])
        return None

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        self.start_from_now()
        while True:
            stopping = stop.wait(poll)
            try:
                for line in self.lines(flush=stopping):  # what is held is said before the service stops
                    self.emit(line)
            except Exception as e:  # the story is a view: a failed read is said once and retried
                self.emit(self._t("story.unreadable", error=f"{type(e).__name__}: {e}"))
            if stopping:
                return


def _clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}"


def start(ctx: Context, stop: threading.Event, emit: Callable[[str], None] = print,
          lang: str | None = None) -> threading.Thread:
    story = Story(ctx, emit, lang)
    t = threading.Thread(target=story.run, args=(stop,), name="omamori-story", daemon=True)
    t.start()
    return t

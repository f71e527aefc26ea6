"""What is worth telling the team: each rule looks at the tables and says which subjects are in an
alert-worthy state now (a ``Signal``). The engine compares that with what it said before.

A subject is a case (``case:12``: one site, however many hostnames) or a finding (``finding:7``);
its state is a short string, and a change of state is a new alert (a finding reopened, a severity
raised, a takedown that went from stalled to failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from takedown.notice import defang
from watcher.context import Context
from watcher.core.casefacts import CONFIRMED, CaseFacts, confirmation, live_cases, requests_of
from watcher.core.models import (
    SEVERITY_ORDER,
    Brand,
    CandidateStatus,
    CaseStatus,
    Finding,
    FindingGroup,
    FindingKind,
    FindingStatus,
    RequestStatus,
    Severity,
)
from watcher.core.texts import Text, text


def rank(sev: Severity | str) -> int:
    return SEVERITY_ORDER.index(Severity(sev))


@dataclass(frozen=True)
class Signal:
    rule: str
    subject: str  # case:ID or finding:ID
    state: str
    severity: Severity
    title: Text
    detail: Text | None = None
    brand_id: int | None = None
    object_type: str = ""
    object_id: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}"


@dataclass
class Look:
    """What the rules of one run share: the session, the brands, the open cases (read once)."""

    ctx: Context
    session: Session
    _cases: list[CaseFacts] | None = None
    _brands: dict[int, Brand] | None = None

    def cases(self) -> list[CaseFacts]:
        if self._cases is None:
            self._cases = live_cases(self.session, status=CaseStatus.OPEN)
        return self._cases

    def brand_name(self, brand_id: int | None) -> str:
        if self._brands is None:
            self._brands = {b.id: b for b in self.session.exec(select(Brand)) if b.id is not None}
        b = self._brands.get(brand_id) if brand_id is not None else None
        return (b.name_ja or b.name) if b else "-"

    def open_findings(self, groups: tuple[FindingGroup, ...]) -> list[Finding]:
        kinds = [k for k in FindingKind if k.group in groups]
        return [f for f in self.session.exec(select(Finding).where(Finding.status == FindingStatus.OPEN))
                if f.kind in kinds]


def _hosts(facts: CaseFacts) -> str:
    return ", ".join(defang(c.domain) for c in facts.hosts[:5]) + (" …" if len(facts.hosts) > 5 else "")


def _case_signal(rule: str, state: str, severity: Severity, title: Text, detail: Text | None,
                 facts: CaseFacts, **more: Any) -> Signal:
    return Signal(rule, f"case:{facts.id}", state, severity, title, detail, facts.case.brand_id, "case", facts.id,
                  {"case": facts.id, "site": defang(facts.site), "hosts": [defang(c.domain) for c in facts.hosts],
                   "score": facts.best_score, **more})


def candidate_confirmed(look: Look) -> list[Signal]:
    """A site confirmed as phishing (by a person or the brand's auto rule), while its case is open."""
    out = []
    for f in look.cases():
        if not f.confirmed:
            continue
        ev = confirmation(look.session, f)
        by = ev.actor if ev else "-"
        status = max((c.status for c in f.hosts if c.status in CONFIRMED), key=list(CandidateStatus).index)
        out.append(_case_signal(
            "candidate_confirmed", "confirmed", Severity.HIGH,
            text("alert.case_confirmed", site=defang(f.site), brand=look.brand_name(f.case.brand_id)),
            text("alert.detail.case", hosts=_hosts(f), status=status.value, by=by), f, confirmed_by=by))
    return out


def candidate_high_score(look: Look) -> list[Signal]:
    """A site nobody has confirmed yet whose best capture scores at least ``alerts.high_score``."""
    threshold = look.ctx.settings.alerts.high_score
    out = []
    for f in look.cases():
        if f.confirmed:
            continue
        best = max((c for c in f.hosts if c.status == CandidateStatus.CHECKED), key=lambda c: c.score, default=None)
        if best is None or best.score < threshold:
            continue
        out.append(_case_signal(
            "candidate_high_score", "checked", Severity.MEDIUM,
            text("alert.case_high_score", site=defang(f.site), brand=look.brand_name(f.case.brand_id),
                 score=best.score),
            text("alert.detail.candidate", hosts=_hosts(f), verdict=best.verdict.value, source=best.source.value),
            f))
    return out


def approval_waiting(look: Look) -> list[Signal]:
    """Takedown requests drafted for a site and waiting for a person to approve them."""
    out = []
    for f in look.cases():
        drafts = [r for r in requests_of(look.session, f) if r.status == RequestStatus.DRAFT]
        if not drafts:
            continue
        out.append(_case_signal(
            "approval_waiting", "draft", Severity.MEDIUM,
            text("alert.approval_waiting", n=len(drafts), site=defang(f.site)),
            text("alert.detail.drafts", recipients=", ".join(sorted({r.recipient for r in drafts}))), f,
            drafts=[r.id for r in drafts]))
    return out


_STALL_WHY = {
    FindingKind.TAKEDOWN_STALLED: "stalled",
    FindingKind.TAKEDOWN_SEND_UNCERTAIN: "uncertain",
    FindingKind.TAKEDOWN_NO_RECIPIENT: "no_recipient",
}


def takedown_stalled(look: Look) -> list[Signal]:
    """A site whose takedown is stuck: a request failed, or a takedown Finding is open for a hostname."""
    by_domain: dict[str, list[Finding]] = {}
    for fnd in look.open_findings((FindingGroup.TAKEDOWN,)):
        by_domain.setdefault(fnd.subject, []).append(fnd)
    out = []
    for f in look.cases():
        whys: set[str] = set()
        details: list[str] = []
        for c in f.hosts:
            for fnd in by_domain.get(c.domain, []):
                whys.add(_STALL_WHY.get(fnd.kind, fnd.kind.value.removeprefix("takedown_")))
                details.append(fnd.title)
        failed = [r for r in requests_of(look.session, f) if r.status == RequestStatus.FAILED]
        if failed:
            whys.add("failed")
            details += [f"{r.recipient}: {r.last_error[:200]}" for r in failed]
        if not whys:
            continue
        state = "+".join(sorted(whys))
        worst = min(whys, key=lambda w: _WHY_ORDER.index(w) if w in _WHY_ORDER else len(_WHY_ORDER))
        why = text(f"alert.why.{worst}") if worst in _WHY_ORDER else text("alert.why.other", what=worst)
        out.append(_case_signal(
            "takedown_stalled", state, Severity.HIGH,
            text("alert.takedown_stalled", site=defang(f.site), why=why),
            text("alert.detail.stalled", detail="; ".join(details)[:1000]), f, why=sorted(whys)))
    return out


# The reason named in the title when several apply: the one a person must act on first.
_WHY_ORDER = ("failed", "bounced", "uncertain", "no_recipient", "stalled")


def _finding_signal(rule: str, title_key: str, fnd: Finding) -> Signal:
    title: Any = fnd.title_text or fnd.title
    detail: Any = fnd.detail_text or fnd.detail or "-"
    return Signal(rule, f"finding:{fnd.id}", f"open#{fnd.times_opened}:{fnd.severity.value}", fnd.severity,
                  text(title_key, title=title), text("alert.detail.finding", subject=fnd.subject,
                                                     severity=fnd.severity.value, detail=detail),
                  fnd.brand_id, "finding", fnd.id,
                  {"finding": fnd.id, "kind": fnd.kind.value, "subject": fnd.subject})


def owned_finding(look: Look) -> list[Signal]:
    """Every high or critical Finding about the firm's own domains and mail authentication."""
    return [_finding_signal("owned_finding", "alert.owned_finding", fnd)
            for fnd in look.open_findings((FindingGroup.OWNED, FindingGroup.MAIL))
            if rank(fnd.severity) >= rank(Severity.HIGH)]


def self_finding(look: Look) -> list[Signal]:
    """Every Finding of omamori about itself: a CT log that lags, a silent feed, a failing job."""
    return [_finding_signal("self_finding", "alert.self_finding", fnd)
            for fnd in look.open_findings((FindingGroup.SELF,))]


@dataclass(frozen=True)
class Rule:
    name: str  # the `what` of an [[alerts.rules]] entry
    find: Callable[[Look], list[Signal]]
    summary: str


RULES: tuple[Rule, ...] = (
    Rule("candidate_confirmed", candidate_confirmed, "a site confirmed as phishing"),
    Rule("candidate_high_score", candidate_high_score, "a high-scoring candidate nobody has confirmed yet"),
    Rule("approval_waiting", approval_waiting, "takedown requests waiting for approval"),
    Rule("takedown_stalled", takedown_stalled, "a takedown that failed or stalled"),
    Rule("owned_finding", owned_finding, "a high or critical finding about our domains or mail"),
    Rule("self_finding", self_finding, "omamori itself: CT log lag, silent feed, failing job"),
)


def rule(name: str) -> Rule:
    for r in RULES:
        if r.name == name:
            return r
    raise KeyError(f"no alert rule {name!r}; rules are: {', '.join(r.name for r in RULES)}")

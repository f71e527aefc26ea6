"""Every letter omamori would write about the seeded world, in Japanese, has no English left.

For each case with evidence (the exact clone, the homoglyph, the for-sale page, a taken-down case...)
the request to each kind of recipient and its reminder are written as the outbox would write them, in
Japanese, and read for English words (tests/dashboard/english.py takes out URLs, names and the
technical terms a Japanese analyst reads as they are). The confirmation's second step (the claims the
letters will make, the recipients, why an expected one is missing) is read the same way. The views
are read in a real browser by test_dashboard_browser.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from takedown import contacts, notice
from tests.dashboard.english import english_words
from tests.dashboard.seed import Seeded
from watcher.context import Context
from watcher.core.models import Candidate
from watcher.core.reasons import reason_text
from watcher.takedowns.facts import evidence_files, facts_for, latest_snapshot
from watcher.takedowns.requests import preview_confirm

KINDS = (contacts.REGISTRAR, contacts.HOSTING, contacts.CDN, contacts.CERT, contacts.OTHER)


def test_every_letter_and_every_confirmation_review_is_japanese_only(world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    left: dict[str, list[str]] = {}
    written = 0
    with ctx.session() as s:
        for cand in s.exec(select(Candidate).order_by(Candidate.id)):
            snap = latest_snapshot(s, cand)
            if snap is None:
                continue
            facts = facts_for(ctx, s, cand, snap, reference="TD-1", auto=cand.domain.endswith(".top"),
                              evidence=evidence_files(ctx, s, cand, snap))
            letters = {f"request to {k}": notice.body(facts, "ja", k, "ご担当者") for k in KINDS}
            letters["subject"] = notice.subject(facts, "ja")
            letters["reminder"] = notice.reminder_body(facts, "ja", "ご担当者", sent_at=ctx.now() - timedelta(days=2),
                                                       checked_at=ctx.now())
            p = preview_confirm(ctx, s, cand)
            letters["confirmation review"] = "\n".join(
                [*(reason_text(c, "ja") for c in p.claims),
                 *(why.render("ja") for _, why in p.missing)])
            for what, body in letters.items():
                written += 1
                if found := english_words(body):
                    left[f"{cand.domain}: {what}"] = found[:5]
    assert written >= 8 * 7, written  # every case with evidence, every kind of letter
    assert not left, "\n".join(f"{k}: {v}" for k, v in left.items())

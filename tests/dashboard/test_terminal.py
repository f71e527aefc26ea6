"""The terminal answers the analyst's questions too: `omamori candidates list|show`, `omamori status`
with totals, severities and "N more", and the story `omamori run --story` prints (seeded database)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.dashboard.english import english_words
from tests.dashboard.seed import Seeded
from watcher.cli import app
from watcher.commands import invocation
from watcher.commands.story import Story
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import Candidate, TakedownRequest


def _cli(ctx: Context, *args: str) -> str:
    invocation.pin(ctx)
    try:
        out = CliRunner().invoke(app, list(args))
    finally:
        invocation.pin(None)
    assert out.exit_code == 0, out.output
    return out.output


def test_candidates_list_waits_first_filters_and_says_how_many_more(world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    got = json.loads(_cli(ctx, "candidates", "list", "--json"))
    assert got["total"] == 7 and {c["status"] for c in got["candidates"]} <= {"new", "checked"}
    scores = [c["score"] for c in got["candidates"]]
    assert scores == sorted(scores, reverse=True)
    closed = json.loads(_cli(ctx, "candidates", "list", "--scope", "closed", "--json"))
    assert closed["candidates"] and {c["status"] for c in closed["candidates"]} <= {"down", "dismissed"}
    every = json.loads(_cli(ctx, "candidates", "list", "--scope", "all", "--json"))["candidates"]
    live = [c["status"] in ("down", "dismissed") for c in every]
    assert live == sorted(live)  # closed cases after the live ones
    text = _cli(ctx, "candidates", "list", "--scope", "all", "--limit", "3")
    assert "… and 13 more" in text
    only = json.loads(_cli(ctx, "candidates", "list", "--scope", "all", "--contains", "cafe", "--json"))
    assert [c["domain"] for c in only["candidates"]] == ["kaede-cafe.jp"]


def test_candidates_show_gives_the_evidence_and_reasons_in_the_asked_language(world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    got = json.loads(_cli(ctx, "candidates", "show", "hoshizora-sec-login.top", "--json"))
    assert got["id"] == ids.candidates["hoshizora-sec-login.top"] and got["evidence"]["screenshot_sha256"]
    assert got["reasons"]
    text = _cli(ctx, "candidates", "show", str(got["id"]), "--lang", "ja")
    assert "hoshizora-sec-login.top" in text and "evidence: snapshot" in text


def test_status_shows_totals_every_severity_first_and_how_many_more(world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    text = _cli(ctx, "status")
    assert "candidates: 16 in all" in text
    assert "[critical] takeover_cname campaign.hoshizora-sec.co.jp" in text  # not eaten as markup
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("[")]
    assert lines[0].strip().startswith("[critical]")
    assert "open findings:" in text and "critical=1" in text


def test_the_story_tells_what_happened_in_lines_a_person_reads(world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    story = Story(ctx, lang="en")
    story.start_from_now()
    cid = ids.candidates["hoshizora-sec-login.top"]
    with ctx.transaction() as s:
        cand = s.get(Candidate, cid)
        record(s, "auto-rule", "candidate.status", cand, {"from": "checked", "to": "confirmed"})
        record(s, "snapshot", "candidate.status", cand, {"from": "reported", "to": "down"})
        record(s, "omamori", "error.logged", ("log", None), {"message": "job snapshot: database is locked"})
    assert [ln.split(None, 2)[1] for ln in story.lines()] == ["ERROR"]  # an error at once; the rest waits
    lines = story.lines(flush=True)
    assert [ln.split(None, 2)[1] for ln in lines] == ["confirmed", "down"]
    assert "hoshizora-sec-login.top by auto rule" in lines[0]
    assert story.lines(flush=True) == []  # each event is told once


def test_the_story_tells_things_that_happen_together_in_one_line(world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    story, japanese = Story(ctx, lang="en"), Story(ctx, lang="ja")
    story.start_from_now()
    japanese.start_from_now()
    names = ("hoshizora-sec-login.top", "www-hoshizora-sec-co-jp.k7x2.top", "k3v9q.xyz")
    with ctx.transaction() as s:
        for name in names:
            cand = s.get(Candidate, ids.candidates[name])
            record(s, "auto-rule", "candidate.status", cand, {"from": "checked", "to": "confirmed"})
        for rid in list(ids.requests.values())[:3]:
            req = s.get(TakedownRequest, rid)
            record(s, "takedowns", "takedown.sent", req, {})
    lines = story.lines(flush=True)
    assert [ln.split(None, 2)[1] for ln in lines] == ["confirmed", "sent"]
    assert lines[0].split(None, 3)[2] == "3:" and all(n in lines[0] for n in names)
    assert "3 request(s)" in lines[1] and "TD-" in lines[1]
    # The operator's language (service.language): the same story in Japanese, no English word left.
    ja = japanese.lines(flush=True)
    assert [ln.split(None, 2)[1] for ln in ja] == ["確定", "送信"]
    assert "自動ルール" in ja[0] and "依頼 3 件" in ja[1]
    assert not english_words("\n".join(ja)), ja

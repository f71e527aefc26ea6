"""The terminal answers the analyst's questions too: `omamori candidates list|show`, `omamori status`
with totals, severities and "N more", and the story `omamori run --story` prints (seeded database);
in the reader's language (the seeded config says Japanese; `--lang en` asks for English)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.dashboard.english import english_words
from tests.dashboard.seed import Seeded
from tests.dashboard.test_japanese_views import ALLOWED_DATA
from watcher.cli import app
from watcher.commands import invocation
from watcher.commands.story import Story
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import Candidate, TakedownRequest


def _cli(ctx: Context, *args: str, code: int = 0) -> str:
    invocation.pin(ctx)
    try:
        out = CliRunner().invoke(app, list(args))
    finally:
        invocation.pin(None)
    assert out.exit_code == code, out.output
    return out.output


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wide terminal: a table cell cut mid-word would read as a stray English fragment.
    # (rich's private _width: setting .width would outlive the test as a fixed 80 columns for every later one)
    for console in (invocation.console, invocation.err):
        monkeypatch.setattr(console, "_width", 300)


def test_candidates_list_waits_first_filters_and_says_how_many_more(world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    got = json.loads(_cli(ctx, "--lang", "en", "candidates", "list", "--json"))
    assert got["total"] == 7 and {c["status"] for c in got["candidates"]} <= {"new", "checked"}
    scores = [c["score"] for c in got["candidates"]]
    assert scores == sorted(scores, reverse=True)
    closed = json.loads(_cli(ctx, "candidates", "list", "--scope", "closed", "--json"))
    assert closed["candidates"] and {c["status"] for c in closed["candidates"]} <= {"down", "dismissed"}
    every = json.loads(_cli(ctx, "candidates", "list", "--scope", "all", "--json"))["candidates"]
    live = [c["status"] in ("down", "dismissed") for c in every]
    assert live == sorted(live)  # closed cases after the live ones
    text = _cli(ctx, "--lang", "en", "candidates", "list", "--scope", "all", "--limit", "3")
    assert "… and 13 more" in text
    only = json.loads(_cli(ctx, "candidates", "list", "--scope", "all", "--contains", "cafe", "--json"))
    assert [c["domain"] for c in only["candidates"]] == ["kaede-cafe.jp"]


def test_candidates_show_gives_the_evidence_and_reasons_in_the_asked_language(world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    got = json.loads(_cli(ctx, "candidates", "show", "hoshizora-sec-login.top", "--json"))
    assert got["id"] == ids.candidates["hoshizora-sec-login.top"] and got["evidence"]["screenshot_sha256"]
    assert got["reasons"]
    text = _cli(ctx, "candidates", "show", str(got["id"]), "--lang", "en")
    assert "hoshizora-sec-login.top" in text and "evidence: snapshot" in text


def test_status_shows_totals_every_severity_first_and_how_many_more(world: tuple[Context, Seeded],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, _ = world
    text = _cli(ctx, "--lang", "en", "status")
    assert "candidates: 16 in all" in text
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("[")]
    assert lines[0].startswith("[critical] campaign.hoshizora-sec.co.jp: ")  # not eaten as markup; first
    assert "open findings:" in text and "critical=1" in text
    n = len(lines)
    monkeypatch.setattr("watcher.commands.service.STATUS_FINDINGS", 2)
    text = _cli(ctx, "--lang", "en", "status")
    assert f"… and {n - 2} more" in text and text.count("[critical]") == 1
    # The same in Japanese, the seeded config's language.
    ja = _cli(ctx, "status")
    assert "候補: 全 16 件" in ja and "緊急 1" in ja and f"… ほか {n - 2} 件" in ja
    assert next(ln.strip() for ln in ja.splitlines() if ln.strip().startswith("[")).startswith("[緊急] campaign.")


def test_the_terminal_speaks_the_configured_language(world: tuple[Context, Seeded]) -> None:
    """The main commands and their refusals, run as the seeded config says (Japanese): no English
    sentence, word or column header left (names, domains and job names are data)."""
    ctx, _ = world
    said = {" ".join(args): _cli(ctx, *args) for args in (
        ("status",), ("jobs",), ("candidates", "list"), ("candidates", "list", "--scope", "all", "--limit", "4"),
        ("candidates", "show", "hoshizora-sec-login.top"), ("takedown", "list"), ("takedown", "cases"),
        ("case", "list"), ("inventory", "list"), ("mailauth", "ready"), ("mailauth", "senders"),
        ("mailauth", "failures"), ("mailauth", "tls"), ("brands", "list"), ("db", "current"), ("feeds", "list"),
        ("alerts", "list"))}
    reported = "hoshizora-secure-login.asia"  # its requests are out: confirming it again is refused
    for args, code in ((("takedown", "confirm", reported), 1), (("takedown", "confirm", "nowhere.example"), 2),
                       (("takedown", "approve", "99999"), 2), (("takedown", "approve"), 2),
                       (("candidates", "show", "nowhere.example"), 1),
                       (("candidates", "list", "--scope", "everything"), 2), (("case", "share", "99999"), 2)):
        said[" ".join(args)] = _cli(ctx, *args, code=code)
    assert "実行しませんでした" in said[f"takedown confirm {reported}"]
    assert "候補" in said["candidates list"] and "ID" in said["candidates list"]
    # The database URL's scheme, the brands' slugs (what --brand takes), the data/ folder of the repository.
    allowed = ALLOWED_DATA | {"sqlite", "hoshizora", "kaede", "data"}
    left = [f"omamori {cmd}: {w}" for cmd, out in said.items() for w in english_words(out, allowed=allowed)]
    assert not left, "\n".join(left)
    assert "requests" in _cli(ctx, "--lang", "en", "takedown", "confirm", reported, code=1)  # --lang en: English


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

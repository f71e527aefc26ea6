"""The text catalogue: every key in both languages, unique across areas, placeholders that agree."""

from __future__ import annotations

import string

import pytest

from watcher.context import Context
from watcher.core.reasons import Reason, reason_text
from watcher.core.texts import AREAS, CATALOGUE, MissingText, Text, render_stored, t, text


def _fields(s: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(s) if name}


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    for key, (ja, en) in CATALOGUE.items():
        assert ja.strip() and en.strip(), key
        assert _fields(ja) == _fields(en), key


def test_keys_are_unique_across_areas() -> None:
    assert sum(len(a.TEXTS) for a in AREAS) == len(CATALOGUE)


def test_a_stored_text_renders_in_either_language_and_old_strings_fall_back() -> None:
    some_key = next(iter(CATALOGUE), None)
    if some_key is None:
        pytest.skip("the catalogue is empty")
    stored = Text(some_key, {}).as_dict()
    assert Text.from_dict(stored).key == some_key
    assert render_stored({}, "ja", fallback="as written in 0.1") == "as written in 0.1"
    with pytest.raises(MissingText):
        text("no.such.key")
    assert t("no.such.key", "ja") == "no.such.key"  # visible, not a crash


def test_a_reason_from_the_catalogue_speaks_both_languages() -> None:
    r = Reason.said("fresh", text("common.days", n=3), 10)
    assert r.detail == t("common.days", "en", n=3)
    assert reason_text(r.as_dict(), "ja") == t("common.days", "ja", n=3)
    assert reason_text({"kind": "keyword", "detail": "old reason"}, "ja") == "old reason"


def test_a_list_of_sentences_renders_joined_also_after_storage() -> None:
    why = [text("owned.dropcatch.registered_on", date="2026-11-01"), text("owned.dropcatch.dns_answers")]
    stored = text("owned.dropcatch.detail", why=why).as_dict()
    assert render_stored(stored, "en").startswith("registered again on 2026-11-01, DNS answers for it.")
    assert render_stored(stored, "ja").startswith("2026-11-01 に再登録、DNSが応答しています。")


# A CT log's state is a plain string column (LogPosition.state), not an enum: its values, as the reader sets them.
CT_LOG_STATES = ("active", "failing", "retired")  # a stale log is a Finding, not a state


SHARED_VOCABULARIES = [
    ("verdict", "Verdict"), ("status", "CandidateStatus"), ("request", "RequestStatus"), ("source", "Source"),
    ("severity", "Severity"), ("recipient", "RecipientKind"), ("channel", "Channel"), ("owned_source", "OwnedSource"),
    ("finding_status", "FindingStatus"),
    ("ctstate", CT_LOG_STATES),
]


def test_every_shared_vocabulary_is_checked_below() -> None:
    from watcher.core.texts import WORDS

    assert {kind for kind, _ in SHARED_VOCABULARIES} == set(WORDS)


@pytest.mark.parametrize(("kind", "enum"), SHARED_VOCABULARIES)
def test_every_value_of_a_shared_vocabulary_has_one_word_in_each_language_that_terminal_story_and_dashboard_share(
        ctx: Context, kind: str, enum: str | tuple[str, ...]) -> None:
    from dashboard.ui import UI
    from dashboard.widgets import word as dashboard_word
    from watcher.commands.invocation import word as terminal_word
    from watcher.commands.story import Story
    from watcher.core import models
    from watcher.core.config import UserSettings
    from watcher.core.texts import WORDS

    for lang in ("ja", "en"):
        dashboard = UI(ctx, ctx.settings, UserSettings(name="reader", role="viewer"), lang)
        story = Story(ctx, emit=lambda line: None, lang=lang)
        for v in getattr(models, enum) if isinstance(enum, str) else enum:
            value = str(getattr(v, "value", v))
            said = t(f"{WORDS[kind]}.{value}", lang)
            assert said != f"{WORDS[kind]}.{value}", (kind, v)
            assert terminal_word(kind, v, lang) == dashboard_word(dashboard, kind, v) == story._word(kind, value) == said


def test_the_copies_of_the_shared_words_are_gone() -> None:
    from dashboard.i18n import LABELS

    copies = [k for k in CATALOGUE if k.startswith(("cli.verdict.", "story.verdict.", "cli.source.", "story.source.",
                                                    "cli.severity.", "story.severity.", "report.severity.",
                                                    "cli.recipient.", "story.kind.", "cli.channel.", "cli.ctstate.",
                                                    "cli.owned_source."))]
    assert not copies
    assert not [k for k in LABELS if k.startswith(("vd_", "st_", "rs_", "sv_", "src_", "rk_", "ch_", "ctstate_",
                                                   "osrc_"))]


def test_the_shared_words_read_well_to_a_brand_security_desk() -> None:
    # Where the three copies differed, the catalogue keeps the clearer word.
    assert t("discovery.source.ct", "en") == "CT log" and t("discovery.source.ct", "ja") == "CT ログ"
    assert t("discovery.source.dropcatch", "en") == "drop-catch"
    assert t("takedown.recipient.cdn", "en") == "CDN" and t("takedown.recipient.cert", "en") == "CERT"
    assert t("story.counted", "ja", word=t("common.severity.critical", "ja"), n=2) == "緊急 2"
    assert t("story.counted", "en", word=t("common.severity.critical", "en"), n=2) == "2 critical"


def test_a_snapshot_reason_stored_under_the_former_verdict_key_still_reads() -> None:
    stored = {"key": "capture.reason.snapshot",
              "params": {"id": 7, "verdict": {"key": "cli.verdict.phishing", "params": {}}, "score": 85}}
    assert render_stored(stored, "ja") == "スナップショット 7: フィッシング、スコア 85"
    assert render_stored(stored, "en") == "snapshot 7: phishing, score 85"

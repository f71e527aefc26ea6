"""The dashboard through AppTest on a seeded database: sign-in, every view, every action, and the
database afterwards (status, Event with the signed-in user as actor)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard import actions
from tests.dashboard.seed import PASSWORD, Seeded
from watcher.context import Context
from watcher.core.models import Candidate, CandidateStatus, Event, RequestStatus, TakedownRequest

AppFactory = Callable[..., AppTest]


def events(ctx: Context, action: str, object_id: int) -> list[Event]:
    with ctx.session() as s:
        return list(s.exec(select(Event).where(Event.action == action, Event.object_id == object_id)))


def status_of(ctx: Context, cid: int) -> CandidateStatus:
    with ctx.session() as s:
        cand = s.get(Candidate, cid)
        assert cand is not None
        return cand.status


def open_candidate(at: AppTest, cid: int) -> AppTest:
    at.selectbox(key="pick").set_value(cid)
    at.button(key="open_btn").click().run()
    assert not at.exception, at.exception
    return at


# ---------------------------------------------------------------- sign-in and language


def test_nothing_shows_before_sign_in_and_a_wrong_password_is_refused(app: AppFactory) -> None:
    at = app()
    assert at.title[0].value == "omamori にサインイン"
    assert not at.header and not at.dataframe and not at.metric
    at.text_input(key="login_name").input("approver")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert at.error[0].value == "ユーザー名またはパスワードが違います。"
    assert not at.header

    at.text_input(key="login_name").input("approver")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.header[0].value == "今やること"  # the first view: what needs me now
    assert "承認 次郎" in at.sidebar.caption[0].value
    # The password does not linger in the session after the attempt.
    assert "login_password" not in at.session_state


@pytest.mark.reliability("12 wrong passwords for one user name in the dashboard, then the right one",
                         "locked out after 5 (a signin.locked Event); the right password is refused while locked; "
                         "every attempt is an Event", area="dashboard sign-in")
def test_wrong_passwords_lock_the_name_out(app: AppFactory, world: tuple[Context, Seeded], observe) -> None:
    ctx, _ = world
    at = app()

    def attempt(password: str) -> str:
        at.text_input(key="login_name").input("approver")
        at.text_input(key="login_password").input(password)
        at.button[0].click().run()
        return at.error[0].value if at.error else ""

    said = [attempt(f"wrong-{i}") for i in range(12)]
    assert said[:4] == ["ユーザー名またはパスワードが違います。"] * 4
    assert all("ロックされています" in m for m in said[4:]), said[4]
    assert "ロックされています" in attempt(PASSWORD) and not at.header  # the right password, still locked
    with ctx.session() as s:
        events = s.exec(select(Event).where(Event.action.startswith("signin."))).all()  # type: ignore[attr-defined]
    failed = [e for e in events if e.action == "signin.failed"]
    locked = [e for e in events if e.action == "signin.locked"]
    assert len(failed) == 5 and locked and locked[0].detail["user"] == "approver"
    assert not [e for e in events if e.action == "signin.ok"]
    observe(f"attempts 1-4: '{said[0]}'; from the 5th: '{said[4]}'; right password refused; "
            f"{len(failed)} signin.failed Events (locked attempts are not even checked), "
            f"{len(locked)} signin.locked")


def test_language_switch_changes_labels(app: AppFactory) -> None:
    at = app("viewer")
    assert at.header[0].value == "トリアージ"
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.header[0].value == "Triage queue"
    assert [m.label for m in at.metric][:2] == ["new", "checked"]


def test_sign_out_forgets_the_user(app: AppFactory) -> None:
    at = app("analyst")
    at.sidebar.button[0].click().run()
    assert at.title[0].value == "omamori にサインイン"


# ---------------------------------------------------------------- views


def test_triage_queue_counts_filters_pages_and_opens(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    at = app("viewer")
    counts = {m.label: m.value for m in at.metric}
    assert counts["確認待ち"] == "5" and counts["新規"] == "2" and counts["監視中"] == "3"
    queue = at.dataframe[0].value
    # Waiting for a person (new + checked), highest score first.
    assert len(queue) == 7
    assert list(queue["スコア"]) == sorted(queue["スコア"], reverse=True)
    assert queue.iloc[0]["ドメイン"] == "hoshizora-sec-login.top"

    at.multiselect(key="f_status").set_value(["watching"]).run()
    assert set(at.dataframe[0].value["ドメイン"]) == {"hoshizora-sec.co", "hoshizora-sec.jp", "hosizora-sec.co.jp"}
    at.multiselect(key="f_status").set_value([]).run()
    at.selectbox(key="f_brand").set_value(next(b for b in _brand_ids(ctx) if b[1] == "kaede")[0]).run()
    assert set(at.dataframe[0].value["ドメイン"]) == {"kaede-sec-login.top", "kaede-cafe.jp", "kaede-sec.net"}
    at.text_input(key="f_contains").input("cafe").run()
    assert list(at.dataframe[0].value["ドメイン"]) == ["kaede-cafe.jp"]

    at = open_candidate(app("viewer"), ids.candidates["hoshizora-sec-login.top"])
    assert at.header[0].value == "候補ドメイン"
    assert at.subheader[0].value == "hoshizora-sec-login.top"
    # Back to the queue, open another: the view and its ID box follow.
    at.sidebar.radio(key="nav").set_value("triage").run()
    at = open_candidate(at, ids.candidates["k3v9q.xyz"])
    assert at.subheader[0].value == "k3v9q.xyz"
    assert at.number_input(key="cand_input").value == ids.candidates["k3v9q.xyz"]
    # Typing an ID opens that candidate.
    at.number_input(key="cand_input").set_value(ids.candidates["kaede-cafe.jp"]).run()
    assert at.subheader[0].value == "kaede-cafe.jp" and not at.warning


def test_queue_is_paged(app: AppFactory) -> None:
    at = app("viewer")
    at.multiselect(key="f_status").set_value([]).run()  # all 16
    assert len(at.dataframe[0].value) == 16
    at = app("viewer", **{"page_queue": 0})
    # page_size is 20 in the seed config: one page; the pager says so and cannot move.
    assert at.button(key="queue_next").disabled and at.button(key="queue_prev").disabled


def test_candidate_view_shows_evidence_reasons_facts_and_timeline(app: AppFactory,
                                                                  world: tuple[Context, Seeded]) -> None:
    _, ids = world
    at = open_candidate(app("viewer"), ids.candidates["hoshizora-sec-login.top"])
    images = at.get("image")
    # The capture beside the brand's reference page, each captioned with its evidence hash.
    assert len(images) == 2
    assert all("sha256" in img.proto.imgs[0].caption for img in images)
    assert images[1].proto.imgs[0].caption.startswith("https://trade.hoshizora-sec.co.jp/login")
    # The brand has two reference pages: the login page is shown first, the home page on request.
    at.selectbox(key="ref_pick").set_value(1).run()
    assert at.get("image")[1].proto.imgs[0].caption.startswith("https://www.hoshizora-sec.co.jp/")
    reasons = at.dataframe[0].value
    assert reasons.iloc[0]["点"] == 60 and "pHash 距離 2/64" in reasons.iloc[0]["詳細"]  # in the reader's language
    facts = at.table[0].value
    assert "https://hoshizora-sec-login.top/login" in facts.to_string()
    assert "POST https://collect.hoshizora-sec-login.top/p.php (パスワード)" in facts.to_string()
    snaps, evs = at.dataframe[1].value, at.dataframe[2].value
    assert len(snaps) == 2
    assert "検出" in set(evs["種類"])  # what happened, in words
    # A viewer reads; no action buttons.
    assert not [b for b in at.button if b.key and b.key.startswith("act_")]


def test_home_shows_what_was_handled_automatically_since_the_last_look(app: AppFactory,
                                                                       world: tuple[Context, Seeded]) -> None:
    _, ids = world
    at = app("approver", nav="home")
    auto = [b for b in at.button if str(b.key).startswith("home_auto_")]
    # The seed's auto rule confirmed kaede-sec-login.top 21 h ago and its requests went out an hour later;
    # a first visit looks back one day. Older machine moves (the case taken down three days ago) are not news.
    assert [b.label.split(" · ", 1)[1] for b in auto] == ["kaede-sec-login.top → 通報済み",
                                                         "kaede-sec-login.top → 確定"]
    auto[0].click().run()
    assert at.session_state["nav"] == "candidate"
    assert at.session_state["candidate_id"] == ids.candidates["kaede-sec-login.top"]


def test_every_view_renders_in_both_languages(app: AppFactory) -> None:
    at = app("admin")
    for lang, titles in (("ja", ["今やること", "トリアージ", "候補ドメイン", "テイクダウン", "保有ドメイン", "メール認証",
                                 "レポート", "稼働状況"]),
                         ("en", ["What needs me now", "Triage queue", "Candidate", "Takedowns", "Owned domains",
                                 "Mail authentication", "Reports", "Health"])):
        at.sidebar.radio(key="lang").set_value(lang).run()
        for view, title in zip(["home", "triage", "candidate", "takedowns", "owned", "mailauth", "reports", "health"],
                               titles, strict=True):
            at.sidebar.radio(key="nav").set_value(view).run()
            assert not at.exception, (view, at.exception)
            assert at.header[0].value == title


def test_takedowns_view(app: AppFactory) -> None:
    at = app("viewer", nav="takedowns")
    # a request that failed for good needs a person: it is at the top, in the reader's language
    assert any("送信失敗" in e.value and "送信できませんでした" in e.value for e in at.error), \
        [e.value for e in at.error]
    outcomes = {m.label: m.value for m in at.metric}
    assert outcomes == {"返信あり": "1", "完了": "2", "下書き": "3", "送信失敗": "1", "送信済み": "2"}
    by_recipient = at.dataframe[0].value
    assert by_recipient.iloc[0]["宛先"] in ("Cheap Names Ltd.", "Lab Hosting", "Lab Registrar K.K.", "フィッシング対策協議会")
    assert by_recipient["件数"].sum() == 6
    cases = at.dataframe[1].value  # one row per case, with its mode and its two clocks
    assert set(cases["依頼の種類"]) <= {"ドメイン停止（フィッシング用ドメイン）", "コンテンツ削除（改ざんされた正規サイト）"}
    reminders = at.dataframe[2].value  # sent 60 h ago, reminder interval 48 h
    assert set(reminders["ドメイン"]) == {"hoshizora-secure-login.asia"}
    assert any("中央値 25.0 時間" in c.value for c in at.caption)


def test_owned_view_puts_takeover_and_dropcatch_first(app: AppFactory) -> None:
    at = app("viewer", nav="owned")
    findings = at.dataframe[0].value
    assert list(findings["種類"])[:2] == ["乗っ取り（CNAME）", "ドロップキャッチ"]  # kinds in words
    assert list(findings["重要度"])[:2] == ["緊急", "高"]
    assert "dmarc_policy" not in set(findings["種類"])  # that one is on the mail page
    inventory = at.dataframe[1].value
    assert inventory.iloc[0]["ドメイン"] == "hoshizora-sec.com"  # soonest expiry first
    assert "cT sT" in set(inventory["ロック"])
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_mail_view_states_and_dmarc_senders(app: AppFactory) -> None:
    at = app("viewer", nav="mailauth")
    state = at.dataframe[0].value.set_index("送信ドメイン")
    assert state.loc["hzsec.com", "DMARC"] == "NG: DMARC が p=none のままです（p=reject が必要）"
    assert state.loc["hoshizora-sec.co.jp", "DMARC"] == "OK"
    assert state.loc["kaede-sec.co.jp", "MTA-STS"].startswith("NG")
    failures = at.dataframe[2].value
    assert set(failures["送信元 IP"]) == {"198.51.100.77", "203.0.113.200"}
    # The road to p=reject: one figure per sending domain, and every sender with its alignment.
    metrics = {m.label: m.value for m in at.metric}
    assert "hoshizora-sec.co.jp (p=reject)" in metrics and "hzsec.com (p=none)" in metrics
    senders = at.dataframe[1].value
    assert {"送信元", "DMARC 合格", "SPF 整合", "DKIM 整合"} <= set(senders.columns)


def test_reports_view_archive_and_csv(app: AppFactory) -> None:
    at = app("viewer", nav="reports")
    labels = [b.label for b in at.get("download_button")]
    newest = at.selectbox(key="report_pick").value
    assert at.selectbox(key="report_pick").options[0] == newest  # newest week first
    assert labels == [f"{newest}.html", f"{newest}-candidates.csv", "official-domains.html", "official-domains.json"]
    # The report's own page in its own frame: its stylesheet cannot restyle the dashboard around it.
    frames = at.get("iframe")
    assert frames and "週次レポート" in frames[0].proto.srcdoc
    at.selectbox(key="csv_pick").set_value("candidates")
    at.button(key="csv_prepare").click().run()
    assert not at.exception
    kind, csv_bytes = at.session_state["csv"]
    lines = csv_bytes.decode("utf-8-sig").splitlines()
    assert kind == "candidates" and lines[0].startswith("id,domain") and len(lines) == 17


def test_health_view(app: AppFactory) -> None:
    at = app("viewer", nav="health")
    errors = " ".join(e.value for e in at.error)  # markdown source: outside text is escaped
    assert "ジョブの連続失敗" in errors and "CT ログ停滞" in errors  # kinds in words
    assert not at.success  # failures recorded lately: never "all clear"
    logs = at.dataframe[0].value
    assert set(logs["未読"]) == {89, 0}
    jobs = at.dataframe[1].value.set_index("ジョブ")
    assert jobs.loc["permutations", "連続失敗"] == 3
    assert len(at.dataframe[2].value) == 3  # three job.failed events


def test_health_view_shows_the_phishing_url_feeds(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    from watcher.core.models import FeedState

    ctx, _ids = world
    with ctx.session() as s:
        s.add(FeedState(name="jpcert", url="https://feeds.example/phishurl.csv", last_status=304, rows_total=412,
                        last_fetch_at=ctx.now(), last_change_at=ctx.now(), created_at=ctx.now()))
        s.commit()
    at = app("viewer", nav="health")
    assert not at.exception
    feeds = next(d.value for d in at.dataframe if "最後の新着" in d.value.columns)
    assert list(feeds["フィード"]) == ["jpcert"] and list(feeds["読んだ行"]) == [412]


def test_health_view_shows_a_run_s_notes_in_the_reader_s_language(app: AppFactory,
                                                                     world: tuple[Context, Seeded]) -> None:
    from watcher.core.models import JobState
    from watcher.core.texts import text

    ctx, _ids = world
    note = text("owned.note", check="axfr", note=text("owned.note.axfr_failed", error="REFUSED"))
    with ctx.session() as s:
        state = s.exec(select(JobState).where(JobState.name == "inventory")).one()
        state.last_summary = {"owned": 12, "notes": [note.as_dict()]}
        s.add(state)
        s.commit()
    at = app("viewer", nav="health")
    assert not at.exception
    jobs = at.dataframe[1].value.set_index("ジョブ")
    assert jobs.loc["inventory", "前回のメモ"] == "axfr: ゾーン転送に失敗しました（REFUSED）"


# ---------------------------------------------------------------- actions


def _brand_ids(ctx: Context) -> list[tuple[int, str]]:
    from watcher.core.models import Brand

    with ctx.session() as s:
        return [(int(b.id or 0), b.slug) for b in s.exec(select(Brand))]


def test_approver_confirms_and_sees_the_drafts(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    cid = ids.candidates["hoshizora-sec-login.top"]
    at = open_candidate(app("approver"), cid)
    at.text_input(key=f"reason_{cid}").input("clone of the login page")
    at.button(key="act_confirm").click().run()
    # The first click only opens the second step: the letters' claims and their recipients.
    assert not at.exception and status_of(ctx, cid) == CandidateStatus.CHECKED
    review = " ".join(m.value for m in at.markdown)
    assert "通報文に記載される根拠" in review and "宛先" in review
    at.button(key="act_confirm_go").click().run()
    assert not at.exception
    assert status_of(ctx, cid) == CandidateStatus.CONFIRMED
    [ev] = [e for e in events(ctx, "candidate.status", cid) if e.detail["to"] == "confirmed"]
    assert ev.actor == "dashboard:approver" and ev.detail["reason"] == "clone of the login page"
    assert at.success or at.info
    with ctx.session() as s:
        drafts = list(s.exec(select(TakedownRequest).where(TakedownRequest.candidate_id == cid)))
    assert drafts, "takedowns.confirm drafted nothing"
    assert at.code, "drafts are shown as they will be sent"


def test_analyst_watches_dismisses_with_reason_notes_and_rechecks(app: AppFactory, world: tuple[Context, Seeded],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, ids = world
    checked: list[tuple[int, str]] = []
    # The real check crawls the site; here we only see that the dashboard starts it as the user.
    monkeypatch.setattr("watcher.capture.snapshot.check_candidate",
                        lambda _ctx, cid, actor="system": checked.append((cid, actor)))
    cid = ids.candidates["k3v9q.xyz"]
    at = open_candidate(app("analyst"), cid)
    assert at.button(key="act_confirm").disabled  # confirming needs an approver

    at.button(key="act_dismiss").click().run()  # no reason: refused, nothing changes
    assert at.error and status_of(ctx, cid) == CandidateStatus.CHECKED

    at.text_input(key=f"reason_{cid}").input("the customer's own test page")
    at.button(key="act_dismiss").click().run()
    assert status_of(ctx, cid) == CandidateStatus.DISMISSED
    # A closed case is decided: reopening is the primary action, never "watch" (nor confirm).
    assert [b.key for b in at.button if b.proto.type == "primary"] == ["act_reopen"]
    ev = [e for e in events(ctx, "candidate.status", cid) if e.detail["to"] == "dismissed"][-1]
    assert ev.actor == "dashboard:analyst" and ev.detail["reason"] == "the customer's own test page"

    at.button(key="act_reopen").click().run()
    assert status_of(ctx, cid) == CandidateStatus.CHECKED
    at.button(key="act_watch").click().run()
    assert status_of(ctx, cid) == CandidateStatus.WATCHING

    at.text_area(key=f"note_text_{cid}").input("called the customer back")
    at.button[[b.label for b in at.button].index("メモを追加")].click().run()
    [note] = events(ctx, "candidate.note", cid)
    assert note.actor == "dashboard:analyst" and note.detail["text"] == "called the customer back"

    at.button(key="act_recheck").click().run()
    [recheck] = events(ctx, "candidate.recheck_requested", cid)
    assert recheck.actor == "dashboard:analyst"
    for t in actions.RECHECKS:
        t.join(timeout=10)
    assert checked == [(cid, "dashboard:analyst")]
    with ctx.session() as s:
        cand = s.get(Candidate, cid)
        assert cand is not None and cand.next_check_at is not None
    # The timeline shows the new events at once (the write cleared the cache).
    timeline = at.dataframe[2].value
    assert "メモ" in set(timeline["種類"]) and "called the customer back" in set(timeline["詳細"])  # notes readable


def test_roles_are_enforced_in_the_write_path_too(world: tuple[Context, Seeded]) -> None:
    """A hidden button is not a permission: the action itself refuses a viewer and an analyst."""
    from dashboard.ui import UI
    from watcher.core.config import UserSettings

    ctx, ids = world
    cid = ids.candidates["hoshizora-sec-login.top"]
    for role, decision in (("viewer", "watch"), ("analyst", "confirm")):
        ui = UI(ctx=ctx, settings=ctx.settings, user=UserSettings(name=role, role=role), lang="en")  # type: ignore[arg-type]
        assert actions.decide(ui, cid, decision) is False
    assert status_of(ctx, cid) == CandidateStatus.CHECKED
    assert not [e for e in events(ctx, "candidate.status", cid) if e.actor.startswith("dashboard:") and e.at > ids.now]


def test_request_actions(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    cid = ids.candidates["hzsec-account-verify.top"]
    at = _open_any(app("approver"), cid)
    code = " ".join(c.value for c in at.code)
    assert "abuse@cheapnames.test" in code and "hzsec-account-verify.top" in code
    # The message as it will be sent: real headers from render_message, and the evidence attached.
    assert "Message-ID: <" in code and "From: " in code
    assert any("screenshot.png" in c.value for c in at.caption)

    first, second = ids.requests["hzsec-account-verify.top:registrar"], ids.requests["hzsec-account-verify.top:hosting"]
    at.button(key=f"approve_{first}").click().run()
    assert not at.exception
    assert _request(ctx, first).status == RequestStatus.QUEUED
    assert [e.actor for e in _request_events(ctx, first, "takedown.approved")] == ["dashboard:approver"]
    at.button(key="act_approve_all").click().run()
    assert _request(ctx, second).status == RequestStatus.QUEUED
    assert [e.actor for e in _request_events(ctx, second, "takedown.approved")] == ["dashboard:approver"]

    # The web-form request, approved with the others, waits for a person to fill the form.
    form = ids.requests["hzsec-account-verify.top:cert"]
    assert _request(ctx, form).status == RequestStatus.QUEUED
    at.button(key=f"submitted_{form}").click().run()
    assert _request(ctx, form).status == RequestStatus.SENT
    [ev] = _request_events(ctx, form, "takedown.sent")
    assert ev.actor == "dashboard:approver" and ev.detail["by_hand"] is True


def test_a_failed_request_is_shown_and_can_be_sent_again(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    rid = ids.requests["kaede-sec-login.top:hosting"]
    at = _open_any(app("approver"), ids.candidates["kaede-sec-login.top"])
    assert any("550 5.1.1" in w.value for w in at.warning)
    at.button(key=f"resend_{rid}").click().run()
    assert _request(ctx, rid).status == RequestStatus.QUEUED
    assert [e.actor for e in _request_events(ctx, rid, "takedown.requeued")] == ["dashboard:approver"]


def test_reply_and_withdraw(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, ids = world
    cid = ids.candidates["hoshizora-secure-login.asia"]
    sent, webform = (ids.requests["hoshizora-secure-login.asia:registrar"],
                     ids.requests["hoshizora-secure-login.asia:cert"])
    at = _open_any(app("approver"), cid)
    # The web-form request shows the fields to paste into the form.
    assert any(f"TD-{webform}" in t.value.to_string() for t in at.table)

    at.text_area(key=f"reply_{sent}").input("We have suspended the domain.")
    at.button(key=f"reply_btn_{sent}").click().run()
    assert not at.exception
    assert _request(ctx, sent).status == RequestStatus.ANSWERED
    assert [e.actor for e in _request_events(ctx, sent, "takedown.reply")] == ["dashboard:approver"]

    at.button(key=f"withdraw_{webform}").click().run()  # no reason: refused
    assert _request(ctx, webform).status == RequestStatus.SENT
    at.text_input(key=f"withdraw_reason_{webform}").input("sent twice by mistake")
    at.button(key=f"withdraw_{webform}").click().run()
    assert _request(ctx, webform).status == RequestStatus.CLOSED
    [ev] = _request_events(ctx, webform, "takedown.withdrawn")
    assert ev.actor == "dashboard:approver" and ev.detail["reason"] == "sent twice by mistake"


def _request(ctx: Context, rid: int) -> TakedownRequest:
    with ctx.session() as s:
        req = s.get(TakedownRequest, rid)
        assert req is not None
        return req


def _open_any(at: AppTest, cid: int) -> AppTest:
    at.multiselect(key="f_status").set_value([]).run()
    return open_candidate(at, cid)


def _request_events(ctx: Context, rid: int, action: str) -> list[Event]:
    with ctx.session() as s:
        return list(s.exec(select(Event).where(Event.object_type == "takedownrequest", Event.object_id == rid,
                                               Event.action == action)))


def test_submit_a_url(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    at = app("analyst")
    at.text_input(key="submit_url_text").input("https://hoshizora-login-help.top/login")
    at.button[[b.label for b in at.button].index("登録")].click().run()
    assert not at.exception
    with ctx.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-login-help.top")).first()
        assert cand is not None and cand.source == "report"
        received = s.exec(select(Event).where(Event.action == "report.received")).all()
    assert [e.actor for e in received] == ["dashboard:analyst"]
    assert "hoshizora-login-help.top" in at.success[0].value

    # Our own domain is refused by intake, and the person is told why.
    at.text_input(key="submit_url_text").input("https://www.hoshizora-sec.co.jp/")
    at.button[[b.label for b in at.button].index("登録")].click().run()
    assert at.error

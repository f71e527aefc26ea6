"""On the owned-domains and mail pages a person accepts a finding's risk with a reason, or reopens it;
the audit log says who and why, and an analyst cannot accept (the action refuses as well as the button)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from dashboard import actions
from tests.dashboard.seed import Seeded
from watcher.context import Context
from watcher.core.models import Event, Finding, FindingKind, FindingStatus

AppFactory = Callable[..., AppTest]


def _finding(ctx: Context, kind: FindingKind, subject: str) -> Finding:
    with ctx.session() as s:
        f = s.exec(select(Finding).where(Finding.kind == kind, Finding.subject == subject)).first()
        assert f is not None
        return f


def _events(ctx: Context, action: str, fid: int | None) -> list[Event]:
    with ctx.session() as s:
        return list(s.exec(select(Event).where(Event.action == action, Event.object_type == "finding",
                                               Event.object_id == fid)))


def test_approver_accepts_an_expiry_finding_with_a_reason_and_reopens_it(app: AppFactory,
                                                                        world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    fid = _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").id
    at = app("approver", nav="owned")
    at.selectbox(key="owned_finding_pick").set_value(fid)
    at.button(key="owned_finding_accept").click().run()  # no reason: refused, nothing changes
    assert not at.exception
    assert _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").status == FindingStatus.OPEN
    [refused] = _events(ctx, "action.refused", fid)
    assert refused.detail["action"] == "accept_finding" and "理由" in refused.detail["message"]

    at.selectbox(key="owned_finding_pick").set_value(fid)
    at.text_input(key="owned_finding_reason").input("来月ドメインを移管するため更新しない")
    at.button(key="owned_finding_accept").click().run()
    assert not at.exception
    assert _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").status == FindingStatus.ACCEPTED
    [ev] = _events(ctx, "finding.accepted", fid)
    assert ev.actor == "dashboard:approver" and ev.detail["reason"] == "来月ドメインを移管するため更新しない"

    at.selectbox(key="owned_finding_pick").set_value(fid)
    at.button(key="owned_finding_reopen").click().run()
    assert _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").status == FindingStatus.OPEN
    assert [e.actor for e in _events(ctx, "finding.reopened", fid)] == ["dashboard:approver"]


def test_a_mail_finding_is_accepted_on_the_mail_page(app: AppFactory, world: tuple[Context, Seeded]) -> None:
    ctx, _ = world
    fid = _finding(ctx, FindingKind.BIMI, "hzsec.com").id
    at = app("approver", nav="mailauth", lang="en")
    at.selectbox(key="mail_finding_pick").set_value(fid)
    at.text_input(key="mail_finding_reason").input("hzsec.com sends no marketing mail")
    at.button(key="mail_finding_accept").click().run()
    assert not at.exception
    assert _finding(ctx, FindingKind.BIMI, "hzsec.com").status == FindingStatus.ACCEPTED


def test_an_analyst_cannot_accept_a_risk(world: tuple[Context, Seeded]) -> None:
    from dashboard.ui import UI
    from watcher.core.config import UserSettings

    ctx, _ = world
    fid = _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").id
    assert fid is not None
    ui = UI(ctx=ctx, settings=ctx.settings, user=UserSettings(name="analyst", role="analyst"), lang="en")  # type: ignore[arg-type]
    assert actions.accept_finding(ui, fid, "not mine to accept") is False
    assert _finding(ctx, FindingKind.EXPIRY, "hoshizora-sec.com").status == FindingStatus.OPEN
    assert _events(ctx, "finding.accepted", fid) == []

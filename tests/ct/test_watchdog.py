"""The CT watchdog: a log whose position falls behind its signed tree head opens a Finding within one
poll, whatever stopped the reader; `omamori status` and the job's result say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from tests.ct.labhelp import write_log_list
from tests.ct.test_cli import _config
from watcher.cli import app
from watcher.context import Context, build_context
from watcher.core.clock import FrozenClock
from watcher.core.config import load_settings
from watcher.core.models import Finding, FindingKind, FindingStatus, JobState
from watcher.schedule import run_job

runner = CliRunner()


def _ctx(lab_ct, tmp_path: Path, clock: FrozenClock, **ct: object) -> tuple[Context, Path]:  # type: ignore[no-untyped-def]
    cfg = _config(tmp_path, write_log_list(lab_ct, tmp_path / "logs.json"))
    cfg.write_text(cfg.read_text().replace("[ct]\n", "[ct]\n" + "".join(f"{k} = {v}\n" for k, v in ct.items())))
    return build_context(load_settings(cfg, environ={}), clock=clock), cfg


def _caught_up_then_stalled(lab_ct, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    """One poll reads the log to its head; then the log signs 300 more entries it will not serve."""
    lab_ct.add_noise(10)
    lab_ct.integrate()
    assert run_job(ctx, "ct_poll")["ok"]  # caught up: nothing to say
    assert _lagging(ctx) is None
    lab_ct.stall_entries()
    lab_ct.add_noise(300)
    lab_ct.integrate()


def _lagging(ctx: Context) -> Finding | None:
    with Session(ctx.engine) as s:
        return s.exec(select(Finding).where(Finding.kind == FindingKind.CT_LOG_LAGGING)).first()


@pytest.mark.reliability(
    "CT log keeps signing bigger tree heads but stops serving entries (503 on every get-entries/data tile); "
    "no entry ever fails",
    "after one ct_poll: a ct_log_lagging Finding, the job run recorded as failed (not ok), the lag in "
    "`omamori status`; resolved once the log serves entries again",
    area="CT logs",
)
def test_a_stalled_log_opens_a_finding_within_one_poll(lab_ct, tmp_path: Path, observe) -> None:
    clock = FrozenClock()
    ctx, cfg = _ctx(lab_ct, tmp_path, clock, lag_max_entries=100)
    _caught_up_then_stalled(lab_ct, ctx)
    result = run_job(ctx, "ct_poll")
    assert not result["ok"] and "not read" in result["error"] and result["lagging_logs"] == 1
    f = _lagging(ctx)
    assert f is not None and f.status == FindingStatus.OPEN and f.data["behind_entries"] == 300
    with Session(ctx.engine) as s:
        state = s.get(JobState, "ct_poll")
        assert state is not None and state.consecutive_failures == 1 and state.last_summary["lagging_logs"] == 1
    out = runner.invoke(app, ["-c", str(cfg), "status", "--json"])
    assert out.exit_code == 0, out.output
    logs = json.loads(out.stdout)["ct_logs"]
    assert logs[0]["behind_entries"] == 300 and "503" in logs[0]["error"]
    table = runner.invoke(app, ["-c", str(cfg), "--lang", "en", "status"]).stdout
    assert "behind" in table and "300" in table
    observe(f"one poll: job ok={result['ok']} ({result['error'][:50]}...), Finding {f.kind} "
            f"'{f.title}', status shows 300 entries behind")
    lab_ct.stall_entries(False)
    assert run_job(ctx, "ct_poll")["ok"]
    assert _lagging(ctx).status == FindingStatus.RESOLVED  # type: ignore[union-attr]
    observe("log serving again: next poll ok, Finding resolved")
    ctx.engine.dispose()


def test_a_log_behind_for_too_long_opens_a_finding(lab_ct, tmp_path: Path) -> None:
    clock = FrozenClock()
    ctx, _ = _ctx(lab_ct, tmp_path, clock, lag_max_minutes=30)
    lab_ct.add_noise(5)
    lab_ct.integrate()
    run_job(ctx, "ct_poll")
    lab_ct.stall_entries()
    lab_ct.add_noise(5)
    lab_ct.integrate()
    run_job(ctx, "ct_poll")  # 5 entries behind: under the count limit, the clock starts
    assert _lagging(ctx) is None
    clock.advance(minutes=31)
    run_job(ctx, "health")  # the health job sees it too, without reading any log
    f = _lagging(ctx)
    assert f is not None and f.data["behind_entries"] == 5 and f.data["behind_minutes"] == 31
    assert "31" in f.title
    ctx.engine.dispose()


@pytest.mark.reliability(
    "a lagging CT log is taken off the log list (excluded in config), then put back",
    "off the list: retired, its lag finding resolved, no stale or lag finding about a log nobody reads; "
    "back on the list: watched again",
    area="CT logs",
)
def test_a_log_taken_off_the_list_is_retired_and_no_longer_cried_about(lab_ct, tmp_path: Path, observe) -> None:
    from watcher.core.models import LogPosition

    clock = FrozenClock()
    ctx, _cfg = _ctx(lab_ct, tmp_path, clock, lag_max_entries=100)
    _caught_up_then_stalled(lab_ct, ctx)
    assert run_job(ctx, "ct_poll")["lagging_logs"] == 1
    with Session(ctx.engine) as s:
        [pos] = s.exec(select(LogPosition)).all()
    ctx.settings.ct.exclude_logs = [pos.log_id]
    clock.advance(minutes=ctx.settings.ct.stale_after_minutes + 1)  # long enough to be "stale" if still watched
    result = run_job(ctx, "ct_poll")
    assert result["ok"] and result["retired_logs"] == [pos.description]
    with Session(ctx.engine) as s:
        assert s.exec(select(LogPosition)).one().state == "retired"
        assert [f.status for f in s.exec(select(Finding))] == [FindingStatus.RESOLVED]
    ctx.settings.ct.exclude_logs = []
    result = run_job(ctx, "ct_poll")
    with Session(ctx.engine) as s:
        assert s.exec(select(LogPosition)).one().state != "retired"
    assert result["lagging_logs"] == 1 and _lagging(ctx) is not None and _lagging(ctx).status == FindingStatus.OPEN
    observe(f"off the list: retired ({pos.description}), lag finding resolved; back: lagging again")

"""The JOBS table: every job is configured, runnable from the CLI, and failures become Findings."""

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from tests import jobs_for_tests
from watcher import schedule
from watcher.cli import app
from watcher.core.config import JobsSettings
from watcher.core.models import Event, Finding, FindingStatus, JobState
from watcher.schedule import JOBS, Job, build_scheduler, run_job


def test_every_job_has_a_config_key_and_a_cli_name():
    keys = set(JobsSettings.model_fields) - {"failing_after", "stop_grace_seconds"}
    assert {j.name for j in JOBS} == keys
    out = CliRunner().invoke(app, ["jobs"])
    assert out.exit_code == 0, out.output
    for j in JOBS:
        assert j.name in out.output


def test_every_job_is_a_function_and_every_name_is_unique():
    assert all(callable(j.run) for j in JOBS)
    assert len({j.name for j in JOBS}) == len(JOBS)


@pytest.fixture
def test_jobs(monkeypatch):
    monkeypatch.setattr(schedule, "JOBS", (Job("ct_poll", jobs_for_tests.ok, "ok"),
                                           Job("health", jobs_for_tests.broken, "broken")))


def test_a_job_run_is_recorded(ctx, test_jobs):
    result = run_job(ctx, "ct_poll")
    assert result["ok"] and result["found"] == 3
    with Session(ctx.engine) as s:
        st = s.get(JobState, "ct_poll")
        assert st.runs == 1 and st.last_ok_at == ctx.now() and st.last_summary == {"found": 3}
        assert s.exec(select(Event).where(Event.action == "job.ran")).one().detail["job"] == "ct_poll"


def test_repeated_failures_open_a_finding_and_success_resolves_it(ctx, test_jobs, monkeypatch):
    n = ctx.settings.jobs.failing_after
    for i in range(n):
        result = run_job(ctx, "health")
        assert not result["ok"] and "500" in result["error"]
        with Session(ctx.engine) as s:
            opened = s.exec(select(Finding).where(Finding.kind == "job_failing")).first()
            assert (opened is not None) == (i == n - 1)
    monkeypatch.setattr(schedule, "JOBS", (Job("health", jobs_for_tests.ok, "ok"),))
    assert run_job(ctx, "health")["ok"]
    with Session(ctx.engine) as s:
        f = s.exec(select(Finding).where(Finding.kind == "job_failing")).one()
        assert f.status == FindingStatus.RESOLVED
        assert s.get(JobState, "health").consecutive_failures == 0
        assert len(s.exec(select(Event).where(Event.action == "job.failed")).all()) == n


def test_the_scheduler_has_every_enabled_job_at_its_interval(ctx):
    sched = build_scheduler(ctx)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {j.name for j in JOBS}
    assert jobs["snapshot"].trigger.interval.total_seconds() == ctx.settings.jobs.snapshot.interval_seconds


def test_a_disabled_job_is_not_scheduled(tmp_path, clock):
    from tests.conftest import make_settings
    from watcher.context import build_context

    c = build_context(make_settings(tmp_path, jobs={"permutations": {"enabled": False, "interval_seconds": 5}}),
                      clock=clock)
    assert "permutations" not in {j.id for j in build_scheduler(c).get_jobs()}

"""Silent misconfiguration made loud: each ends in one line that names the input and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.inputs.conftest import write_config
from watcher.cli import app

runner = CliRunner()


def _one_line(out) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in out.output, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.mark.reliability(
    "`omamori run` with a brands file that does not exist",
    "refuses to start (exit 2) with one line naming the file and the two ways out (0.1 ran with 0 brands, exit 0)",
    area="configuration",
)
def test_run_refuses_to_start_without_brands(tmp_path: Path, observe) -> None:
    out = runner.invoke(app, ["-c", str(write_config(tmp_path, brands=None)), "--lang", "en", "run"])
    line = _one_line(out)
    assert out.exit_code == 2 and "no-such-brands.toml does not exist" in line and "--allow-no-brands" in line
    ja = _one_line(runner.invoke(app, ["-c", str(write_config(tmp_path, brands=None)), "run"]))  # the config's ja
    assert "起動しません" in ja and "no-such-brands.toml が存在しません" in ja
    observe(f"exit 2: {line[:150]}...")


def test_run_without_brands_on_purpose_gets_past_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watcher.core import lease

    cfg = write_config(tmp_path, brands=None, extra="allow_no_brands = true")
    called: list[str] = []
    # Stop at the first step after the check, the scheduler lease (the service itself: tests/service).
    monkeypatch.setattr(lease.Keeper, "wait", lambda *a, **k: called.append("wait") or False)
    out = runner.invoke(app, ["-c", str(cfg), "run"])
    assert out.exit_code == 0 and called == ["wait"], out.output


@pytest.mark.parametrize(("kind", "url", "expect"), [
    ("PostgreSQL server not listening", "postgresql+psycopg://omamori:s3cret@127.0.0.1:9/omamori", "Connection refused"),
    ("not a URL", "not a url", "Could not parse"),
    ("driver not installed", "mysql://omamori:s3cret@127.0.0.1/omamori", "MySQLdb"),
])
@pytest.mark.reliability(
    "database.url that does not work: {kind}",
    "one line naming the URL with the password hidden, the cause, and the fix; exit 2 (0.1: a 55-164 line traceback)",
    area="configuration",
)
def test_a_database_that_does_not_work_is_one_line(tmp_path: Path, kind: str, url: str, expect: str, observe) -> None:
    cfg = write_config(tmp_path, extra=f'[database]\nurl = "{url}"')
    out = runner.invoke(app, ["-c", str(cfg), "--lang", "en", "status"])
    line = _one_line(out)
    assert out.exit_code == 2 and line.startswith("database error:") and expect in line
    assert "s3cret" not in line and "database.url" in line
    observe(f"exit 2: {line[:160]}...")


@pytest.mark.reliability(
    "crawl.proxy = \"htp:/127.0.0.1\" (a typo)",
    "one config error line naming the key, the value and the expected form; exit 2",
    area="configuration",
)
def test_a_bad_proxy_url_is_one_line(tmp_path: Path, observe) -> None:
    cfg = write_config(tmp_path, extra='[crawl]\nproxy = "htp:/127.0.0.1"')
    out = runner.invoke(app, ["-c", str(cfg), "status"])
    line = _one_line(out)
    assert out.exit_code == 2 and "crawl.proxy" in line and "http://host:port" in line
    observe(f"exit 2: {line}")
    for good in ("http://127.0.0.1:3128", "socks5://proxy.internal:1080"):
        cfg = write_config(tmp_path, extra=f'[crawl]\nproxy = "{good}"')
        assert runner.invoke(app, ["-c", str(cfg), "jobs"]).exit_code == 0

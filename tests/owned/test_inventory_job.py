"""The inventory, mailauth and report jobs end to end on the lab world, through the scheduler and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from tests.owned.conftest import is_open
from tests.owned.test_takeover import world
from watcher.core.models import JobState, OwnedDomain
from watcher.owned import inventory, mailauth
from watcher.schedule import run_job


def registrations(ctx, rdap, whois) -> None:
    now = ctx.now()
    for name in ("hzsec.com", "hoshizora-sec.com"):
        rdap.set_domain(name, created=now - dt.timedelta(days=3000), expires=now + dt.timedelta(days=300),
                        statuses=["client transfer prohibited", "client update prohibited"], dnssec=True)
    for name in ("hoshizora-sec.co.jp", "hoshizora.jp", "kaede-sec.co.jp"):
        whois.set_domain(name, created=(now - dt.timedelta(days=4000)).date(),
                         expires=(now + dt.timedelta(days=200)).date())


def test_every_check_has_a_test() -> None:
    here = Path(__file__).parent
    text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
    for check in (*inventory.CHECKS, *mailauth.CHECKS, *inventory.SOURCES):
        assert check.__name__ in text, f"{check.__module__}.{check.__name__} has no test in tests/owned"


def test_inventory_job_on_the_lab(make_ctx, lab_dns, lab_web, lab_rdap, lab_whois) -> None:
    world(lab_dns)
    lab_dns.set("www.hzsec.com", "A", "192.0.2.20")  # found by the DNS source (www of an apex)
    lab_dns.set("hoshizora.jp", "MX", ["10 mx1.hoshizora.jp", "20 aspmx.l.google.com"])
    lab_dns.set("mx1.hoshizora.jp", "A", "192.0.2.25")
    lab_web.publish("www.hoshizora-sec.co.jp", "official")
    ctx = make_ctx(dns=lab_dns, web=lab_web, rdap=lab_rdap, whois=lab_whois)
    registrations(ctx, lab_rdap, lab_whois)
    result = run_job(ctx, "inventory", actor="test")
    assert result["ok"], result
    # 5 apexes of two brands + 3 named hosts (the lapsed one is not ours) + 2 found in DNS
    assert result["owned"] == 10 and result["owned_added_dns"] == 2
    assert is_open(ctx, "takeover_mx", "hzsec.com")  # the lab world's MX to a dead provider
    with Session(ctx.engine) as s:
        state = s.get(JobState, "inventory")
        assert state and state.runs == 1 and state.last_summary["owned"] == result["owned"]
        rows = {d.name: d for d in s.exec(select(OwnedDomain))}
    assert rows["hoshizora-sec.co.jp"].dns["records"]["A"] == ["192.0.2.10"]
    assert rows["www.hzsec.com"].source.value == "dns" and rows["mx1.hoshizora.jp"].source.value == "dns"
    assert "aspmx.l.google.com" not in rows  # a provider's host is not ours to inventory


def test_cli(make_ctx, lab_dns, tmp_path: Path) -> None:
    from watcher.cli import app

    world(lab_dns)
    ctx = make_ctx(dns=lab_dns)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nstate_dir = "{ctx.settings.state_dir}"\nbrands_file = "{ctx.settings.service.brands_file}"\n'
                   f'[dns]\nnameservers = ["{lab_dns.host}"]\nport = {lab_dns.port}\ntimeout = 1.0\nretries = 0\n',
                   encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["-c", str(cfg), "report", "official-domains"])
    assert res.exit_code == 0, res.output
    assert (ctx.state_dir / "reports" / "official-domains.json").exists()
    res = runner.invoke(app, ["-c", str(cfg), "inventory", "list"])
    assert res.exit_code == 0 and "hoshizora-sec.co.jp" in res.output
    res = runner.invoke(app, ["-c", str(cfg), "report", "weekly", "--no-mail"])
    assert res.exit_code == 0 and "weekly-" in res.output

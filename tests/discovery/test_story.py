"""The discovery story on the lab's small world: permutations and a customer's mail become candidates,
and RDAP / WHOIS / IP RDAP / hosting facts come back for them from the world's own servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import select
from typer.testing import CliRunner

from watcher.commands.look import registration_lines
from watcher.context import Context
from watcher.core.models import Candidate
from watcher.discovery.intake import read_eml_dir
from watcher.discovery.permutations import scan

ROOT = Path(__file__).resolve().parents[2]


def _world_ctx(make_ctx: Any, world: Any, tmp_path: Path, **more: Any) -> Context:
    (tmp_path / "dns.json").write_text(json.dumps(world.rdap.bootstrap()))
    (tmp_path / "ipv4.json").write_text(json.dumps(world.rdap.ipv4_bootstrap()))
    return make_ctx(
        dns={"nameservers": ["127.0.0.1"], "port": world.dns.port, "timeout": 0.5, "retries": 1,
             "rate_limit": 5000.0},
        rdap={"bootstrap_file": str(tmp_path / "dns.json"), "ip_bootstrap_file": str(tmp_path / "ipv4.json"),
              "allow_http": True, "requests_per_minute": 6000,
              "whois_servers": {"jp": f"127.0.0.1:{world.whois.port}"}},
        **more)


def test_discovery_story_on_the_small_world(make_ctx: Any, lab_world: Any, tmp_path: Path) -> None:
    world = lab_world(ROOT / "data" / "lab" / "small.toml")
    ctx = _world_ctx(make_ctx, world, tmp_path, imap={"eml_dir": str(ROOT / "data" / "lab" / "mail")})
    summary = scan(ctx, domains=["hoshizora-sec.co.jp"])
    with ctx.session() as s:
        found = {c.domain: c for c in s.exec(select(Candidate))}
    assert {"hoshizora-sec.co", "hoshizora-sec-login.top"} <= set(found)  # typo + finance word
    assert "hoshizora-sec.com" not in found  # our own defensive domain
    assert found["hoshizora-sec.co"].facts["fuzzer"] == "tld-swap"
    assert summary["failed"] == 0

    read_eml_dir(ctx, ROOT / "data" / "lab" / "mail")  # the customer's forwarded mail
    with ctx.session() as s:
        k = s.exec(select(Candidate).where(Candidate.domain == "k3v9q.xyz")).one()
    assert k.urls == ["http://k3v9q.xyz/hoshizora/login.php?id=8812"] and k.brand_id is not None

    reg = ctx.rdap.domain("hoshizora-sec.co")
    assert reg.registrar == "Lab Registrar K.K." and reg.abuse_email == "abuse@lab-registrar.test"
    jp = ctx.rdap.domain("hoshizora-sec.co.jp")  # .jp: WHOIS, JPRS layout
    assert jp.source == "whois" and jp.exists and jp.created_at is not None
    lines = registration_lines(ctx, "www.hoshizora-sec-login.top", "en")
    assert any("registrar: Cheap Names Ltd." in line for line in lines)
    assert any(line.startswith("network of ") and "abuse@lab-hosting.test" in line for line in lines)


def test_cli_permutations_and_intake_commands(make_ctx: Any, lab_dns: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import watcher.cli as cli
    from watcher.commands import invocation

    lab_dns.set("kaede-sec.jp", "A", "203.0.113.31")
    ctx = make_ctx(dns={"nameservers": ["127.0.0.1"], "port": lab_dns.port, "timeout": 0.5, "rate_limit": 5000.0})
    monkeypatch.setattr(invocation._Invocation, "pinned", ctx)
    runner = CliRunner()
    out = runner.invoke(cli.app, ["permutations", "scan", "--brand", "kaede"])
    assert out.exit_code == 0, out.output
    assert "new_candidates: 1" in out.output
    out = runner.invoke(cli.app, ["permutations", "registered"])
    assert "kaede-sec.jp" in out.output
    out = runner.invoke(cli.app, ["permutations", "list", "hzsec.com", "--fuzzer", "co-jp"])
    assert "co-jp\thzsec-com.top" in out.output
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"url": "https://kaede-sec-login.top/", "date": "2026-11-25", "description": "かえで証券"}\n')
    out = runner.invoke(cli.app, ["intake", "feed", str(feed)])
    assert out.exit_code == 0 and "candidates_created: 1" in out.output
    mails = len(list((ROOT / "data" / "lab" / "mail").glob("*.eml")))
    out = runner.invoke(cli.app, ["intake", "eml", str(ROOT / "data" / "lab" / "mail")])
    assert out.exit_code == 0 and f"reports: {mails}" in out.output
    out = runner.invoke(cli.app, ["intake", "imap"])
    assert out.exit_code == 2  # no [imap] host configured

"""`omamori takedown ...` against the lab: confirm, list, show, approve --all, send, reply."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from tests.takedown.tdlab import PHISH, add_candidate, take_snapshot
from watcher.cli import app

runner = CliRunner()


def _config(tmp_path, ctx, world) -> str:
    s = ctx.settings
    p = tmp_path / "config.toml"
    p.write_text(f"""
[service]
state_dir = "{s.state_dir}"
brands_file = "{s.path(s.service.brands_file)}"
lab_mode = true
[database]
url = "{s.database_url}"
[smtp]
host = "{world.smtp.host}"
port = {world.smtp.port}
starttls = false
from_address = "brand-security@hzsec.com"
[rdap]
bootstrap_file = "{s.rdap.bootstrap_file}"
ip_bootstrap_file = "{s.rdap.ip_bootstrap_file}"
allow_http = true
[takedown]
parties_file = "data/lab/takedown-parties.json"
cert_parties = ["jpcert"]
""", encoding="utf-8")
    return str(p)


def test_cli_confirm_show_approve_send_reply(ctx, world, tmp_path):
    cand = add_candidate(ctx)
    take_snapshot(ctx, world, cand)
    cfg = _config(tmp_path, ctx, world)

    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "confirm", PHISH, "--reason", "clone"])
    assert out.exit_code == 0, out.output
    assert out.output.count("drafted TD-") == 3

    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "list"], env={"COLUMNS": "250"})
    assert out.exit_code == 0 and "abuse@cheapnames.test" in out.output and "draft" in out.output

    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "show", "3"])
    assert out.exit_code == 0, out.output
    assert "Subject: 【フィッシングサイト停止のお願い】" in out.output, out.output
    assert re.search(r"screenshot\.[0-9a-f]{64}\.png", out.output)  # each evidence file named by its sha256

    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "approve", "--all", PHISH])
    assert out.exit_code == 0 and out.output.count("queued TD-") == 3

    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "send"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output.strip().splitlines()[-1])["sent"] == 3
    assert len(world.smtp.messages()) == 3

    reply = tmp_path / "reply.txt"
    reply.write_text("We have suspended the domain.", encoding="utf-8")
    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "reply", "1", "--file", str(reply)])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["--config", cfg, "--lang", "en", "takedown", "list", "--status", "answered"], env={"COLUMNS": "250"})
    assert "abuse@cheapnames.test" in out.output

"""`omamori capture url URL` prints the record (run here with a browser that cannot start, so the
plain-HTTP fallback answers: the CLI wiring is what is tested, without a Chromium start)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from watcher.cli import app


def test_capture_url_prints_the_record(tmp_path: Path, lab_web: Any) -> None:
    lab_web.publish("clone.test", "clone-partial")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[service]\nstate_dir = "{tmp_path / "state"}"\nlab_mode = true\n'
        f'brands_file = "{Path(__file__).resolve().parents[2] / "data" / "brands.example.toml"}"\n'
        f'[crawl]\nproxy = "{lab_web.proxy_url}"\nbrowser_executable = "/bin/false"\n'
        f'[dns]\nnameservers = ["127.0.0.1"]\nport = 9\ntimeout = 0.2\nretries = 0\n')
    res = CliRunner().invoke(app, ["capture", "url", "http://clone.test/"], env={"OMAMORI_CONFIG": str(cfg)})
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout[res.stdout.index("{"):])
    assert rec["ok"] and rec["title"] == "ログイン" and not rec["browser_used"]
    assert rec["forms"][0]["has_password"]

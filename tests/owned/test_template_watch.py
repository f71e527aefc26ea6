"""The message_lint job: the firm's template folders, linted by the scheduler; a Finding per bad file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.owned.conftest import finding, is_open, is_resolved
from watcher.schedule import run_job

CORPUS = Path(__file__).parent / "templates"


def test_message_lint_job(make_ctx, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(CORPUS, folder)
    (folder / "expected.json").unlink()
    (folder / "README.md").unlink()
    ctx = make_ctx(lint={"template_dirs": [str(folder)], "short_domains": ["go.hzsec.com"]})
    result = run_job(ctx, "message_lint", actor="test")
    assert result["ok"], result
    expected = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")).items()
                if not k.startswith("_")}
    bad = [name for name, want in expected.items() if want]
    assert result["templates"] == len(expected) and result["failing"] == len(bad)
    f = finding(ctx, "message_link", f"template:{folder / 'sms-ja-login.txt'}")
    assert f is not None and f.data["problems"][0]["rule"] == "login-page" and f.severity.value == "high"
    assert "ログイン" in f.data["problems_ja"][0]["reason"]
    # The template is fixed: its finding resolves at the next run; a removed bad file's too.
    (folder / "sms-ja-login.txt").write_text("【ほしぞら証券】アプリからログインしてください。\n", encoding="utf-8")
    (folder / "sms-ja-shortener.txt").unlink()
    run_job(ctx, "message_lint", actor="test")
    assert is_resolved(ctx, "message_link", f"template:{folder / 'sms-ja-login.txt'}")
    assert is_resolved(ctx, "message_link", f"template:{folder / 'sms-ja-shortener.txt'}")
    assert is_open(ctx, "message_link", f"template:{folder / 'sms-en-login.txt'}")

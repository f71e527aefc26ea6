"""The weekly report's first page as a reader sees it: rendered in Debian's Chromium (Playwright) and
screenshotted. With ``OMAMORI_UPDATE_SCREENSHOTS=1`` the picture replaces
``docs/screenshots/weekly-report.png`` (the README's); an ordinary run leaves the tree clean."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.report.seed import seed_week
from watcher.core.config import ROOT
from watcher.report import weekly as report

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SLOT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium)")]


def test_the_first_page_shows_summary_trends_and_decisions(make_ctx, clock, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    clock.set(SLOT)
    ctx = make_ctx(report={"weekday": "wed", "time": "09:00"})
    seed_week(ctx)
    _, paths = report.render_weekly(ctx, SLOT, start=SLOT - timedelta(days=7), end=SLOT)
    shot = tmp_path / "weekly-report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 820, "height": 1100}, device_scale_factor=1)
            page.goto(paths["html"].as_uri())
            first = page.locator("section.page.first").first
            text = first.inner_text()
            first.screenshot(path=str(shot))
        finally:
            browser.close()
    for heading in ("今週起きたこと", "先週からの変化", "判断をお願いしたいこと"):
        assert heading in text
    assert "4 件を偽サイトと確認" in text and "hoshizora-secure.top" in text
    assert shot.stat().st_size > 10_000
    if os.environ.get("OMAMORI_UPDATE_SCREENSHOTS") == "1":
        (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "weekly-report.png")

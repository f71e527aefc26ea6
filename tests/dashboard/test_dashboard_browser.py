"""The served dashboard in a real browser: ``streamlit run`` on a free port, Playwright on Debian's
Chromium. Sign in, open a candidate, confirm it; check the database; screenshot the main views.

Screenshots go to the test's temporary directory; with ``OMAMORI_UPDATE_SCREENSHOTS=1`` they also
replace ``docs/screenshots/*.png`` (the README's pictures), so an ordinary run leaves the tree clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from tests.dashboard.seed import PASSWORD, seed, write_config
from watcher.context import build_context
from watcher.core.config import ROOT, load_settings
from watcher.core.models import Candidate, CandidateStatus, Event

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium)"),
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cfg = write_config(tmp_path)
    ctx = build_context(load_settings(cfg, environ={}))
    seed(ctx)
    ctx.engine.dispose()
    port = _free_port()
    env = {**os.environ, "OMAMORI_CONFIG": str(cfg)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("streamlit did not become healthy")
        yield url, cfg
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _settle(page: object) -> None:
    """Wait until the script run that the last click started has finished drawing: no running
    indicator, and no element of the previous run still marked stale; then let charts paint."""
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')", timeout=20_000)
    page.wait_for_timeout(700)  # type: ignore[attr-defined]


def test_sign_in_open_confirm_and_screenshots(served: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, cfg = served
    out = tmp_path / "shots"
    out.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ja-JP")
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_label("ユーザー名").fill("approver")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.screenshot(path=out / "sign-in.png")
        page.get_by_role("button", name="サインイン").click()
        page.get_by_role("heading", name="今やること").wait_for(timeout=20_000)  # the first view
        page.locator("[data-testid='stSidebar']").get_by_text("トリアージ", exact=True).click()
        page.get_by_role("heading", name="トリアージ").wait_for(timeout=20_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for()
        _settle(page)
        page.screenshot(path=out / "triage.png")

        # The picker defaults to the highest score: the exact clone of the login page.
        page.get_by_role("button", name="開く").click()
        page.get_by_role("heading", name="hoshizora-sec-login.top").wait_for(timeout=20_000)
        page.locator("[data-testid='stImage']").nth(1).wait_for()
        _settle(page)
        page.set_viewport_size({"width": 1440, "height": 2200})
        page.screenshot(path=out / "candidate.png")

        page.get_by_label("理由", exact=True).fill("ログインページの複製（パスワードを外部へ送信）")
        page.get_by_role("button", name="フィッシングと確定する…").click()  # the review of what will be sent
        page.get_by_role("button", name="フィッシングと確定して通報文を作成").click()
        page.locator("[data-testid='stAlert']").first.wait_for(timeout=20_000)
        _settle(page)
        # Streamlit scrolls inside its own container, so full_page cannot reach the drafts: scroll to them.
        page.get_by_role("heading", name="テイクダウン依頼", exact=True).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=out / "candidate-confirmed.png")
        page.set_viewport_size({"width": 1440, "height": 1100})

        for label, name in (("テイクダウン", "takedowns"), ("保有ドメイン", "owned"), ("メール認証", "mailauth"),
                            ("レポート", "reports"), ("稼働状況", "health")):
            page.locator("[data-testid='stSidebar']").get_by_text(label, exact=True).click()
            page.get_by_role("heading", name=label, exact=True, level=2).wait_for(timeout=20_000)
            _settle(page)
            # The scroll position of the previous view is kept; every view's picture starts at its top.
            page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
            page.wait_for_timeout(200)
            page.screenshot(path=out / f"{name}.png")

        # The language switch: the same queue in English.
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("English", exact=True).click()
        sidebar.get_by_text("Triage queue", exact=True).wait_for(timeout=20_000)
        sidebar.get_by_text("Triage queue", exact=True).click()
        page.get_by_role("heading", name="Triage queue", exact=True, level=2).wait_for(timeout=20_000)
        _settle(page)
        page.screenshot(path=out / "triage-en.png")
        browser.close()

    ctx = build_context(load_settings(cfg, environ={}), migrate=False)
    with ctx.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-sec-login.top")).one()
        assert cand.status == CandidateStatus.CONFIRMED
        ev = s.exec(select(Event).where(Event.object_type == "candidate", Event.object_id == cand.id,
                                        Event.action == "candidate.status")).all()[-1]
        assert ev.actor == "dashboard:approver" and ev.detail["to"] == "confirmed"
    ctx.engine.dispose()

    shots = sorted(out.glob("*.png"))
    assert len(shots) == 10 and all(s.stat().st_size > 10_000 for s in shots)
    if os.environ.get("OMAMORI_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        for s in shots:
            shutil.copy(s, SHOTS / s.name)

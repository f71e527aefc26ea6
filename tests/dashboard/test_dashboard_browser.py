"""The served dashboard in a real browser: ``streamlit run`` on a free port, Playwright on Debian's
Chromium. The analyst's day: the first view, a count followed, a closed case, the homoglyph, a
for-sale page dismissed, every view in Japanese; the database checked after; screenshots of each step.

Screenshots go to the test's temporary directory; with ``OMAMORI_UPDATE_SCREENSHOTS=1`` they also
replace ``docs/screenshots/*.png`` (the README's pictures), so an ordinary run leaves the tree clean.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from tests.dashboard.english import english_words
from tests.dashboard.seed import PASSWORD, seed, write_config
from watcher.context import build_context
from watcher.core.config import ROOT, load_settings
from watcher.core.models import Candidate, CandidateStatus, Event
from watcher.schedule import JOBS

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
        " && !document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    page.wait_for_timeout(700)  # type: ignore[attr-defined]


# The page's text as a person reads it: without the letters shown exactly as sent (they are in the
# recipient's language), raw JSON facts, and the report frame (bilingual for management by design).
PAGE_TEXT = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('[data-testid="stCode"], [data-testid="stJson"], iframe, [data-testid="stIFrame"]')
      .forEach(e => e.remove());
  document.body.appendChild(copy);
  copy.style.position = 'absolute'; copy.style.left = '-10000px';
  const text = copy.innerText;
  copy.remove();
  const side = document.querySelector('[data-testid="stSidebar"]');
  return text + '\n' + (side ? side.innerText : '');
}"""


def _japanese_only(page: object, where: str) -> None:
    text = page.evaluate(PAGE_TEXT)  # type: ignore[attr-defined]
    left = english_words(text, allowed=ALLOWED_DATA)
    assert not left, f"English left on {where}: {left[:12]}"


# Names, not sentences: of a registrar, a network or a CA in the seeded world, and of omamori's jobs
# (`omamori job permutations` is what an operator types).
ALLOWED_DATA = frozenset({"names", "hosting", "trusted", "lab", "cheap", "google", "yahoo"}
                         | {j.name for j in JOBS})


def _open_view(page: object, label: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_text(label, exact=True).click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name=label, exact=True, level=2).wait_for(timeout=60_000)  # type: ignore[attr-defined]
    _settle(page)
    # The scroll position of the previous view is kept; every view's picture starts at its top.
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")  # type: ignore[attr-defined]
    page.wait_for_timeout(200)  # type: ignore[attr-defined]


def _open_candidate(page: object, cid: int) -> None:
    _open_view(page, "候補ドメイン")
    box = page.get_by_label("候補 ID")  # type: ignore[attr-defined]
    box.fill(str(cid))
    box.press("Enter")
    _settle(page)


def test_the_analysts_day(served: tuple[str, Path], tmp_path: Path) -> None:
    """What needs me now, a count followed into its list, a closed case with its evidence, the
    homoglyph flagged and confirmed in two steps, a for-sale page dismissed (confirm is not the
    primary action there), and every view read in Japanese with no English left."""
    from playwright.sync_api import sync_playwright

    url, cfg = served
    ids = _ids(cfg)
    out = tmp_path / "shots"
    out.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ja-JP")
        # Generous: six engineers share two cores, and a Streamlit rerun can wait its turn for a while.
        page.set_default_timeout(90_000)
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_label("ユーザー名").fill("approver")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.screenshot(path=out / "sign-in.png")
        page.get_by_role("button", name="サインイン").click()

        # 1. The first view: what needs me now.
        page.get_by_role("heading", name="今やること", level=2).wait_for(timeout=60_000)
        _settle(page)
        # What the auto rule did in the last day is there, each a link to its case.
        page.get_by_role("button", name=re.compile("kaede-sec-login.top → 通報済み")).wait_for(timeout=60_000)
        page.screenshot(path=out / "home.png")
        _japanese_only(page, "the first view")

        # 2. A count is a link: into the queue, filtered to what it counted.
        page.get_by_role("button", name=re.compile("判断待ちの候補: 7")).click()
        page.get_by_role("heading", name="トリアージ", level=2).wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame']").first.wait_for()
        _settle(page)
        page.screenshot(path=out / "triage.png")
        _japanese_only(page, "the triage queue")

        # 3. A closed case keeps its evidence: the last live capture, its screenshot and score.
        _open_candidate(page, ids["hoshizora-sec-mypage.cn"])
        evidence = page.get_by_text(re.compile("証拠: サイトが稼働していた最後のキャプチャ"))
        evidence.wait_for(timeout=60_000)
        assert "スコア 155" in evidence.inner_text()
        page.locator("[data-testid='stImage']").nth(1).wait_for()
        assert page.locator("[data-testid='stImage']").count() >= 2
        _settle(page)
        page.screenshot(path=out / "closed-case.png")
        _japanese_only(page, "a closed case")

        # 4. The homoglyph is flagged as such; confirming shows the letters' claims and recipients first.
        _open_candidate(page, ids["xn--hoshizora-se-khk.com"])
        page.get_by_text("hoshizora-sec.co.jp に酷似").first.wait_for(timeout=60_000)
        assert page.get_by_text("xn--hoshizora-se-khk.com").count() >= 1
        _settle(page)
        page.set_viewport_size({"width": 1440, "height": 2200})
        page.screenshot(path=out / "candidate.png")
        page.get_by_label("理由", exact=True).fill("ロゴを使った偽ログインページ（キリル文字の с）")
        page.get_by_role("button", name="フィッシングと確定する…").click()
        page.get_by_text("通報文に記載される根拠").wait_for(timeout=60_000)
        _settle(page)
        page.get_by_text("通報文に記載される根拠").scroll_into_view_if_needed()
        page.screenshot(path=out / "confirm-review.png")
        _japanese_only(page, "the confirmation's second step")
        page.get_by_role("button", name="フィッシングと確定して通報文を作成", exact=True).click()
        page.get_by_text(re.compile("確定しました")).first.wait_for(timeout=60_000)
        _settle(page)
        page.get_by_role("heading", name="テイクダウン依頼", exact=True).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=out / "candidate-confirmed.png")
        page.set_viewport_size({"width": 1440, "height": 1100})

        # 5. A for-sale page: watch or dismiss comes first, never "confirm".
        _open_candidate(page, ids["hoshizora-sec.co"])
        page.get_by_text(re.compile("フィッシングの表示はありません")).wait_for(timeout=60_000)
        primary = page.locator("[data-testid='stBaseButton-primary']")
        labels = [primary.nth(i).inner_text() for i in range(primary.count())]
        assert labels == ["対象外にする"], labels  # dismiss is the primary action; confirm is not
        page.get_by_label("理由", exact=True).fill("ドメイン販売ページ（当社の表示なし）")
        page.get_by_role("button", name="対象外にする", exact=True).click()
        page.get_by_text("対象外にしました。").first.wait_for(timeout=60_000)
        _settle(page)
        page.get_by_role("button", name="確認待ちに戻す", exact=True).wait_for(timeout=60_000)
        primary = page.locator("[data-testid='stBaseButton-primary']")
        closed = [primary.nth(i).inner_text() for i in range(primary.count())]
        assert closed == ["確認待ちに戻す"], closed  # decided: reopening is the one thing left
        page.screenshot(path=out / "for-sale-dismissed.png")

        # 6. Every view, in Japanese only.
        for label, name in (("テイクダウン", "takedowns"), ("保有ドメイン", "owned"), ("メール認証", "mailauth"),
                            ("レポート", "reports"), ("稼働状況", "health")):
            _open_view(page, label)
            page.screenshot(path=out / f"{name}.png")
            _japanese_only(page, label)

        # The language switch: the same queue in English.
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("English", exact=True).click()
        sidebar.get_by_text("Triage queue", exact=True).wait_for(timeout=60_000)
        sidebar.get_by_text("Triage queue", exact=True).click()
        page.get_by_role("heading", name="Triage queue", exact=True, level=2).wait_for(timeout=60_000)
        _settle(page)
        page.screenshot(path=out / "triage-en.png")
        browser.close()

    ctx = build_context(load_settings(cfg, environ={}), migrate=False)
    with ctx.session() as s:
        homoglyph = s.exec(select(Candidate).where(Candidate.domain == "xn--hoshizora-se-khk.com")).one()
        assert homoglyph.status == CandidateStatus.CONFIRMED
        ev = s.exec(select(Event).where(Event.object_type == "candidate", Event.object_id == homoglyph.id,
                                        Event.action == "candidate.status")).all()[-1]
        assert ev.actor == "dashboard:approver" and ev.detail["to"] == "confirmed"
        for_sale = s.exec(select(Candidate).where(Candidate.domain == "hoshizora-sec.co")).one()
        assert for_sale.status == CandidateStatus.DISMISSED
    ctx.engine.dispose()

    shots = sorted(out.glob("*.png"))
    assert len(shots) == 14 and all(s.stat().st_size > 10_000 for s in shots)
    if os.environ.get("OMAMORI_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        for s in shots:
            shutil.copy(s, SHOTS / s.name)


def _ids(cfg: Path) -> dict[str, int]:
    ctx = build_context(load_settings(cfg, environ={}), migrate=False)
    with ctx.session() as s:
        out = {c.domain: int(c.id or 0) for c in s.exec(select(Candidate))}
    ctx.engine.dispose()
    return out

"""Chromium (Playwright with Debian's binary) reaches lab sites by name through the lab proxy."""

from __future__ import annotations

import shutil

import pytest

from lab.web import LabWeb

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")]


def test_chromium_through_the_proxy(lab_web: LabWeb) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    lab_web.publish("trade.hoshizora-sec.co.jp", "official")
    lab_web.publish("www-hoshizora-sec-co-jp.k7x2.top", "clone-recolored")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True,
                                    proxy={"server": lab_web.proxy_url})
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            assert page.goto("https://trade.hoshizora-sec.co.jp/login").status == 200
            assert page.title() == "ログイン｜ほしぞら証券"
            assert page.locator("input[type=password]").count() == 1
            assert page.goto("http://www-hoshizora-sec-co-jp.k7x2.top/").status == 200
            png = page.screenshot()
            assert png.startswith(b"\x89PNG")
        finally:
            browser.close()
    assert ("GET", "https", "trade.hoshizora-sec.co.jp", "/assets/hoshizora-logo.png") in lab_web.requests

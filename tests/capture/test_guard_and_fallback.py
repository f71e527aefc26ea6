"""The guard (private targets refused outside lab mode) and the plain-HTTP fallback.

A browser that cannot start is simulated with a real executable that exits at once (``/bin/false``):
the crawler must still return every page, fetched over plain HTTP, and say why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from watcher.capture.crawl import capture_batch
from watcher.context import build_context


@pytest.fixture
def plain_ctx(tmp_path: Path, lab_web: Any) -> Any:
    lab_web.publish("clone.test", "clone-exact")
    settings = make_settings(tmp_path, crawl={"proxy": lab_web.proxy_url, "browser_executable": "/bin/false",
                                              "page_timeout_seconds": 8, "ca_file": lab_web.ca_file})
    ctx = build_context(settings)
    yield ctx
    ctx.engine.dispose()


def test_private_and_loopback_targets_are_refused_outside_lab_mode(tmp_path: Path) -> None:
    ctx = build_context(make_settings(tmp_path, service={"lab_mode": False}))
    targets = [
        {"id": "private", "url": "http://intranet.example/", "addresses": ["10.1.2.3"]},
        {"id": "loopback", "url": "http://127.0.0.1:8080/admin"},
        {"id": "metadata", "url": "http://169.254.169.254/latest/meta-data/"},
        {"id": "cgnat", "url": "http://cg.example/", "addresses": ["100.64.0.9"]},
        {"id": "file", "url": "file:///etc/passwd"},
        {"id": "localhost", "url": "http://localhost/"},
    ]
    records = {r["id"]: r for r in capture_batch(ctx, targets)}
    for tid, r in records.items():
        assert not r["ok"] and r["error_kind"] == "guard" and r["error"].startswith("refused"), tid
    assert "private" in records["private"]["error"] and "loopback" in records["loopback"]["error"]
    assert "metadata" in records["metadata"]["error"]
    ctx.engine.dispose()


def test_a_browser_that_fails_falls_back_to_plain_http(plain_ctx: Any) -> None:
    (r,) = capture_batch(plain_ctx, [{"id": "1", "url": "https://clone.test/", "addresses": ["203.0.113.5"]}])
    assert r["ok"] and not r["browser_used"]
    assert "browser" in r["fallback_reason"]
    assert r["title"] == "ログイン｜ほしぞら証券" and r["forms"][0]["has_password"]
    assert r["status"] == 200 and r["files"]["html"] and "screenshot" not in r["files"]
    assert plain_ctx.evidence.verify(r["files"]["html"])


def test_fallback_failure_is_an_error_record_not_a_crash(plain_ctx: Any) -> None:
    (r,) = capture_batch(plain_ctx, [{"id": "x", "url": "https://nowhere.test/", "addresses": ["203.0.113.9"]}])
    assert not r["ok"] and "plain HTTP failed too" in r["error"]


def test_odd_unicode_becomes_storable_text(plain_ctx: Any, lab_web: Any) -> None:
    from crawlers.run import _clean

    assert _clean({"t": "a\ud800b\x00c", "l": ["\x00x", 1]}) == {"t": "a?bc", "l": ["x", 1]}
    lab_web.publish("odd.test", "corporate", title="ｈｏｓｈｉｚｏｒａ\u202e\u200b😀", text="\x00NUL 𠮷野家 \ufeff")
    (r,) = capture_batch(plain_ctx, [{"id": "1", "url": "http://odd.test/", "addresses": ["203.0.113.7"]}])
    assert r["ok"] and "\x00" not in r["text"] and "𠮷野家" in r["text"] and "😀" in r["title"]

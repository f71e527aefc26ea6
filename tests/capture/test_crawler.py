"""The crawler against the lab's web hosts: one browser batch shared by the module's tests.

The batch holds a redirect chain, a redirect chain longer than the cap, a slow page, a huge page,
an endless page, a 410 page, a page that opens a video and an event stream, and the same clone twice
(evidence stored once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.capture.conftest import needs_browser
from watcher.capture.crawl import capture_batch
from watcher.context import Context

pytestmark = [pytest.mark.browser, needs_browser]

# A video and an event stream: endless, and nothing a reviewer needs.
STREAMS = ("<html><head><title>streams</title></head><body><p>live</p>"
           "<video src='/movie.mp4' autoplay muted></video><img src='/still.png'>"
           "<script>new EventSource('/events');</script></body></html>")

# A page that patches the DOM's serialisers to show a reviewer something else.
FORGER = ("<!DOCTYPE html><html><head><title>forger</title></head><body><form action='/steal'>"
          "<input type='password' name='pw'></form><script>"
          "Object.defineProperty(Element.prototype, 'outerHTML', {get() { return '<html>harmless</html>'; }});"
          "Object.defineProperty(Element.prototype, 'innerHTML', {get() { return 'harmless'; }});"
          "XMLSerializer.prototype.serializeToString = () => '<html>harmless</html>';"
          "</script></body></html>")

SITES = {
    "redirect.test": ("redirect", {"hops": 3}),
    "loop.test": ("redirect", {"hops": 12}),
    "slow.test": ("slow", {"delay": 2.0}),
    "huge.test": ("huge", {"size": 6 * 1024 * 1024}),
    "endless.test": ("endless", {}),
    "gone.test": ("gone", {}),
    "clone-a.test": ("clone-exact", {}),
    "clone-b.test": ("clone-exact", {}),
    "streams.test": ("page", {"body": STREAMS}),
    "forger.test": ("page", {"body": FORGER}),
}


@pytest.fixture(scope="module")
def batch(lab: tuple[Any, Any, Any, Any]) -> dict[str, Any]:
    ctx, web, _dns, _rdap = lab
    for host, (kind, opts) in SITES.items():
        web.publish(host, kind, **opts)
    ctx.settings.crawl.max_redirects = 5
    ctx.settings.crawl.max_bytes = 1024 * 1024
    targets = [{"id": h, "url": f"http://{h}/", "addresses": [], "profile": "desktop"} for h in SITES]
    targets.append({"id": "mobile", "url": "http://clone-a.test/", "addresses": [], "profile": "mobile"})
    records = capture_batch(ctx, targets)
    return {"records": {r["id"]: r for r in records}, "ctx": ctx, "requests": list(web.requests)}


def test_every_target_yields_one_record(batch: dict[str, Any]) -> None:
    # Hostile-ish pages, each capped at its budget: the batch cannot stall (pytest's timeout is the
    # backstop; no stopwatch here, the machine is shared).
    assert set(batch["records"]) == {*SITES, "mobile"}


def test_media_and_event_streams_are_refused_inside_the_browser(batch: dict[str, Any]) -> None:
    r = batch["records"]["streams.test"]
    assert r["ok"] and r["browser_used"] and r["title"] == "streams", r.get("error")
    asked = {path for _m, _s, host, path in batch["requests"] if host == "streams.test"}
    assert "/still.png" in asked  # the page's other requests go out (through the gate)
    assert not asked & {"/movie.mp4", "/events"}, asked


def test_the_kept_html_is_the_page_itself_whatever_its_scripts_patch(batch: dict[str, Any]) -> None:
    r = batch["records"]["forger.test"]
    kept = batch["ctx"].evidence.path(r["files"]["html"]).read_text(encoding="utf-8")
    assert kept.startswith("<!DOCTYPE html>") and "name=\"pw\"" in kept and "action=\"/steal\"" in kept, kept[:300]
    assert "harmless</html>" not in kept.split("<script>")[0]


def test_redirect_chain_is_recorded(batch: dict[str, Any]) -> None:
    r = batch["records"]["redirect.test"]
    assert r["ok"] and r["browser_used"] and r["final_url"] == "http://redirect.test/final"
    assert [h["status"] for h in r["redirects"]] == [302, 301, 302, 301]
    assert r["redirects"][0]["url"] == "http://redirect.test/"


def test_redirects_beyond_the_cap_are_not_followed(batch: dict[str, Any]) -> None:
    r = batch["records"]["loop.test"]
    assert not r["ok"] and r["error_kind"] == "redirects" and "more than 5 redirects" in r["error"]
    assert len(r["redirects"]) == 5 + 1


def test_slow_page_is_captured_in_the_browser(batch: dict[str, Any]) -> None:
    r = batch["records"]["slow.test"]
    assert r["ok"] and r["browser_used"], r.get("fallback_reason")
    assert "ゆっくり" in r["text"] and r["files"]["screenshot"]


def test_huge_page_is_cut_at_the_byte_cap(batch: dict[str, Any]) -> None:
    r = batch["records"]["huge.test"]
    assert r["ok"] and r["truncated"]
    html = batch["ctx"].evidence.get(r["files"]["html"])
    assert len(html) <= 1024 * 1024 + 4


def test_endless_page_ends_within_the_page_budget(batch: dict[str, Any]) -> None:
    r = batch["records"]["endless.test"]
    assert r["ok"] and "まだ続きます" in r["text"]
    assert r["truncated"] or r["browser_used"]


def test_gone_page_keeps_its_status(batch: dict[str, Any]) -> None:
    r = batch["records"]["gone.test"]
    assert r["ok"] and r["status"] == 410


def test_the_clone_is_captured_with_forms_and_evidence(batch: dict[str, Any]) -> None:
    r = batch["records"]["clone-a.test"]
    assert r["title"] == "ログイン｜ほしぞら証券"
    (form,) = r["forms"]
    assert form["has_password"] and form["posts_to_host"] == "clone-a.test" and form["method"] == "post"
    assert {"phash", "dhash", "colorhash", "ssdeep", "tlsh"} <= set(r["hashes"])
    assert any(i["alt"] == "ほしぞら証券" and i["w"] > 0 for i in r["images"])


def test_evidence_files_are_stored_once_by_sha256(batch: dict[str, Any]) -> None:
    ctx: Context = batch["ctx"]
    a, b = batch["records"]["clone-a.test"], batch["records"]["clone-b.test"]
    # The same kit on two hosts: the same rendered HTML, the same sha256, one file in the store.
    assert a["files"]["html"] == b["files"]["html"]
    for sha in (a["files"]["html"], a["files"]["screenshot"], b["files"]["screenshot"]):
        path: Path = ctx.evidence.path(sha)
        assert ctx.evidence.verify(sha)
        assert [p.name for p in path.parent.iterdir() if p.name.startswith(sha)] == [sha]


def test_mobile_profile_uses_a_phone_viewport(batch: dict[str, Any]) -> None:
    import io

    from PIL import Image

    r = batch["records"]["mobile"]
    assert r["ok"] and r["profile"] == "mobile" and r["browser_used"]
    shot = Image.open(io.BytesIO(batch["ctx"].evidence.get(r["files"]["screenshot"])))
    assert shot.width == 390
    assert r["files"]["screenshot"] != batch["records"]["clone-a.test"]["files"]["screenshot"]

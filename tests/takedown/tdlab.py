"""Takedown tests run on the lab's real DNS, RDAP, web and SMTP servers (a small World).

What is not there yet is stood in for here, and says so: the capture engineer's
``watcher.capture.snapshot.check_candidate`` (used when it exists). The stand-ins build Snapshot rows from
the same real servers' answers (DNS through omamori's resolver, RDAP over HTTP, the page through the
lab's web proxy); only the screenshot is a fixed PNG, since taking one needs the crawler's browser.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from sqlmodel import Session, select

from lab.world import World
from tests.conftest import make_settings
from watcher.capture.triage import transition
from watcher.context import Context
from watcher.core.models import Brand, Candidate, CandidateStatus, Snapshot, Verdict

PHISH = "hoshizora-sec-login.top"
JPCERT = {"name": "JPCERT/CC", "email": "phishing@jpcert.test", "language": "ja"}


def png(color: tuple[int, int, int], text: str, size: tuple[int, int] = (640, 400)) -> bytes:
    img = Image.new("RGB", size, color)
    ImageDraw.Draw(img).text((20, 20), text, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world(lab_world: Callable[..., World]) -> World:
    # No timed events (the test drives time); the registrar's desk suspends 0.2 s after a report.
    return lab_world("data/lab/small.toml", run_events=False, suspend_delay=0.2)


def lab_settings(tmp_path: Path, world: World, **sections: dict[str, Any]) -> Any:
    boot, ipboot = tmp_path / "rdap-dns.json", tmp_path / "rdap-ipv4.json"
    boot.write_text(json.dumps(world.rdap.bootstrap()))
    ipboot.write_text(json.dumps(world.rdap.ipv4_bootstrap()))
    base: dict[str, dict[str, Any]] = {
        "smtp": {"host": world.smtp.host, "port": world.smtp.port, "starttls": False, "timeout": 5.0,
                 "from_address": "brand-security@hzsec.com", "from_name": "Hoshizora Brand Security"},
        "rdap": {"bootstrap_file": str(boot), "ip_bootstrap_file": str(ipboot), "allow_http": True, "timeout": 5.0},
        "dns": {"nameservers": ["127.0.0.1"], "port": world.dns.port, "timeout": 2.0, "retries": 0},
        # For the snapshot job's crawler, when it runs the re-checks (see check_gone).
        "crawl": {"proxy": world.web.proxy_url, "ca_file": world.web.ca_file, "page_timeout_seconds": 10.0},
        "takedown": {"cert_parties": ["jpcert"], "requester_name": "ブランド保護チーム 山田",
                     "requester_phone": "+81-3-0000-0000"},
    }
    for k, v in sections.items():
        base[k] = {**base.get(k, {}), **v}
    return make_settings(tmp_path, **base)


@pytest.fixture
def make_ctx(tmp_path: Path, world: World, make_synced_ctx: Callable[..., Context]) -> Callable[..., Context]:
    def make(**sections: dict[str, Any]) -> Context:
        ctx = make_synced_ctx(lab_settings(tmp_path, world, **sections))
        with Session(ctx.engine) as s:
            brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
            sha = ctx.evidence.put(png((20, 60, 140), "Hoshizora official login"))
            brand.references = [{"url": "https://trade.hoshizora-sec.co.jp/login", "screenshot_sha256": sha}]
            s.add(brand)
            s.commit()
        return ctx

    return make


@pytest.fixture
def ctx(make_ctx: Callable[..., Context]) -> Context:
    return make_ctx()


def add_candidate(ctx: Context, domain: str = PHISH, *, status: CandidateStatus = CandidateStatus.CHECKED,
                  reasons: list[dict[str, Any]] | None = None) -> Candidate:
    with Session(ctx.engine, expire_on_commit=False) as s:
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        c = Candidate(domain=domain, registrable=domain, brand_id=brand.id, status=status,
                      urls=[f"https://{domain}/login"], first_seen_at=ctx.now(),
                      reasons=reasons if reasons is not None else
                      [{"kind": "keyword", "detail": "brand keyword `hoshizora-sec` in the name", "points": 40}],
                      facts={"not_before": "2026-11-24T12:00:00Z"})
        s.add(c)
        s.commit()
        return c


def take_snapshot(ctx: Context, world: World, cand: Candidate, *, password: bool = True,
                  reasons: list[dict[str, Any]] | None = None) -> Snapshot:
    """Stand-in for the capture job: real DNS, RDAP and page from the lab, a fixed screenshot PNG."""
    profile = ctx.resolver.profile_sync(cand.domain, ["A", "CNAME"])
    r = httpx.get(f"{world.rdap.url}domain/{cand.registrable}", timeout=5)
    rdap = r.json() if r.status_code == 200 else {}
    with httpx.Client(proxy=world.web.proxy_url, timeout=5) as web:
        # The reported URL itself (a kit may sit in a path of someone else's site), as plain HTTP.
        target = cand.urls[0] if cand.urls else f"http://{cand.domain}/"
        page = web.get(target.replace("https://", "http://", 1))
    shot = ctx.evidence.put(png((20, 60, 140), f"clone of the login page at {cand.domain}"))
    html = ctx.evidence.put(page.content)
    forms = [{"action": "/login", "fields": [{"type": "text"}, {"type": "password"}]}] if password else []
    snap = Snapshot(
        candidate_id=cand.id, taken_at=ctx.now(), dns=profile.as_dict(), rdap=rdap,
        capture={"final_url": str(page.url), "status": page.status_code, "forms": forms},
        screenshot_sha256=shot, html_sha256=html, reachable=True, verdict=Verdict.PHISHING, score=95,
        reasons=reasons if reasons is not None else [
            {"kind": "visual_clone", "detail": "the page looks like the official login page (pHash distance 3)",
             "points": 40},
            {"kind": "password_form", "detail": "パスワード入力欄があるログインフォーム (a password form)", "points": 30},
        ],
    )
    with Session(ctx.engine, expire_on_commit=False) as s:
        s.add(snap)
        s.flush()
        c = s.get(Candidate, cand.id)
        assert c is not None
        c.last_snapshot_id = snap.id
        s.add(c)
        s.commit()
    return snap


def check_gone(ctx: Context, world: World, cand_id: int) -> Candidate:
    """Stand-in for the snapshot job's re-check of a REPORTED candidate (real DNS and RDAP answers):
    gone = NXDOMAIN or an RDAP hold status; DOWN after ``takedown.down_confirmations`` in a row."""
    try:
        from watcher.capture.snapshot import check_candidate  # the capture engineer's, once it lands
    except ImportError:
        check_candidate = None
    if check_candidate is not None:
        check_candidate(ctx, cand_id)
        with Session(ctx.engine, expire_on_commit=False) as s:
            c = s.get(Candidate, cand_id)
            assert c is not None
            return c
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand_id)
        assert c is not None
        profile = ctx.resolver.profile_sync(c.domain, ["A"])
        r = httpx.get(f"{world.rdap.url}domain/{c.registrable}", timeout=5)
        statuses = r.json().get("status", []) if r.status_code == 200 else []
        gone = profile.nxdomain or any("hold" in st for st in statuses)
        s.add(Snapshot(candidate_id=c.id, taken_at=ctx.now(), dns=profile.as_dict(), gone=gone,
                       rdap={"status": statuses}, verdict=Verdict.SUSPENDED if gone else Verdict.PHISHING))
        c.down_count = c.down_count + 1 if gone else 0
        if c.down_count >= ctx.settings.takedown.down_confirmations:
            transition(s, c, CandidateStatus.DOWN, actor="snapshot", reason="gone twice in a row", now=ctx.now())
        s.add(c)
        s.commit()
        return c


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

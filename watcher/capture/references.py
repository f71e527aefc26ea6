"""The brand's reference captures: its official pages, captured by the same crawler as the suspects.

Comparing like with like (same browser, same viewport, same profile) is what makes perceptual-hash
distances meaningful. Each reference keeps the screenshot hashes, the HTML fuzzy hashes, the favicon
and the logo: cropped from the screenshot by the box of the page's logo ``<img>`` (or a configured
file, ``crawl.logo_files``), so the logo can be found anywhere in a clone's screenshot later.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlmodel import select

from watcher.capture.crawl import capture_batch
from watcher.context import Context
from watcher.core.events import record
from watcher.core.models import Brand


def _logo_box(rec: dict[str, Any], brand: Brand, viewport: tuple[int, int]) -> dict[str, int] | None:
    """The box of the image most likely to be the logo: named like the brand or 'logo', near the top."""
    terms = [t.lower() for t in [brand.slug, brand.name_ja, *(brand.spec.get("keywords") or [])] if t]
    best: tuple[int, dict[str, int]] | None = None
    for img in rec.get("images") or []:
        w, h, x, y = int(img.get("w", 0)), int(img.get("h", 0)), int(img.get("x", 0)), int(img.get("y", 0))
        if w < 40 or h < 16 or w > 800 or h > 300 or y > viewport[1] - h or x + w > viewport[0] or x < 0 or y < 0:
            continue
        label = f"{img.get('alt', '')} {img.get('src', '').rsplit('/', 1)[-1]}".lower()
        rank = (2 if "logo" in label else 0) + (1 if any(t in label for t in terms) else 0)
        if rank and (best is None or rank > best[0] or (rank == best[0] and y < best[1]["y"])):
            best = (rank, {"x": x, "y": y, "w": w, "h": h})
    return best[1] if best else None


def reference_from_record(ctx: Context, brand: Brand, rec: dict[str, Any]) -> dict[str, Any]:
    files = rec.get("files") or {}
    ref: dict[str, Any] = {
        "url": rec["url"], "final_url": rec.get("final_url", ""), "profile": rec.get("profile", "desktop"),
        "title": rec.get("title", ""), "captured_at": ctx.now().isoformat(),
        "screenshot_sha256": files.get("screenshot", ""), "fullpage_sha256": files.get("fullpage", ""),
        "html_sha256": files.get("html", ""), "hashes": rec.get("hashes") or {},
        "favicon": {k: v for k, v in (rec.get("favicon") or {}).items() if k in ("sha256", "dhash", "url")},
        "browser_used": rec.get("browser_used", False),
    }
    logo_file = ctx.settings.crawl.logo_files.get(brand.slug)
    if logo_file is not None:
        ref["logo_sha256"] = ctx.evidence.put(ctx.settings.path(logo_file).read_bytes())
        ref["logo_source"] = str(logo_file)
        return ref
    c = ctx.settings.crawl
    viewport = (c.viewport_width, c.viewport_height) if ref["profile"] == "desktop" else (390, 844)
    box = _logo_box(rec, brand, viewport)
    if box and ref["screenshot_sha256"]:
        shot = Image.open(io.BytesIO(ctx.evidence.get(ref["screenshot_sha256"]))).convert("RGB")
        crop = shot.crop((box["x"], box["y"], box["x"] + box["w"], box["y"] + box["h"]))
        buf = io.BytesIO()
        crop.save(buf, format="PNG")
        ref["logo_sha256"] = ctx.evidence.put(buf.getvalue())
        ref["logo_box"] = box
        ref["logo_source"] = "cropped from the screenshot by the logo <img> box"
    return ref


def capture_references(ctx: Context, slug: str | None = None, *, actor: str = "system") -> dict[str, Any]:
    """Capture every reference page of every brand (or one), for every configured profile."""
    with ctx.session() as s:
        q = select(Brand) if slug is None else select(Brand).where(Brand.slug == slug)
        brands = list(s.exec(q))
    targets: list[dict[str, Any]] = []
    owner: dict[str, Brand] = {}
    for b in brands:
        for i, url in enumerate(b.spec.get("reference_pages") or b.spec.get("login_pages") or []):
            for profile in ctx.settings.crawl.profiles:
                tid = f"{b.slug}/{i}/{profile}"
                targets.append({"id": tid, "url": url, "addresses": [], "profile": profile})
                owner[tid] = b
    records = capture_batch(ctx, targets)
    summary: dict[str, Any] = {}
    refs_by_brand: dict[str, list[dict[str, Any]]] = {b.slug: [] for b in brands}
    for rec in records:
        b = owner[str(rec["id"])]
        if rec.get("ok") and (rec.get("hashes") or {}).get("phash"):
            refs_by_brand[b.slug].append(reference_from_record(ctx, b, rec))
        else:
            summary.setdefault(b.slug, {}).setdefault("errors", []).append(
                {"url": rec["url"], "error": rec.get("error") or "no screenshot"})
    with ctx.transaction() as s:
        for b in brands:
            refs = refs_by_brand[b.slug]
            row = s.get(Brand, b.id)
            if row is None or not refs:
                continue  # keep the old references rather than none
            row.references = refs
            row.updated_at = ctx.now()
            s.add(row)
            record(s, actor, "brand.references", row, {"pages": [r["url"] for r in refs]}, at=ctx.now())
            summary.setdefault(b.slug, {})["references"] = len(refs)
            summary[b.slug]["logo"] = any(r.get("logo_sha256") for r in refs)
    return summary

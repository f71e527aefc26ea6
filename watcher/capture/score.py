"""Scoring a capture against the brand: SIGNALS (pure functions) -> points with readable reasons.

Each signal looks at one kind of evidence and returns reasons ``{kind, detail, points}``; the
dashboard and the takedown request show them as written, so every detail is a sentence a registrar's
abuse desk can check. The verdict follows from the points, with two rules that keep it honest:

* Login words and a password form only count when something on the page shows the brand
  (its look, logo, favicon, HTML or name): every site has a login form; another firm's genuine
  login page is not phishing against ours.
* Parked, for-sale, suspension and empty pages are recognised from shipped marker tables
  (``data/markers/*.json``, with their sources) before any scoring verdict.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import imagehash
import numpy as np
import ppdeep
import tlsh
from PIL import Image

from watcher.core.models import Verdict
from watcher.core.names import translate_goog_original
from watcher.core.reasons import Reason
from watcher.core.texts import Text, text

MARKERS_DIR = Path(__file__).resolve().parents[2] / "data" / "markers"

PHISHING_AT = 60
SUSPICIOUS_AT = 30
LOGIN_WORDS = ("ログイン", "パスワード", "暗証番号", "口座番号", "取引", "本人確認", "login", "password")
# Signals that show the brand itself; login-ish signals count only when one of these fired.
BRAND_KINDS = frozenset({"visual", "logo", "favicon", "html", "brand_name"})
NEEDS_BRAND = frozenset({"login_words", "credential_form"})
NOT_LIVE = frozenset({"parked", "for_sale", "empty", "suspended"})

_DOMAINISH = re.compile(r"[a-z0-9][a-z0-9.-]*\.[a-z]{2,}", re.IGNORECASE)


@dataclass
class Evidence:
    """What the signals may look at: the crawler record, the brand, its references, the registration."""

    record: dict[str, Any]
    brand: dict[str, Any]  # slug, name, name_ja, keywords, official_domains, group_domains
    references: list[dict[str, Any]] = field(default_factory=list)
    screenshot: Image.Image | None = None
    # The full page (capped height), when taller than the viewport: a logo may sit below the fold.
    fullpage: Image.Image | None = None
    logos: list[Image.Image] = field(default_factory=list)
    rdap: dict[str, Any] = field(default_factory=dict)
    match_points: int = 0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Work on the page that does not depend on the brand (the screenshots' SIFT features), done once
    # and shared by the Evidence of every brand a page is compared with.
    page_cache: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def official(self) -> tuple[str, ...]:
        return tuple(d.lower() for d in [*self.brand.get("official_domains", []), *self.brand.get("group_domains", [])])

    def is_official(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.official)


# ------------------------------------------------------------------ helpers


def _distance(a: str, b: str) -> int | None:
    try:
        return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)
    except (ValueError, TypeError):
        return None


def _color_distance(a: str, b: str) -> int | None:
    try:
        return imagehash.hex_to_flathash(a, 3) - imagehash.hex_to_flathash(b, 3)
    except (ValueError, TypeError):
        return None


def _brand_terms(brand: dict[str, Any]) -> list[str]:
    terms = [brand.get("name_ja", ""), brand.get("name", ""), *brand.get("keywords", [])]
    out = []
    for t in terms:
        t = t.strip().lower()
        for suffix in ("株式会社", " co., ltd.", " co.,ltd."):
            t = t.removesuffix(suffix)
        if len(t) >= 3:
            out.append(t)
    return sorted(set(out), key=len, reverse=True)


def page_words(record: dict[str, Any]) -> str:
    """Title and visible text, lowercased, with domain names removed (a parked page shows its own name)."""
    text = f"{record.get('title', '')} {record.get('text', '')}".lower()
    return _DOMAINISH.sub(" ", text)


# ------------------------------------------------------------------ signals


def visual_similarity(ev: Evidence) -> list[Reason]:
    """Perceptual hashes of the screenshot against each reference screenshot of the same profile."""
    hashes = ev.record.get("hashes") or {}
    if not hashes.get("phash"):
        return []
    best: tuple[int, int, int, str, int | None] | None = None
    for ref in ev.references:
        rh = ref.get("hashes") or {}
        p, d = _distance(hashes["phash"], rh.get("phash", "")), _distance(hashes.get("dhash", ""), rh.get("dhash", ""))
        if p is None or d is None:
            continue
        c = _color_distance(hashes.get("colorhash", ""), rh.get("colorhash", ""))
        key = (p + d, p, d, ref.get("url", ""), c)
        if best is None or key < best:
            best = key
    if best is None:
        return []
    _, p, d, url, c = best
    colour = f", colour-hash {c}" if c is not None else ""
    if p <= 14 and d <= 14:  # lab: a recoloured clone 10/11, non-phishing pages 26+ / 17+
        return [Reason.said("visual", text("capture.visual_match", url=url, p=p, d=d, colour=colour), 45)]
    if p <= 16 and d <= 18:
        return [Reason.said("visual", text("capture.visual_resembles", url=url, p=p, d=d, colour=colour), 25)]
    return []


LOGO_MIN_INLIERS = 25  # lab: the logo at any size or colour 48-140, another firm's logo 0, a banner 18


def _sift() -> Any:
    import cv2

    return cv2.SIFT.create(nfeatures=4000)


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


def logo_features(logo: Image.Image) -> tuple[Any, Any]:
    """SIFT features of a logo, upscaled 2x (logos are small; more keypoints survive); computed once
    per logo image and kept on it."""
    import cv2

    cached = logo.info.get("_omamori_sift")
    if cached is None:
        g = cv2.resize(_gray(logo), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        cached = logo.info["_omamori_sift"] = _sift().detectAndCompute(g, None)
    return cached


def screen_features(ev: Evidence, name: str, picture: Image.Image) -> tuple[Any, Any]:
    """SIFT features of one screenshot of the page, once per page whatever the number of brands."""
    feats = ev.page_cache.get(name)
    if feats is None:
        feats = ev.page_cache[name] = _sift().detectAndCompute(_gray(picture), None)
    return feats


class LogoIndex:
    """Every brand's logos in one FLANN index: which logos a page may show, in one search.

    A page of a candidate that names no brand is compared with every brand; the exact logo search
    (``find_logo``: ratio test and a RANSAC homography per logo) then runs only for the logos this
    index finds enough matching features of, instead of for every brand's logos."""

    MIN_VOTES = 6  # as find_logo: fewer good matches than this is never a logo

    def __init__(self, logos: list[Image.Image]) -> None:
        import cv2

        self.logos = logos
        descriptors, owners = [], []
        for i, logo in enumerate(logos):
            _kp, d = logo_features(logo)
            if d is not None and len(d) >= 8:
                descriptors.append(d)
                owners.append(np.full(len(d), i))
        self.owners = np.concatenate(owners) if owners else np.zeros(0, dtype=int)
        self.flann = None
        if descriptors:
            self.flann = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 48})
            self.flann.add([np.concatenate(descriptors).astype(np.float32)])
            self.flann.train()

    def candidates(self, feats: tuple[Any, Any]) -> set[int]:
        """Indexes (into ``logos``) of the logos with at least MIN_VOTES good matches in the page."""
        _ks, ds = feats
        if self.flann is None or ds is None or len(ds) < 8:
            return set()
        pairs = self.flann.knnMatch(ds.astype(np.float32), k=2)
        votes = np.bincount([int(self.owners[p[0].trainIdx]) for p in pairs
                             if len(p) == 2 and p[0].distance < 0.8 * p[1].distance], minlength=len(self.logos))
        return {int(i) for i in np.nonzero(votes >= self.MIN_VOTES)[0]}


def find_logo(screen: Image.Image, logo: Image.Image,
              screen_features: tuple[Any, Any] | None = None) -> tuple[int, tuple[int, int, int, int]]:
    """How strongly the logo appears anywhere in the screenshot: RANSAC-consistent SIFT matches.

    SIFT works on grayscale gradients, so a recoloured or rescaled logo still matches, and the
    homography check means scattered look-alike strokes (other firms' kanji) do not add up.
    Returns (inlier matches, box in screenshot pixels).
    """
    import cv2

    kl, dl = logo_features(logo)
    ks, ds = screen_features or _sift().detectAndCompute(_gray(screen), None)
    if dl is None or ds is None or len(kl) < 8 or len(ks) < 8:
        return 0, (0, 0, 0, 0)
    pairs = cv2.BFMatcher().knnMatch(dl, ds, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < 6:
        return 0, (0, 0, 0, 0)
    src = np.array([kl[g.queryIdx].pt for g in good], dtype=np.float32).reshape(-1, 1, 2)
    dst = np.array([ks[g.trainIdx].pt for g in good], dtype=np.float32).reshape(-1, 1, 2)
    h_mat, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if h_mat is None or mask is None:
        return 0, (0, 0, 0, 0)
    w2, h2 = logo.width * 2, logo.height * 2
    quad = np.array([[0, 0], [w2, 0], [w2, h2], [0, h2]], dtype=np.float32).reshape(-1, 1, 2)
    corners = cv2.perspectiveTransform(quad, h_mat)
    xs, ys = corners[:, 0, 0], corners[:, 0, 1]
    box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min()), int(ys.max() - ys.min()))
    return int(mask.sum()), box


def logo_in_screenshot(ev: Evidence) -> list[Reason]:
    if ev.screenshot is None or not ev.logos:
        return []
    pictures = [("screenshot", ev.screenshot)]
    if ev.fullpage is not None and ev.fullpage.height > ev.screenshot.height:
        pictures.append(("fullpage", ev.fullpage))
    for name, picture in pictures:  # the viewport first: cheaper, and what a victim sees first
        feats = screen_features(ev, name, picture)
        inliers, box = max((find_logo(picture, logo, feats) for logo in ev.logos), key=lambda r: r[0])
        if inliers >= LOGO_MIN_INLIERS:
            return [Reason.said("logo", text("capture.logo", where=text(f"capture.where.{name}"), x=box[0],
                                             y=box[1], w=box[2], h=box[3], n=inliers), 40)]
    return []


def favicon_match(ev: Evidence) -> list[Reason]:
    fav = ev.record.get("favicon") or {}
    if not fav.get("sha256") or fav.get("error"):
        return []
    for ref in ev.references:
        rf = ref.get("favicon") or {}
        if rf.get("sha256") and rf["sha256"] == fav["sha256"]:
            return [Reason.said("favicon", text("capture.favicon_same", sha=fav["sha256"][:16]), 30)]
        d = _distance(fav.get("dhash", ""), rf.get("dhash", "")) if rf.get("dhash") else None
        if d is not None and d <= 4:
            return [Reason.said("favicon", text("capture.favicon_like", d=d), 25)]
    return []


def html_similarity(ev: Evidence) -> list[Reason]:
    h = ev.record.get("hashes") or {}
    best_ssdeep, best_tlsh, url = 0, None, ""
    for ref in ev.references:
        rh = ref.get("hashes") or {}
        if h.get("ssdeep") and rh.get("ssdeep"):
            s = ppdeep.compare(h["ssdeep"], rh["ssdeep"])
            if s > best_ssdeep:
                best_ssdeep, url = s, ref.get("url", "")
        if h.get("tlsh") and rh.get("tlsh"):
            d = tlsh.diff(h["tlsh"], rh["tlsh"])
            if best_tlsh is None or d < best_tlsh:
                best_tlsh = d
                url = url or ref.get("url", "")
    tl = f", TLSH distance {best_tlsh}" if best_tlsh is not None else ""
    if best_ssdeep >= 60 or (best_tlsh is not None and best_tlsh <= 40):
        return [Reason.said("html", text("capture.html_copy", url=url, ssdeep=best_ssdeep, tlsh=tl), 30)]
    if best_ssdeep >= 30 or (best_tlsh is not None and best_tlsh <= 90):
        return [Reason.said("html", text("capture.html_shares", url=url, ssdeep=best_ssdeep, tlsh=tl), 15)]
    return []


def brand_name(ev: Evidence) -> list[Reason]:
    words = page_words(ev.record)
    found = [t for t in _brand_terms(ev.brand) if t in words]
    if not found:
        return []
    return [Reason.said("brand_name", text("capture.brand_name", found=", ".join(found[:3])), 20)]


def login_words(ev: Evidence) -> list[Reason]:
    words = page_words(ev.record)
    found = [w for w in LOGIN_WORDS if w in words]
    if len(found) < 2:
        return []
    return [Reason.said("login_words", text("capture.login_words", found=", ".join(found[:5])), 15)]


def credential_form(ev: Evidence) -> list[Reason]:
    for form in ev.record.get("forms") or []:
        if not (form.get("has_password") or form.get("has_pin")):
            continue
        host = form.get("posts_to_host") or ev.record.get("final_host", "")
        if host and ev.is_official(host):
            continue
        what = text("capture.what.password" if form.get("has_password") else "capture.what.pin")
        return [Reason.said("credential_form", text("capture.credential_form", what=what,
                                                    host=host or text("capture.a_script")), 30)]
    return []


def fresh_registration(ev: Evidence) -> list[Reason]:
    created = ev.rdap.get("created_at")
    if not created:
        return []
    try:
        when = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return []
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = (ev.now - when).days
    if days <= 30:
        return [Reason.said("fresh_registration", text("capture.fresh_registration_date", days=max(days, 0),
                                                       date=when.date().isoformat()), 10)]
    if days <= 90:
        return [Reason.said("fresh_registration", text("capture.fresh_registration", days=days), 5)]
    return []


# Discovery reasons that say the NAME looks like the brand. A report or a feed also gives discovery
# points, but says nothing about the name: "the name imitates the brand" must follow from these only.
LEXICAL_KINDS = frozenset({"keyword", "flattened", "embedded", "permutation", "edit_distance", "homoglyph", "combo", "lapsed",
                           "confusable", "token", "dropcatch"})


def lexical_points(reasons: list[dict[str, Any]]) -> int:
    """The discovery points earned by the name itself (``LEXICAL_KINDS``), not by who reported it."""
    return sum(int(r.get("points") or 0) for r in reasons
               if isinstance(r, dict) and str(r.get("kind", "")).lower() in LEXICAL_KINDS)


def lookalike_name(ev: Evidence) -> list[Reason]:
    if ev.match_points <= 0:
        return []
    pts = min(20, max(5, ev.match_points // 3))
    return [Reason.said("lookalike_name", text("capture.lookalike_name", points=ev.match_points), pts)]


SIGNALS: tuple[Callable[[Evidence], list[Reason]], ...] = (
    visual_similarity,
    logo_in_screenshot,
    favicon_match,
    html_similarity,
    brand_name,
    login_words,
    credential_form,
    fresh_registration,
    lookalike_name,
)


# ------------------------------------------------------------------ page kinds (marker tables)


@functools.lru_cache(maxsize=4)
def load_markers(directory: str = str(MARKERS_DIR)) -> tuple[dict[str, Any], ...]:
    tables = []
    for path in sorted(Path(directory).glob("*.json")):
        table = json.loads(path.read_text(encoding="utf-8"))
        table["file"] = path.name
        tables.append(table)
    order = {"suspended": 0, "for_sale": 1, "parked": 2, "empty": 3}
    return tuple(sorted(tables, key=lambda t: order.get(t["kind"], 9)))


def page_kind(record: dict[str, Any]) -> tuple[str, Text | str]:
    """('suspended'|'for_sale'|'parked'|'empty'|'', the marker that decided, in words) from the marker
    tables. The words name the pattern and its provider, never the table's file: they go into letters."""
    if not record.get("ok"):
        return "", ""
    title = str(record.get("title", "")).lower()
    page = f"{title} {record.get('text', '')}".lower()
    for table in load_markers():
        strong: list[dict[str, Any]] = []
        weak: list[dict[str, Any]] = []
        for m in table["markers"]:
            hay = title if m.get("title_only") else page
            if m["pattern"].lower() in hay:
                (weak if m.get("weak") else strong).append(m)
        if strong or len(weak) >= 2:
            m = (strong or weak)[0]
            return table["kind"], text("capture.marker", pattern=m["pattern"], provider=m.get("provider", ""))
    limit = next((t.get("max_text_chars", 40) for t in load_markers() if t["kind"] == "empty"), 40)
    visible = re.sub(r"\s+", "", str(record.get("text", "")))
    if len(visible) < limit and not record.get("forms") and not record.get("images"):
        return "empty", text("capture.empty_text", n=len(visible))
    return "", ""


# ------------------------------------------------------------------ scoring


@dataclass
class Assessment:
    score: int
    verdict: Verdict
    reasons: list[dict[str, Any]]
    page_kind: str = ""


def our_page_via_proxy(ev: Evidence) -> Reason | None:
    """The genuine site seen through Google Translate's proxy (``*.translate.goog``): the proxy fetched
    the page from our own host, so it is ours, however much it looks like the brand. (A proxy that
    takes the address from the query is not trusted: any site can put our URL in its query.)"""
    for url in (ev.record.get("final_url"), ev.record.get("url")):
        host = (urlsplit(str(url or "")).hostname or "").lower()
        original = translate_goog_original(host)
        if original and ev.is_official(original):
            return Reason.said("our_page_via_proxy", text("capture.our_page_via_proxy", proxy=host,
                                                          original=original), 0)
    return None


def assess(ev: Evidence) -> Assessment:
    """Run every signal, apply the brand rule, recognise not-live pages, decide the verdict."""
    rec = ev.record
    if not rec.get("ok"):
        return Assessment(0, Verdict.UNREACHABLE, [
            Reason.said("unreachable", text("capture.unreachable", error=str(rec.get("error", ""))[:300])).as_dict()])
    ours = our_page_via_proxy(ev)
    if ours is not None:
        return Assessment(0, Verdict.BENIGN, [ours.as_dict()], "")
    reasons: list[Reason] = []
    for signal in SIGNALS:
        try:
            reasons.extend(signal(ev))
        except Exception as e:  # one broken signal must not hide the others; its failure is shown
            reasons.append(Reason.said(signal.__name__, text("capture.signal_failed", signal=signal.__name__,
                                                             error=f"{type(e).__name__}: {e}"[:200])))
    shows_brand = any(r.kind in BRAND_KINDS and r.points > 0 for r in reasons)
    if not shows_brand:
        reasons = [Reason.said(r.kind, text("capture.not_counted", reason=r.text or r.detail))
                   if r.kind in NEEDS_BRAND else r for r in reasons]
    score = min(100, sum(r.points for r in reasons))
    kind, marker = page_kind(rec)
    out = [r.as_dict() for r in reasons]
    has_credentials = any(r.kind == "credential_form" and r.points > 0 for r in reasons)
    if kind == "suspended":
        out.append(Reason.said("suspended", text("capture.suspended_page", marker=marker)).as_dict())
        return Assessment(score, Verdict.SUSPENDED, out, kind)
    if kind in NOT_LIVE and not has_credentials:
        out.append(Reason.said(kind, text("capture.not_live_page", kind=text(f"capture.kind.{kind}"),
                                          marker=marker)).as_dict())
        return Assessment(score, Verdict.PARKED if kind in ("parked", "for_sale") else Verdict.BENIGN, out, kind)
    if shows_brand and score >= PHISHING_AT:
        verdict = Verdict.PHISHING
    elif score >= SUSPICIOUS_AT:
        verdict = Verdict.SUSPICIOUS
    else:
        verdict = Verdict.BENIGN
    return Assessment(score, verdict, out, kind)

"""Is an SVG a BIMI logo? The SVG Tiny Portable/Secure profile (draft-svg-tiny-ps-abrotman), checked.

Mail clients show a BIMI logo only if it is SVG Tiny PS: SVG Tiny 1.2 with ``baseProfile="tiny-ps"``,
a ``<title>``, no ``x``/``y`` on the root, and nothing that runs or reaches out (scripts, event
handlers, animation, foreign objects, raster or external images, links to other documents). The
BIMI group also caps the file at 32 KB and asks for a square image. Each rule broken is one
``Violation`` with a catalogue key, so the Finding says what to fix.

The file is untrusted (fetched from the internet): it is parsed with ``defusedxml`` (no DTD, no
entities), and its size is checked before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_BYTES = 32 * 1024  # BIMI group: "SVG files should be no larger than 32 kilobytes"
PARSE_LIMIT = 1024 * 1024  # a larger file is not parsed at all

# Elements of SVG 1.1/Tiny 1.2 that Tiny PS removes: they run code, animate, or load other content.
FORBIDDEN = frozenset({
    "script", "handler", "listener", "foreignObject", "image", "video", "audio", "animation", "iframe",
    "animate", "animateColor", "animateMotion", "animateTransform", "set", "discard", "prefetch",
    "a", "switch",  # links out of the mail, and conditional content
})


@dataclass(frozen=True)
class Violation:
    rule: str  # catalogue key suffix: mail.svg.<rule>
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class SvgFacts:
    size: int
    title: str = ""
    version: str = ""
    base_profile: str = ""
    width: float | None = None
    height: float | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _view_box(root: Element) -> tuple[float, float] | None:
    vb = root.get("viewBox")
    if not vb:
        return None
    parts = [p for p in re.split(r"[\s,]+", vb.strip()) if p]
    try:
        return (float(parts[2]), float(parts[3])) if len(parts) == 4 else None
    except ValueError:
        return None


def check(data: bytes) -> SvgFacts:
    """The profile's verdict on ``data`` (the bytes as served)."""
    facts = SvgFacts(size=len(data))
    if len(data) > MAX_BYTES:
        facts.violations.append(Violation("too_large", {"kb": round(len(data) / 1024, 1)}))
    if len(data) > PARSE_LIMIT:
        return facts
    if data[:2] == b"\x1f\x8b":
        facts.violations.append(Violation("compressed"))
        return facts
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        facts.violations.append(Violation("dtd"))
        return facts
    except DET.ParseError as e:
        facts.violations.append(Violation("not_xml", {"error": str(e)[:200]}))
        return facts
    if _local(root.tag) != "svg" or _ns(root.tag) != SVG_NS:
        facts.violations.append(Violation("not_svg", {"root": _local(root.tag)[:50]}))
        return facts
    facts.version = root.get("version", "")
    facts.base_profile = root.get("baseProfile", "")
    if facts.version != "1.2":
        facts.violations.append(Violation("version", {"version": facts.version or "-"}))
    if facts.base_profile != "tiny-ps":
        facts.violations.append(Violation("base_profile", {"profile": facts.base_profile or "-"}))
    for attr in ("x", "y"):
        if root.get(attr) is not None:
            facts.violations.append(Violation("root_xy", {"attribute": attr}))
    title = next((c for c in root if _local(c.tag) == "title"), None)
    facts.title = (title.text or "").strip()[:200] if title is not None else ""
    if not facts.title:
        facts.violations.append(Violation("title"))
    box = _view_box(root)
    if box is None:
        facts.violations.append(Violation("view_box"))
    else:
        facts.width, facts.height = box
        if abs(box[0] - box[1]) > 0.01 * max(box):
            facts.violations.append(Violation("not_square", {"width": box[0], "height": box[1]}))
    seen: set[str] = set()
    for el in root.iter():
        name = _local(el.tag)
        if name in FORBIDDEN and name not in seen:
            seen.add(name)
            facts.violations.append(Violation("forbidden_element", {"element": name}))
        for attr, value in el.attrib.items():
            aname = _local(attr)
            if aname.lower().startswith("on") and "event:" + aname not in seen:
                seen.add("event:" + aname)
                facts.violations.append(Violation("event_handler", {"attribute": aname[:40]}))
            if aname == "href" and not value.strip().startswith("#") and "href" not in seen:
                seen.add("href")
                facts.violations.append(Violation("external_reference", {"target": value.strip()[:120]}))
        if name == "style" and el.text and re.search(r"url\(|@import", el.text, re.I) and "css" not in seen:
            seen.add("css")
            facts.violations.append(Violation("external_reference", {"target": "CSS url()/@import"}))
    return facts


def canonical(data: bytes) -> bytes:
    """The SVG with line ends as LF: what a logotype hash covers (RFC 6170 section 5.2)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

"""What is protected: the brands file (``data/brands.toml``), read and checked, then synced to the DB.

The file is the source of truth for brands and their official domains; ``omamori brands sync``
(and the service at start) writes it into the Brand and OwnedDomain tables so that every job and the
dashboard read one place.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, select

from watcher.core.config import ConfigError
from watcher.core.models import Brand, OwnedDomain, OwnedSource, utcnow
from watcher.core.names import InvalidName, normalize_host


class AppSpec(BaseModel):
    """An official app, named on the official-domains page so customers log in from the genuine one."""

    model_config = ConfigDict(extra="forbid")

    name: str
    platform: str = ""  # iOS, Android, Windows...
    url: str = ""  # the store page


class BrandSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    name: str
    name_ja: str = ""
    # Words that identify the brand in a hostname or page: romaji, abbreviations, Japanese names.
    keywords: list[str] = []
    # Keywords that are also common words: list the ordinary words that contain them and are not us.
    word_exceptions: list[str] = []
    official_domains: list[str]
    # Hosts under the official domains worth naming (login, trade, mail...); discovered ones are added.
    official_hosts: list[str] = []
    login_pages: list[str] = []
    # Pages whose screenshots are the reference for visual comparison (defaults to login_pages).
    reference_pages: list[str] = []
    # Domains of the firm's own group (parent, affiliates): never candidates, not inventoried.
    group_domains: list[str] = []
    lapsed_domains: list[str] = []
    allowed_issuers: list[str] = []
    sending_domains: list[str] = []
    dkim_selectors: list[str] = []
    sms_short_codes: list[str] = []
    short_code_page: str = ""
    # Every other page that must show the short code: the app store listings, help pages (IV.4(2)).
    short_code_pages: list[str] = []
    # The carriers' page about the common short code that the firm's page links to.
    short_code_info_url: str = ""
    # The mail platforms the firm sends through (names in data/mail-platforms.json): their mail is
    # legitimate, so its alignment decides whether the domain is ready for p=reject.
    mail_platforms: list[str] = []
    # The firm's app URL schemes (``hoshizora://``): a deep link into the app's login is a login link.
    app_schemes: list[str] = []
    # The firm's apps (named on the official-domains page) and where that page is published (fetched
    # daily and compared with the inventory; default: report.official_list_url).
    apps: list[AppSpec] = []
    official_list_page: str = ""
    # Send takedown requests without a person when the evidence is overwhelming (off by default).
    auto_takedown: bool = False
    language: Literal["ja", "en"] = "ja"

    @field_validator("official_domains", "official_hosts", "group_domains", "lapsed_domains", "sending_domains")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        out = []
        for v in values:
            try:
                out.append(normalize_host(v).ascii)
            except InvalidName as e:
                raise ValueError(str(e)) from None
        return out

    @field_validator("keywords", "word_exceptions")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values if v.strip()]

    @field_validator("sms_short_codes")
    @classmethod
    def _short_codes(cls, values: list[str]) -> list[str]:
        out = []
        for v in values:
            digits = v.replace("-", "").replace(" ", "")
            # Carrier-common short codes: 0005 + 4-6 digits (8-10 digits in all).
            if not (digits.isdigit() and digits.startswith("0005") and 8 <= len(digits) <= 10):
                raise ValueError(f"{v!r} is not a carrier-common SMS short code (0005 + 4-6 digits)")
            out.append(digits)
        return out

    @model_validator(mode="after")
    def _defaults(self) -> BrandSpec:
        if not self.reference_pages:
            self.reference_pages = list(self.login_pages)
        if not self.keywords:
            self.keywords = [self.slug]
        return self


class BrandsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand: list[BrandSpec] = []

    @model_validator(mode="after")
    def _unique(self) -> BrandsFile:
        seen: set[str] = set()
        for b in self.brand:
            if b.slug in seen:
                raise ValueError(f"brand slug {b.slug!r} appears twice")
            seen.add(b.slug)
        return self


def load_brands(path: Path) -> list[BrandSpec]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: brands file not found (copy data/brands.example.toml)") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return BrandsFile.model_validate(raw).brand
    except ValidationError as e:
        first = e.errors()[0]
        loc = list(first["loc"])
        if len(loc) >= 2 and loc[0] == "brand" and isinstance(loc[1], int):
            entry = raw.get("brand", [{}])[loc[1]]
            slug = entry.get("slug", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            key = f"brand[{slug}]." + ".".join(str(p) for p in loc[2:])
        else:
            key = ".".join(str(p) for p in loc)
        raise ConfigError(f"{path}: key `{key}`: {first['msg']}") from None


def sync_brands(session: Session, specs: list[BrandSpec], actor: str = "system") -> dict[str, int]:
    """Write the brands file into the DB. Idempotent; returns counts of what changed."""
    from watcher.core.events import record

    counts = {"brands_added": 0, "brands_updated": 0, "domains_added": 0}
    now = utcnow()
    for spec in specs:
        brand = session.exec(select(Brand).where(Brand.slug == spec.slug)).first()
        data = spec.model_dump(mode="json")
        if brand is None:
            brand = Brand(slug=spec.slug, name=spec.name, name_ja=spec.name_ja, spec=data)
            session.add(brand)
            session.flush()
            counts["brands_added"] += 1
            record(session, actor, "brand.added", brand, {"slug": spec.slug})
        elif brand.spec != data or brand.name != spec.name or brand.name_ja != spec.name_ja:
            brand.spec, brand.name, brand.name_ja, brand.updated_at = data, spec.name, spec.name_ja, now
            counts["brands_updated"] += 1
            record(session, actor, "brand.updated", brand, {"slug": spec.slug})
        wanted: list[tuple[str, OwnedSource, bool]] = [(d, OwnedSource.CONFIG, False) for d in spec.official_domains]
        wanted += [(h, OwnedSource.CONFIG, False) for h in spec.official_hosts]
        wanted += [(d, OwnedSource.LAPSED, True) for d in spec.lapsed_domains]
        for name, source, lapsed in wanted:
            if add_owned(session, brand, name, source, lapsed=lapsed, actor=actor):
                counts["domains_added"] += 1
    session.commit()
    return counts


def add_owned(
    session: Session, brand: Brand, name: str, source: OwnedSource, *, lapsed: bool = False, actor: str = "system"
) -> OwnedDomain | None:
    """Add an owned name if it is new; returns the new row, or None if it was already known."""
    from watcher.core.events import record

    n = normalize_host(name)
    if session.exec(select(OwnedDomain).where(OwnedDomain.name == n.ascii)).first():
        return None
    row = OwnedDomain(
        brand_id=brand.id,
        name=n.ascii,
        apex=n.registrable or n.ascii,
        is_apex=(n.registrable == n.ascii),
        source=source,
        lapsed=lapsed,
    )
    session.add(row)
    session.flush()
    record(session, actor, "owned.added", row, {"source": source.value, "lapsed": lapsed})
    return row

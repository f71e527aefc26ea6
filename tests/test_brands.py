"""The brands file: the shipped example, validation errors, and sync into the database."""

from pathlib import Path

import pytest
from sqlmodel import Session, select

from watcher.core.brands import load_brands, sync_brands
from watcher.core.config import ROOT, ConfigError
from watcher.core.models import Brand, Event, OwnedDomain


def test_the_example_describes_a_realistic_securities_firm():
    brands = {b.slug: b for b in load_brands(ROOT / "data" / "brands.example.toml")}
    h = brands["hoshizora"]
    assert "ほしぞら" in h.keywords and "hzsec" in h.keywords
    assert h.official_domains[0] == "hoshizora-sec.co.jp"
    assert h.sms_short_codes == ["000512345"]
    assert h.reference_pages and h.login_pages[0].startswith("https://trade.")
    assert h.group_domains == ["hoshizora-hd.co.jp"]
    assert "kaede-cafe" in brands["kaede"].word_exceptions


def test_names_in_the_brands_file_are_normalised(tmp_path: Path):
    p = tmp_path / "b.toml"
    p.write_text('[[brand]]\nslug="x"\nname="X"\nofficial_domains=["WWW.Example.CO.JP."]\n', encoding="utf-8")
    assert load_brands(p)[0].official_domains == ["www.example.co.jp"]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('slug="x"\nname="X"\nofficial_domains=["bad domain.com"]', "brand[x].official_domains"),
        ('slug="x"\nname="X"\nofficial_domains=["x.jp"]\nsms_short_codes=["12345"]', "brand[x].sms_short_codes"),
        ('slug="X Y"\nname="X"\nofficial_domains=["x.jp"]', "brand[X Y].slug"),
        ('slug="x"\nname="X"\nofficial_domains=["x.jp"]\ncolour="red"', "brand[x].colour"),
    ],
)
def test_a_bad_brand_entry_names_the_brand_and_key(tmp_path: Path, body: str, key: str):
    p = tmp_path / "b.toml"
    p.write_text("[[brand]]\n" + body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_brands(p)
    assert f"key `{key}`" in str(e.value) and str(p) in str(e.value)


def test_sync_is_idempotent_and_audited(any_ctx):
    with Session(any_ctx.engine) as s:
        first = sync_brands(s, any_ctx.brands)
        again = sync_brands(s, any_ctx.brands)
        assert first["brands_added"] == 2 and first["domains_added"] >= 5
        assert again == {"brands_added": 0, "brands_updated": 0, "domains_added": 0}
        lapsed = s.exec(select(OwnedDomain).where(OwnedDomain.name == "hoshizora-fx.jp")).one()
        assert lapsed.lapsed and lapsed.source == "lapsed"
        www = s.exec(select(OwnedDomain).where(OwnedDomain.name == "www.hoshizora-sec.co.jp")).one()
        assert www.apex == "hoshizora-sec.co.jp" and not www.is_apex
        assert s.exec(select(Brand).where(Brand.slug == "kaede")).one().spec["word_exceptions"]
        assert len(s.exec(select(Event).where(Event.action == "brand.added")).all()) == 2

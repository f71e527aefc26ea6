"""Inventory sources beyond the brands file: AXFR from our own name server (refused for others), and
names that disappear from every source are marked gone, not deleted — and come back."""

from __future__ import annotations

from sqlmodel import Session, select

from watcher.core.models import Event, OwnedDomain, OwnedSource
from watcher.core.texts import render_stored
from watcher.owned.axfr import import_axfr
from watcher.owned.checks import run_checks
from watcher.owned.inventory import mark_gone, source_config, source_dns


def _rows(ctx) -> dict[str, OwnedDomain]:
    with ctx.session() as s:
        return {d.name: d for d in s.exec(select(OwnedDomain))}


def test_axfr_adds_the_zone_s_hosts_and_a_refused_transfer_is_a_note(make_ctx, lab_dns) -> None:
    lab_dns.add_zone("hoshizora-sec.co.jp")
    lab_dns.set("hoshizora-sec.co.jp", "A", "192.0.2.10")
    lab_dns.set("legacy-ir.hoshizora-sec.co.jp", "CNAME", "hz-ir.azurewebsites.net")
    lab_dns.set("_dmarc.hoshizora-sec.co.jp", "TXT", "v=DMARC1; p=reject")
    lab_dns.add_zone("kaede-sec.co.jp")
    lab_dns.allow_axfr.add("hoshizora-sec.co.jp")  # our zone only
    server = f"{lab_dns.host}:{lab_dns.port}"
    ctx = make_ctx(dns=lab_dns, inventory={"axfr": [{"zone": "hoshizora-sec.co.jp", "server": server},
                                                    {"zone": "kaede-sec.co.jp", "server": server}]})
    summary = run_checks(ctx, (), sources=(import_axfr,))
    rows = _rows(ctx)
    assert rows["legacy-ir.hoshizora-sec.co.jp"].source == OwnedSource.AXFR
    assert "_dmarc.hoshizora-sec.co.jp" not in rows
    assert summary["owned_added_axfr"] == 1
    # The run's notes are catalogue sentences, in both languages.
    notes = {lang: [render_stored(n, lang) for n in summary["notes"]] for lang in ("ja", "en")}
    assert any("kaede-sec.co.jp" in n and "REFUSED" in n and "zone transfer failed" in n for n in notes["en"]), notes
    assert any("ゾーン転送に失敗しました" in n for n in notes["ja"]), notes


def test_a_name_no_source_sees_is_marked_gone_then_back(make_ctx, lab_dns) -> None:
    lab_dns.add_zone("hoshizora-sec.co.jp")
    for h in ("www", "trade", "mail", "old-campaign"):
        lab_dns.set(f"{h}.hoshizora-sec.co.jp", "A", "192.0.2.10")
    ctx = make_ctx(dns=lab_dns)
    with ctx.session() as s:
        from watcher.core.brands import add_owned
        from watcher.core.models import Brand
        brand = s.exec(select(Brand).where(Brand.slug == "hoshizora")).one()
        add_owned(s, brand, "old-campaign.hoshizora-sec.co.jp", OwnedSource.ZONEFILE)
        s.commit()
    sources = (source_config, source_dns, mark_gone)
    run_checks(ctx, (), sources=sources)
    old = _rows(ctx)["old-campaign.hoshizora-sec.co.jp"]
    assert old.gone_at is None and "dns" in old.seen_by

    lab_dns.delete("old-campaign.hoshizora-sec.co.jp")  # out of DNS, in no zone file, no certificate
    summary = run_checks(ctx, (), sources=sources)
    rows = _rows(ctx)
    assert rows["old-campaign.hoshizora-sec.co.jp"].gone_at is not None and summary["owned_gone"] == 1
    assert rows["hoshizora.jp"].gone_at is None  # the brands file lists it, whatever DNS says
    assert summary["owned"] == len([r for r in rows.values() if not r.lapsed and r.gone_at is None])

    lab_dns.set("old-campaign.hoshizora-sec.co.jp", "A", "192.0.2.10")
    run_checks(ctx, (), sources=sources)
    assert _rows(ctx)["old-campaign.hoshizora-sec.co.jp"].gone_at is None
    with Session(ctx.engine) as s:
        actions = [e.action for e in s.exec(select(Event).where(Event.action.in_(["owned.gone", "owned.back"])).order_by(Event.id))]
    assert actions == ["owned.gone", "owned.back"]

"""DMARC aggregate reports: real-shaped layouts (Google, Microsoft, DMARCbis), compressed, and hostile."""

from __future__ import annotations

import gzip
import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select

from watcher import dmarc
from watcher.models import DmarcReport, Event

HERE = Path(__file__).parent / "dmarc"
GOOGLE = (HERE / "google.xml").read_bytes()
MICROSOFT = (HERE / "microsoft.xml").read_bytes()
BIS = (HERE / "dmarcbis.xml").read_bytes()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<feedback><report_metadata><org_name>&lol5;</org_name><report_id>x</report_id></report_metadata>
<policy_published><domain>hoshizora-sec.co.jp</domain></policy_published></feedback>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feedback><report_metadata><org_name>&xxe;</org_name><report_id>y</report_id></report_metadata>
<policy_published><domain>hoshizora-sec.co.jp</domain></policy_published></feedback>"""


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def zip_bomb() -> bytes:
    # 40 MB of zeros deflate to ~40 kB: far past both the size cap and the ratio cap.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, z.open("report.xml", "w") as f:
        block = b"<" + b"\0" * (1024 * 1024 - 1)
        for _ in range(40):
            f.write(block)
    return buf.getvalue()


def test_layouts_parse() -> None:
    g = dmarc.parse_report(GOOGLE)
    assert (g.org_name, g.domain, g.policy["p"]) == ("google.com", "hoshizora-sec.co.jp", "none")
    assert [(r["source_ip"], r["count"], r["aligned"]) for r in g.records] == [
        ("203.0.113.25", 1840, True), ("198.51.100.77", 312, False)]
    assert g.records[1]["auth_dkim"][0]["domain"] == "mailer-k7x2.top"
    m = dmarc.parse_report(MICROSOFT)
    assert m.org_name == "Enterprise Outlook" and m.records[0]["aligned"] is True  # DKIM pass aligns
    assert m.records[1]["envelope_from"] == "hzsec-support.top" and m.records[1]["disposition"] == "reject"
    b = dmarc.parse_report(BIS)  # DMARCbis: namespaced elements
    assert b.domain == "hoshizora-sec.co.jp" and b.records[0]["source_ip"] == "2001:db8::25"


@pytest.mark.parametrize("data,reason", [
    (BILLION_LAUGHS, "unsafe XML"),
    (XXE, "unsafe XML"),
    (b"<feedback><unclosed></feedback>", "not well-formed"),
    (b"<html><body>hi</body></html>", "not a DMARC aggregate report"),
    (b"\x00\x01binary", "not XML"),
])
def test_hostile_xml_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(dmarc.Refused, match=reason):
        for doc in dmarc.unpack(data):
            dmarc.parse_report(doc)


def test_bombs_are_refused_without_inflating() -> None:
    with pytest.raises(dmarc.Refused, match="zip bomb"):
        dmarc.unpack(zip_bomb())
    gz = gzip.compress(b"<" + b"\0" * (8 * 1024 * 1024), compresslevel=9)
    with pytest.raises(dmarc.Refused, match="zip bomb"):
        dmarc.unpack(gz)
    nested = zipped("inner.zip", zipped("r.xml", GOOGLE))
    assert dmarc.unpack(nested) == [GOOGLE]  # one level of nesting (Yahoo-style) is fine
    with pytest.raises(dmarc.Refused, match="nested"):
        dmarc.unpack(zipped("a.zip", zipped("b.zip", zipped("c.xml", GOOGLE))))


def test_ingest_folder_and_mail(make_ctx, tmp_path: Path) -> None:
    folder = tmp_path / "rua"
    folder.mkdir()
    (folder / "google.com!hoshizora-sec.co.jp!1764028800!1764115199.xml").write_bytes(GOOGLE)
    (folder / "enterprise.protection.outlook.com!hzsec.com!1764028800!1764115200.xml.gz").write_bytes(
        gzip.compress(MICROSOFT))
    (folder / "yahoo.zip").write_bytes(zipped("yahoo.xml", BIS))
    (folder / "bomb.zip").write_bytes(zip_bomb())
    (folder / "laughs.xml").write_bytes(BILLION_LAUGHS)
    (folder / "other.xml").write_bytes(GOOGLE.replace(b"hoshizora-sec.co.jp", b"example.org").replace(
        b"17640288001234567890", b"999"))
    msg = EmailMessage()
    msg["Subject"] = "Report Domain: hzsec.com Submitter: google.com"
    msg.set_content("DMARC aggregate report attached.")
    msg.add_attachment(gzip.compress(MICROSOFT.replace(b"9f3c2a1b", b"aaaaaaaa")), maintype="application",
                       subtype="gzip", filename="report.xml.gz")
    (folder / "forwarded.eml").write_bytes(msg.as_bytes())
    ctx = make_ctx(imap={"dmarc_dir": str(folder)})

    out = dmarc.ingest(ctx)["folder"]
    assert out["stored"] == 4 and out["refused"] == 3, out
    assert any("not one of our domains" in r for r in out["refused_reasons"])
    again = dmarc.ingest(ctx)["folder"]  # every file was seen: nothing is read again
    assert again["stored"] == 0 and again["refused"] == 0
    with Session(ctx.engine) as s:
        assert len(s.exec(select(DmarcReport)).all()) == 4
        assert len(s.exec(select(Event).where(Event.action == "dmarc.refused")).all()) == 3
        senders = dmarc.failing_senders(s, since=ctx.now().replace(year=2025))
    top = senders[0]
    assert (top["source_ip"], top["count"], top["domain"]) == ("198.51.100.77", 312, "hoshizora-sec.co.jp")
    assert {r["source_ip"] for r in senders} == {"198.51.100.77", "192.0.2.66", "2001:db8::25"}
    assert dmarc.ingest_files(ctx, [folder / "google.com!hoshizora-sec.co.jp!1764028800!1764115199.xml"])[
        "duplicates"] == 1

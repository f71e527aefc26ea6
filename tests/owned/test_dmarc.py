"""DMARC aggregate reports: real-shaped layouts (Google, Microsoft, DMARCbis), compressed, and hostile."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select

from watcher.context import Context
from watcher.core.models import DmarcReport, Event, Finding, FindingKind
from watcher.owned import dmarc

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
    (b"<<<>>>", "not well-formed"),
    (b"<feedback><unclosed></feedback>", "no policy_published/domain"),  # recovered, but no report in it
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


class _TinyImap:
    """A test double of an IMAP server: the lab has no IMAP peer, so this speaks just the commands
    ``ingest_imap`` sends (CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH, STORE, LOGOUT), on loopback."""

    def __init__(self, messages: list[bytes]) -> None:
        import socketserver
        import threading

        self.messages = messages
        self.seen: set[int] = set()
        self.logins: list[str] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"* OK IMAP4rev1 tiny\r\n")
                while line := self.rfile.readline():
                    tag, cmd, *rest = line.decode().rstrip("\r\n").split(" ", 2)
                    arg = rest[0] if rest else ""
                    out = b""
                    if cmd.upper() == "CAPABILITY":
                        out = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
                    elif cmd.upper() == "LOGIN":
                        owner.logins.append(arg.split(" ")[0])
                    elif cmd.upper() == "SELECT":
                        out = f"* {len(owner.messages)} EXISTS\r\n".encode()
                    elif cmd.upper() == "SEARCH":
                        unseen = [str(i + 1) for i in range(len(owner.messages)) if i + 1 not in owner.seen]
                        out = ("* SEARCH " + " ".join(unseen)).rstrip().encode() + b"\r\n"
                    elif cmd.upper() == "FETCH":
                        num, what = arg.split(" ", 1)
                        raw = owner.messages[int(num) - 1]
                        if "SIZE" in what:
                            out = f"* {num} FETCH (RFC822.SIZE {len(raw)})\r\n".encode()
                        else:
                            owner.seen.add(int(num))
                            out = f"* {num} FETCH (RFC822 {{{len(raw)}}}\r\n".encode() + raw + b")\r\n"
                    elif cmd.upper() == "STORE":
                        owner.seen.add(int(arg.split(" ")[0]))
                    elif cmd.upper() == "LOGOUT":
                        self.wfile.write(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
                        return
                    self.wfile.write(out + tag.encode() + b" OK done\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_ingest_from_imap(make_ctx) -> None:
    mail = EmailMessage()
    mail["Subject"] = "Report domain: hoshizora-sec.co.jp Submitter: google.com"
    mail.set_content("attached")
    mail.add_attachment(zipped("google.xml", GOOGLE), maintype="application", subtype="zip",
                        filename="google.com!hoshizora-sec.co.jp!1764028800!1764115199.zip")
    hostile = EmailMessage()
    hostile["Subject"] = "Report domain: hzsec.com"
    hostile.set_content("x")
    hostile.add_attachment(BILLION_LAUGHS, maintype="text", subtype="xml", filename="r.xml")
    imap = _TinyImap([mail.as_bytes(), hostile.as_bytes()])
    try:
        ctx = make_ctx(imap={"host": "127.0.0.1", "port": imap.port, "ssl": False, "username": "dmarc",
                             "password": "pw", "dmarc_folder": "DMARC"})
        out = dmarc.ingest(ctx)["imap"]
        assert out["stored"] == 1 and out["refused"] == 1, out
        assert imap.logins == ["dmarc"] and imap.seen == {1, 2}
        assert dmarc.ingest(ctx)["imap"]["stored"] == 0  # everything was marked seen
    finally:
        imap.close()


def test_tolerant_as_parsedmarc_and_still_safe() -> None:
    """Stray bytes after gzip, concatenated members, recoverable XML: read, each forgiveness recorded."""
    from watcher.owned import reportfiles

    gz = gzip.compress(GOOGLE)
    [doc] = reportfiles.unpack(gz + b"\r\n")
    assert doc.data == GOOGLE and doc.defects == ["2 stray byte(s) after the gzip stream were ignored"]
    [doc] = reportfiles.unpack(gzip.compress(GOOGLE[:500]) + gzip.compress(GOOGLE[500:]))
    assert doc.data == GOOGLE and "2 gzip members concatenated" in doc.defects
    with pytest.raises(dmarc.Refused, match="truncated"):
        reportfiles.unpack(gz[: len(gz) // 2])
    broken = GOOGLE.replace(b"<email>", b"<email><bad@x>", 1)  # not well-formed, records intact
    rep = dmarc.parse_report(broken)
    assert len(rep.records) == 2 and any("recovered" in d for d in rep.defects)
    upper = GOOGLE.replace(b"<dkim>pass</dkim>", b"<dkim>Pass</dkim>").replace(b"<spf>pass</spf>", b"<spf>PASS</spf>")
    assert dmarc.parse_report(upper).records[0]["aligned"] is True
    with pytest.raises(dmarc.Refused, match="DTD"):  # recovery never reads a DTD
        dmarc.parse_report(b'<!DOCTYPE x [<!ENTITY e "e">]><feedback><oops></feedback>')


def test_failure_and_tls_reports_from_the_folder(make_ctx, tmp_path: Path) -> None:
    from lab.reports import failure_report, tls_report
    from watcher.core.models import DmarcFailureReport, TlsReport

    folder = tmp_path / "ruf"
    folder.mkdir()
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    (folder / "afrf.eml").write_bytes(failure_report("hoshizora-sec.co.jp", "198.51.100.77", now, "口座確認",
                                                     "info@hoshizora-sec.co.jp", "ruf@receiver.test", "ruf@h.jp"))
    (folder / "tls.json.gz").write_bytes(tls_report("hoshizora-sec.co.jp", "mail.hoshizora-sec.co.jp", now, now,
                                                    100, [("starttls-not-supported", "192.0.2.1", 3)]))
    (folder / "other-tls.json").write_bytes(gzip.decompress(tls_report("example.org", "mx.example.org", now, now,
                                                                       1, [])))
    ctx = make_ctx(imap={"dmarc_dir": str(folder)})
    out = dmarc.ingest(ctx)["folder"]
    assert out["by_kind"] == {"failure": 1, "tls": 1} and out["refused"] == 1, out
    assert "not one of our domains" in out["refused_reasons"][0]
    with Session(ctx.engine) as s:
        f = s.exec(select(DmarcFailureReport)).one()
        assert (f.domain, f.source_ip, f.auth_failure, f.subject) == ("hoshizora-sec.co.jp", "198.51.100.77",
                                                                       "dmarc", "口座確認")
        t = s.exec(select(TlsReport)).one()
        assert t.policies[0]["failure"] == 3 and t.policies[0]["failures"][0]["result_type"] == "starttls-not-supported"


def test_failed_tls_deliveries_open_a_finding_that_a_later_clean_report_resolves(make_ctx, tmp_path: Path) -> None:
    from lab.reports import tls_report
    from watcher.core.models import Finding, FindingKind, FindingStatus, Severity

    folder = tmp_path / "tlsrpt"
    folder.mkdir()
    ctx = make_ctx(imap={"dmarc_dir": str(folder)})
    day = [datetime(2026, 11, d, tzinfo=UTC) for d in (23, 24, 25)]
    mx = "mail.hoshizora-sec.co.jp"

    def tls_finding() -> Finding:
        with Session(ctx.engine) as s:
            return s.exec(select(Finding).where(Finding.kind == FindingKind.TLS_DELIVERY)).one()

    (folder / "24.json.gz").write_bytes(tls_report("hoshizora-sec.co.jp", mx, day[1], day[1], 40,
                                                   [("certificate-expired", "192.0.2.1", 12)]))
    dmarc.ingest(ctx)
    f = tls_finding()
    assert (f.subject, f.status, f.severity) == ("hoshizora-sec.co.jp", FindingStatus.OPEN, Severity.HIGH)
    assert "12" in f.title and "certificate-expired" in f.detail and f.data["results"] == {"certificate-expired": 12}

    # The day before, arriving late, was clean: it says nothing about today.
    (folder / "23.json.gz").write_bytes(tls_report("hoshizora-sec.co.jp", mx, day[0], day[0], 50, [],
                                                   org="Microsoft"))
    dmarc.ingest(ctx)
    assert tls_finding().status == FindingStatus.OPEN

    (folder / "25.json.gz").write_bytes(tls_report("hoshizora-sec.co.jp", mx, day[2], day[2], 50, []))
    dmarc.ingest(ctx)
    assert tls_finding().status == FindingStatus.RESOLVED


class TlsReports:
    """A folder of SMTP TLS reports for hoshizora-sec.co.jp, each read as it is dropped in."""

    def __init__(self, make_ctx: Callable[..., Context], folder: Path) -> None:
        folder.mkdir()
        self.folder, self.ctx = folder, make_ctx(imap={"dmarc_dir": str(folder)})

    def arrives(self, day: int, failed: int, org: str = "Google Inc.", result: str = "certificate-expired") -> None:
        from lab.reports import tls_report

        when = datetime(2026, 11, day, tzinfo=UTC)
        failures = [(result, "192.0.2.1", failed)] if failed else []
        (self.folder / f"{org}-{day}.json.gz").write_bytes(
            tls_report("hoshizora-sec.co.jp", "mail.hoshizora-sec.co.jp", when, when, 40, failures, org=org))
        assert dmarc.ingest(self.ctx)["folder"]["by_kind"] == {"tls": 1}

    def finding(self) -> Finding:

        with Session(self.ctx.engine) as s:
            return s.exec(select(Finding).where(Finding.kind == FindingKind.TLS_DELIVERY)).one()

    def a_person_accepts(self) -> Finding:
        """The Finding's status set to accepted, as a person's decision stores it (no command writes it yet)."""
        from watcher.core.models import FindingStatus

        with Session(self.ctx.engine) as s:
            f = s.exec(select(Finding).where(Finding.kind == FindingKind.TLS_DELIVERY)).one()
            f.status = FindingStatus.ACCEPTED
            s.add(f)
            s.commit()
            s.refresh(f)
            return f


def test_an_older_failing_tls_report_does_not_reopen_a_finding_a_newer_clean_report_resolved(
        make_ctx, tmp_path: Path) -> None:
    from watcher.core.models import FindingStatus

    reports = TlsReports(make_ctx, tmp_path / "tlsrpt")
    reports.arrives(24, failed=12)
    reports.arrives(26, failed=0)
    resolved = reports.finding()
    assert resolved.status == FindingStatus.RESOLVED and resolved.data["end_at"].startswith("2026-11-24")

    # Another sender's report of the 25th, mailed late: the 26th already said deliveries work again.
    reports.arrives(25, failed=7, org="Microsoft")
    f = reports.finding()
    assert (f.status, f.times_opened, f.resolved_at) == (FindingStatus.RESOLVED, 1, resolved.resolved_at)
    assert (f.data, f.detail, f.title) == (resolved.data, resolved.detail, resolved.title)


def test_a_newer_failing_tls_report_reopens_the_finding_and_its_dates_never_go_backwards(
        make_ctx, tmp_path: Path) -> None:
    from watcher.core.models import FindingStatus

    reports = TlsReports(make_ctx, tmp_path / "tlsrpt")
    reports.arrives(24, failed=12)
    reports.arrives(25, failed=0)
    assert reports.finding().status == FindingStatus.RESOLVED

    reports.arrives(27, failed=3)
    f = reports.finding()
    assert (f.status, f.times_opened, f.resolved_at) == (FindingStatus.OPEN, 2, None)
    assert f.data["end_at"].startswith("2026-11-27") and "2026-11-27" in f.detail and "3" in f.title

    # An older failing report while the newer one holds the Finding open: neither dates nor counts move back.
    reports.arrives(26, failed=9, org="Microsoft")
    later = reports.finding()
    assert (later.status, later.data, later.detail, later.title) == (FindingStatus.OPEN, f.data, f.detail, f.title)
    # Nor does an older clean report close it.
    reports.arrives(26, failed=0, org="Yahoo")
    assert reports.finding().status == FindingStatus.OPEN


def test_an_accepted_tls_finding_stays_accepted_while_later_reports_are_no_worse(make_ctx, tmp_path: Path) -> None:
    from watcher.core.models import FindingStatus, Severity

    reports = TlsReports(make_ctx, tmp_path / "tlsrpt")
    reports.arrives(24, failed=12)
    accepted = reports.a_person_accepts()
    assert accepted.severity == Severity.HIGH

    reports.arrives(25, failed=20)  # as bad: certificates still fail, another report id, another day
    reports.arrives(26, failed=1, result="starttls-not-supported")  # milder: one session broke off
    f = reports.finding()
    assert (f.status, f.times_opened, f.severity) == (FindingStatus.ACCEPTED, 1, Severity.HIGH)
    # The Finding reads as the person accepted it; only the latest date read moves on.
    assert (f.title, f.detail) == (accepted.title, accepted.detail)
    assert {**f.data, "seen_until": accepted.data["seen_until"]} == accepted.data
    assert f.data["seen_until"].startswith("2026-11-26")

    reports.arrives(27, failed=0)  # clean: nothing to resolve, the decision stands for the next failure
    reports.arrives(28, failed=9)
    assert reports.finding().status == FindingStatus.ACCEPTED


def test_an_accepted_tls_finding_reopens_when_certificate_failures_make_it_worse(make_ctx, tmp_path: Path) -> None:
    from watcher.core.models import FindingStatus, Severity

    reports = TlsReports(make_ctx, tmp_path / "tlsrpt")
    reports.arrives(24, failed=1, result="starttls-not-supported")  # 1 of 41 sessions: background noise
    assert reports.a_person_accepts().severity == Severity.MEDIUM
    reports.arrives(25, failed=1, result="starttls-not-supported")
    assert reports.finding().status == FindingStatus.ACCEPTED

    reports.arrives(26, failed=3)  # certificate-expired: mail to us refused, not what was accepted
    f = reports.finding()
    assert (f.status, f.severity, f.times_opened) == (FindingStatus.OPEN, Severity.HIGH, 2)
    assert f.data["results"] == {"certificate-expired": 3} and "2026-11-26" in f.detail
    with Session(reports.ctx.engine) as s:
        assert s.exec(select(Event).where(Event.action == "finding.reopened", Event.object_id == f.id)).one()


@pytest.mark.parametrize("clean_first", [False, True], ids=["failing-then-clean", "clean-then-failing"])
def test_a_failing_tls_report_wins_over_a_clean_one_for_the_same_day(
        make_ctx, tmp_path: Path, clean_first: bool) -> None:
    from watcher.core.models import FindingStatus

    reports = TlsReports(make_ctx, tmp_path / "tlsrpt")
    reports.arrives(23, failed=5)  # open since the day before
    same_day = [lambda: reports.arrives(24, failed=7, org="Microsoft"), lambda: reports.arrives(24, failed=0)]
    for arrives in reversed(same_day) if clean_first else same_day:
        arrives()
    f = reports.finding()
    # One sender delivered cleanly, another could not on the same day: the failure stands.
    assert f.status == FindingStatus.OPEN and f.data["end_at"].startswith("2026-11-24") and "7" in f.title

    reports.arrives(25, failed=0)  # a later clean day resolves it
    assert reports.finding().status == FindingStatus.RESOLVED

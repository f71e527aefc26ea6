"""Mail receivers' reports, as they send them: DMARC aggregate (RFC 7489 / DMARCbis), DMARC failure
(RFC 6591 AFRF) and SMTP TLS (RFC 8460) — dated from *now*, so a demo or a test never reads a year-old
sample, and packed the way real reporters pack them (Google's zip, Microsoft's gzip, one reporter's
gzip with two stray bytes after it, Yahoo's DMARCbis namespace).

``Sender`` rows describe who sent as the domain; ``aggregate_xml`` writes one receiver's view of
them; ``write_sample`` writes a whole mailbox-day of reports into a folder.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

UTC = dt.UTC


@dataclass(frozen=True)
class Sender:
    """One source IP's mail as a receiver saw it: counts and what authenticated."""

    ip: str
    count: int
    spf_aligned: bool
    dkim_aligned: bool
    dkim_domain: str = ""  # the d= of the signature that passed (may be a platform's own domain)
    envelope: str = ""  # the envelope sender domain (SPF's domain)
    spf_result: str = "pass"
    dkim_result: str = "pass"
    header_from: str = ""


@dataclass
class Reporter:
    org: str
    email: str
    packing: str = "xml"  # xml, zip, gzip, gzip+crlf (stray bytes after the stream), bis (DMARCbis namespace)
    share: float = 1.0  # of each sender's mail this receiver saw
    upper_case: bool = False  # writes "Pass" (some reporters do)
    extra: dict[str, str] = field(default_factory=dict)


REPORTERS = (
    Reporter("google.com", "noreply-dmarc-support@google.com", "zip", 0.55),
    Reporter("Enterprise Outlook", "dmarcreport@microsoft.com", "gzip", 0.25),
    Reporter("Yahoo", "dmarchelp@yahooinc.com", "bis", 0.12),
    Reporter("Mimecast", "no-reply@mimecastreport.com", "gzip+crlf", 0.08, upper_case=True),
)


def _word(value: str, upper: bool) -> str:
    return value.capitalize() if upper else value


def aggregate_xml(domain: str, policy: str, senders: list[Sender], reporter: Reporter, begin: dt.datetime,
                  end: dt.datetime, report_id: str) -> bytes:
    """One aggregate report, RFC 7489 appendix C (or DMARCbis with ``reporter.packing == "bis"``)."""
    bis = reporter.packing == "bis"
    up = reporter.upper_case
    rows = []
    for s in senders:
        count = max(0, round(s.count * reporter.share))
        if not count:
            continue
        hf = s.header_from or domain
        dkim = (f"<dkim><domain>{escape(s.dkim_domain)}</domain><selector>s1</selector>"
                f"<result>{_word(s.dkim_result, up)}</result></dkim>") if s.dkim_domain else ""
        env = s.envelope or hf
        rows.append(
            f"<record><row><source_ip>{s.ip}</source_ip><count>{count}</count><policy_evaluated>"
            f"<disposition>{'none' if policy == 'none' or s.spf_aligned or s.dkim_aligned else policy}</disposition>"
            f"<dkim>{_word('pass' if s.dkim_aligned else 'fail', up)}</dkim>"
            f"<spf>{_word('pass' if s.spf_aligned else 'fail', up)}</spf></policy_evaluated></row>"
            f"<identifiers><header_from>{escape(hf)}</header_from><envelope_from>{escape(env)}</envelope_from>"
            f"</identifiers><auth_results>{dkim}<spf><domain>{escape(env)}</domain><scope>mfrom</scope>"
            f"<result>{_word(s.spf_result, up)}</result></spf></auth_results></record>")
    ns = ' xmlns="urn:ietf:params:xml:ns:dmarc-2.0"' if bis else ""
    version = "<version>1.0</version>" if bis else ""
    extra = ("<np>none</np><testing>n</testing><discovery_method>treewalk</discovery_method>" if bis else "")
    generator = "<generator>Lab Mail Receiver 1.0</generator>" if bis else ""
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>\n<feedback{ns}>{version}<report_metadata>'
           f"<org_name>{escape(reporter.org)}</org_name><email>{escape(reporter.email)}</email>"
           f"<report_id>{escape(report_id)}</report_id>{generator}<date_range><begin>{int(begin.timestamp())}</begin>"
           f"<end>{int(end.timestamp())}</end></date_range></report_metadata><policy_published>"
           f"<domain>{escape(domain)}</domain><adkim>r</adkim><aspf>r</aspf><p>{policy}</p><sp>{policy}</sp>"
           f"{extra}</policy_published>{''.join(rows)}</feedback>\n")
    return doc.encode()


def pack(name: str, xml: bytes, packing: str) -> tuple[str, bytes]:
    """(file name, bytes) as the reporter sends it."""
    if packing == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name + ".xml", xml)
        return name + ".zip", buf.getvalue()
    if packing in ("gzip", "gzip+crlf"):
        data = gzip.compress(xml, mtime=0)
        return name + ".xml.gz", data + (b"\r\n" if packing == "gzip+crlf" else b"")
    return name + ".xml", xml


def report_mail(domain: str, reporter: Reporter, filename: str, data: bytes, now: dt.datetime,
                to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = reporter.email
    msg["To"] = to
    msg["Subject"] = f"Report Domain: {domain} Submitter: {reporter.org} Report-ID: <{filename}>"
    msg["Date"] = format_datetime(now)
    msg.set_content(f"This is an aggregate report from {reporter.org}.")
    ctype = ("application", "zip") if filename.endswith(".zip") else ("application", "gzip") \
        if filename.endswith(".gz") else ("text", "xml")
    msg.add_attachment(data, maintype=ctype[0], subtype=ctype[1], filename=filename)
    return msg.as_bytes()


def failure_report(domain: str, ip: str, now: dt.datetime, subject: str, sender: str, reporter: str,
                   to: str) -> bytes:
    """A DMARC failure report (RFC 6591): the human part, the feedback fields, the failing message's headers."""
    fields = (f"Feedback-Type: auth-failure\r\nUser-Agent: LabMail/1.0\r\nVersion: 1\r\n"
              f"Original-Mail-From: <bounce@{sender.split('@')[-1]}>\r\nOriginal-Rcpt-To: <customer@example.jp>\r\n"
              f"Arrival-Date: {format_datetime(now - dt.timedelta(minutes=7))}\r\nSource-IP: {ip}\r\n"
              f"Reported-Domain: {domain}\r\nDelivery-Result: reject\r\nAuth-Failure: dmarc\r\n"
              f"Authentication-Results: mx.lab-receiver.test; dmarc=fail header.from={domain}\r\n")
    encoded = Header(subject, "utf-8").encode()
    headers = (f"From: <{sender}>\r\nTo: <customer@example.jp>\r\nSubject: {encoded}\r\n"
               f"Date: {format_datetime(now - dt.timedelta(minutes=7))}\r\nMessage-ID: <{int(now.timestamp())}@{ip}>\r\n")
    outer = EmailMessage()
    outer["From"] = reporter
    outer["To"] = to
    outer["Subject"] = f"DMARC Failure Report for {domain} (ip={ip})"
    outer["Date"] = format_datetime(now)
    outer["MIME-Version"] = "1.0"
    boundary = f"lab-afrf-{int(now.timestamp())}"
    outer["Content-Type"] = f'multipart/report; report-type=feedback-report; boundary="{boundary}"'
    body = (f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"A message claiming to be from {domain} failed DMARC.\r\n"
            f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n{fields}\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n--{boundary}--\r\n")
    head = "".join(f"{k}: {v}\r\n" for k, v in outer.items())
    return (head + "\r\n" + body).encode()


def tls_report(domain: str, mx: str, begin: dt.datetime, end: dt.datetime, success: int,
               failures: list[tuple[str, str, int]], org: str = "Google Inc.") -> bytes:
    """An RFC 8460 report (gzip): ``failures`` as (result-type, sending MTA IP, sessions)."""
    doc = {"organization-name": org,
           "date-range": {"start-datetime": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "end-datetime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
           "contact-info": "smtp-tls-reporting@lab-receiver.test",
           "report-id": f"{begin.strftime('%Y-%m-%dT%H:%M:%SZ')}_{domain}",
           "policies": [{"policy": {"policy-type": "sts", "policy-domain": domain,
                                    "policy-string": ["version: STSv1", "mode: enforce", f"mx: {mx}",
                                                      "max_age: 604800"], "mx-host": [mx]},
                         "summary": {"total-successful-session-count": success,
                                     "total-failure-session-count": sum(n for *_, n in failures)},
                         "failure-details": [{"result-type": t, "sending-mta-ip": ip, "receiving-mx-hostname": mx,
                                              "failed-session-count": n} for t, ip, n in failures]}]}
    return gzip.compress(json.dumps(doc).encode(), mtime=0)


# --- the demo's day of reports -------------------------------------------------------------------

# ほしぞら証券 (hoshizora-sec.co.jp, p=none): its own server, SendGrid for marketing with DKIM set up,
# Salesforce Marketing Cloud for notices without its DKIM (the fix the road to reject needs), a
# mailing list that forwards, and two spoofers.
DEMO_SENDERS = {
    "hoshizora-sec.co.jp": ("none", [
        Sender("192.0.2.25", 18400, True, True, "hoshizora-sec.co.jp", "hoshizora-sec.co.jp"),
        Sender("167.89.12.34", 9200, False, True, "hoshizora-sec.co.jp", "em1234.sendgrid.net"),
        Sender("13.111.40.7", 2600, False, False, "s6.exacttarget.com", "bounce.s6.exacttarget.com"),
        Sender("209.85.220.41", 310, False, True, "hoshizora-sec.co.jp", "lists.example-forum.jp",
               spf_result="fail"),
        Sender("198.51.100.77", 1240, False, False, "mailer-k7x2.top", "mailer-k7x2.top", spf_result="softfail",
               dkim_result="fail"),
        Sender("203.0.113.99", 420, False, False, "", "hoshizora-sec.co.jp", spf_result="fail"),
    ]),
    "hzsec.com": ("reject", [
        Sender("192.0.2.26", 5200, True, True, "hzsec.com", "hzsec.com"),
        Sender("198.51.100.78", 95, False, False, "", "hzsec-support.top", spf_result="fail"),
    ]),
}


def write_sample(folder: Path, now: dt.datetime | None = None, to: str = "dmarc-rua@hoshizora-sec.co.jp") -> list[Path]:
    """Yesterday's reports for the demo brands into ``folder``: aggregate reports (each reporter's
    packing), a failure report of the spoofing run, and an SMTP TLS report."""
    now = (now or dt.datetime.now(UTC)).replace(microsecond=0)
    end = now.replace(minute=0, second=0)
    begin = end - dt.timedelta(days=1)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for domain, (policy, senders) in DEMO_SENDERS.items():
        for i, rep in enumerate(REPORTERS):
            report_id = f"{int(begin.timestamp())}{i}{zlib.crc32(domain.encode()) % 10000:04d}"
            xml = aggregate_xml(domain, policy, senders, rep, begin, end, report_id)
            base = f"{rep.org.split()[0].lower()}!{domain}!{int(begin.timestamp())}!{int(end.timestamp())}"
            name, data = pack(base, xml, rep.packing)
            if rep.org == "google.com":  # Google mails its reports; the others land as files
                path = folder / f"{base}.eml"
                path.write_bytes(report_mail(domain, rep, name, data, now, to))
            else:
                path = folder / name
                path.write_bytes(data)
            out.append(path)
    spoof = folder / f"failure-{int(now.timestamp())}.eml"
    spoof.write_bytes(failure_report("hoshizora-sec.co.jp", "198.51.100.77", now, "【重要】口座の確認をお願いします",
                                     "info@hoshizora-sec.co.jp", "noreply-dmarc@lab-receiver.test", to))
    out.append(spoof)
    tls = folder / f"google.com!hoshizora-sec.co.jp!{int(begin.timestamp())}!{int(end.timestamp())}.json.gz"
    tls.write_bytes(tls_report("hoshizora-sec.co.jp", "mail.hoshizora-sec.co.jp", begin, end, 21840,
                               [("certificate-expired", "209.85.220.41", 12)]))
    out.append(tls)
    return out

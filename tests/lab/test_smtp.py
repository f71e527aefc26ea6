"""The lab mail server with smtplib (plain and STARTTLS) and its HTTP API with httpx."""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from lab.smtp import LabSMTP


def _notice(to: str, subject: str, body: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "brand-security@hoshizora-sec.co.jp"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = "<takedown-1@hoshizora-sec.co.jp>"
    m.set_content(body)
    m.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", filename="evidence.png")
    return m


def test_starttls_and_storage(lab_smtp: LabSMTP) -> None:
    with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c:
        c.ehlo()
        assert c.has_extn("starttls")
        c.starttls(context=ssl.create_default_context(cafile=lab_smtp.pki.ca_file))
        c.send_message(_notice("abuse@lab-registrar.test", "フィッシングサイト停止のお願い", "本文です"))
    with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c:  # STARTTLS is optional
        c.sendmail("a@hzsec.com", ["x@lab.test", "y@lab.test"], b"Subject: plain\r\n\r\nhello\r\n")
    msgs = lab_smtp.messages()
    assert [m.tls for m in msgs] == [True, False]
    first = msgs[0]
    assert first.mail_from == "brand-security@hoshizora-sec.co.jp" and first.rcpt_tos == ["abuse@lab-registrar.test"]
    assert first.message["Subject"] == "フィッシングサイト停止のお願い"
    att = next(first.message.iter_attachments())
    assert att.get_filename() == "evidence.png" and att.get_content() == b"\x89PNG\r\n\x1a\nfake"
    assert msgs[1].rcpt_tos == ["x@lab.test", "y@lab.test"]


def test_http_api(lab_smtp: LabSMTP, tmp_path: Path) -> None:
    with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c:
        c.send_message(_notice("abuse@lab-hosting.test", "report", "see attachment"))
    listing = httpx.get(lab_smtp.api_url + "messages").json()
    assert listing[0]["rcpt_tos"] == ["abuse@lab-hosting.test"] and listing[0]["attachments"] == ["evidence.png"]
    raw = httpx.get(lab_smtp.api_url + f"messages/{listing[0]['id']}/raw")
    assert raw.headers["content-type"] == "message/rfc822" and b"Subject: report" in raw.content
    assert "see attachment" in httpx.get(lab_smtp.api_url + f"messages/{listing[0]['id']}").json()["text"]
    files = lab_smtp.export_eml(tmp_path)
    assert files[0].read_bytes() == raw.content
    assert httpx.delete(lab_smtp.api_url + "messages").json() == {"deleted": True}
    assert lab_smtp.messages() == []


def test_temporary_and_permanent_failures(lab_smtp: LabSMTP) -> None:
    lab_smtp.fail_next(2, 451)
    lab_smtp.reject_recipient("closed@cheapnames.test", 550)
    for _ in range(2):
        with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c, pytest.raises(smtplib.SMTPDataError) as e:
            c.send_message(_notice("abuse@cheapnames.test", "s", "b"))
        assert e.value.smtp_code == 451
    with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c:
        c.send_message(_notice("abuse@cheapnames.test", "s", "b"))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as r:
            c.send_message(_notice("closed@cheapnames.test", "s", "b"))
        assert r.value.recipients["closed@cheapnames.test"][0] == 550
    assert len(lab_smtp.messages()) == 1


def test_abuse_desk_acts_after_a_delay(lab_smtp: LabSMTP) -> None:
    acted: list[str] = []
    lab_smtp.abuse_desk("abuse@cheapnames.test", acted.append,
                        lambda: ["hoshizora-sec-login.top", "k7x2.top"], delay=0.2)
    with smtplib.SMTP(lab_smtp.host, lab_smtp.port, timeout=5) as c:
        c.send_message(_notice("abuse@cheapnames.test", "Phishing: hxxps://hoshizora-sec-login[.]top/",
                               "The site impersonates Hoshizora Securities."))
        c.send_message(_notice("abuse@lab-registrar.test", "k7x2.top", "not this desk"))
    assert acted == []
    deadline = time.monotonic() + 3
    while not acted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert acted == ["hoshizora-sec-login.top"]
    assert lab_smtp.desks["abuse@cheapnames.test"].reports[0]["acted_at"]

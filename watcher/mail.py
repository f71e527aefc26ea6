"""The SMTP client: the one place omamori sends mail from (takedown requests, reports).

Failures are classified so the outbox knows whether to retry: ``TemporaryFailure`` (4xx, connection
problems) or ``PermanentFailure`` (5xx). (Issue 8 adds S/MIME signing.)
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from watcher.config import SmtpSettings


class MailError(Exception):
    pass


class TemporaryFailure(MailError):
    pass


class PermanentFailure(MailError):
    pass


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def sender(self) -> str:
        return formataddr((self.settings.from_name, self.settings.from_address))

    def new_message_id(self) -> str:
        domain = self.settings.from_address.rpartition("@")[2] or "omamori.local"
        return make_msgid(domain=domain)

    def _tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.settings.ca_file:
            ctx.load_verify_locations(str(self.settings.ca_file))
        return ctx

    def send(self, msg: EmailMessage) -> str:
        """Send one message; returns its Message-ID (set here if missing)."""
        s = self.settings
        if not msg["Message-ID"]:
            msg["Message-ID"] = self.new_message_id()
        if not msg["From"]:
            msg["From"] = self.sender()
        if s.reply_to and not msg["Reply-To"]:
            msg["Reply-To"] = s.reply_to
        try:
            cls = smtplib.SMTP_SSL if s.ssl else smtplib.SMTP
            kwargs = {"context": self._tls()} if s.ssl else {}
            with cls(s.host, s.port, timeout=s.timeout, **kwargs) as smtp:
                smtp.ehlo()
                if s.starttls and not s.ssl:
                    if not smtp.has_extn("starttls"):
                        raise PermanentFailure(f"{s.host}:{s.port} does not offer STARTTLS (smtp.starttls = true)")
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password.get_secret_value())
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [c for c, _ in e.recipients.values()]
            detail = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in e.recipients.items())
            raise (TemporaryFailure if all(400 <= c < 500 for c in codes) else PermanentFailure)(detail) from None
        except smtplib.SMTPResponseException as e:
            text = f"{e.smtp_code} {e.smtp_error.decode(errors='replace') if isinstance(e.smtp_error, bytes) else e.smtp_error}"
            raise (TemporaryFailure if 400 <= e.smtp_code < 500 else PermanentFailure)(text) from None
        except (OSError, smtplib.SMTPException) as e:
            raise TemporaryFailure(f"{type(e).__name__}: {e}") from None
        if refused:
            raise PermanentFailure(f"refused recipients: {refused}")
        return str(msg["Message-ID"])

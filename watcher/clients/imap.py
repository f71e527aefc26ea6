"""The IMAP client: one mailbox connection, implicit TLS by default, verified against the configured CA.

Used by the readers of the firm's mailboxes (reports, takedown answers). ``imap.ssl = true`` is
IMAPS (RFC 8314, port 993) with the certificate checked against the system's CAs or ``imap.ca_file``;
plain IMAP is for a local test server only.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from watcher.core.config import Settings


@contextmanager
def mailbox(settings: Settings, folder: str, *, timeout: float = 30.0) -> Iterator[imaplib.IMAP4]:
    """Logged in, ``folder`` selected (read-write); logged out afterwards whatever happens."""
    conf = settings.imap
    if conf.ssl:
        context = ssl.create_default_context(cafile=str(settings.path(conf.ca_file)) if conf.ca_file else None)
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(conf.host, conf.port, ssl_context=context, timeout=timeout)
    else:
        client = imaplib.IMAP4(conf.host, conf.port, timeout=timeout)
    try:
        client.login(conf.username, conf.password.get_secret_value())
        typ, _ = client.select(quote_mailbox(folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"IMAP folder {folder!r} cannot be selected")
        yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def quote_mailbox(name: str) -> str:
    return name if name.replace("/", "").replace(".", "").isalnum() else '"' + name.replace('"', '\\"') + '"'


def unseen(client: imaplib.IMAP4) -> list[bytes]:
    typ, data = client.uid("SEARCH", "UNSEEN")
    return data[0].split() if typ == "OK" and data and data[0] else []


def fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The whole message, without setting \\Seen (set it once what it said is committed)."""
    typ, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) > 1), None)
    return raw if typ == "OK" and isinstance(raw, bytes) else None


def mark_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")

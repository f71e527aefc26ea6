"""The IMAP client (the abuse mailbox, the DMARC mailbox): connected with a socket timeout, and bound
to the job run that uses it.

A socket timeout bounds one read, not a whole answer: a server that sends one byte every few seconds
keeps ``imaplib`` reading forever. So the connection registers an abort with the run
(``ctx.run.aborting``): when the run's deadline passes or the service stops, the socket is shut
down under the blocked read, which then fails at once.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from watcher.core.config import ROOT, ImapSettings
from watcher.core.runcontrol import RunControl

READ_TIMEOUT = 30.0


@contextmanager
def connect(conf: ImapSettings, run: RunControl) -> Iterator[imaplib.IMAP4]:
    """A logged-out-on-exit IMAP connection to ``conf`` that cannot outlive ``run``."""
    run.check()
    timeout = run.remaining(READ_TIMEOUT)
    client: imaplib.IMAP4
    if conf.ssl:
        # The certificate is checked against the system's CAs, or ``imap.ca_file`` (a private CA; the lab's).
        cafile = str(conf.ca_file if conf.ca_file.is_absolute() else ROOT / conf.ca_file) if conf.ca_file else None
        client = imaplib.IMAP4_SSL(conf.host, conf.port, ssl_context=ssl.create_default_context(cafile=cafile),
                                   timeout=timeout)
    else:
        client = imaplib.IMAP4(conf.host, conf.port, timeout=timeout)

    def cut() -> None:
        try:
            client.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    try:
        with run.aborting(cut):
            yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError, ValueError):
            pass


@contextmanager
def mailbox(conf: ImapSettings, run: RunControl, folder: str) -> Iterator[imaplib.IMAP4]:
    """``connect``, log in and select ``folder`` (read-write)."""
    with connect(conf, run) as client:
        client.login(conf.username, conf.password.get_secret_value())
        typ, _ = client.select(quote_mailbox(folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"IMAP folder {folder!r} cannot be selected")
        yield client


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

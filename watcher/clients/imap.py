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

from watcher.core.config import ImapSettings
from watcher.core.runcontrol import RunControl

READ_TIMEOUT = 30.0


@contextmanager
def connect(conf: ImapSettings, run: RunControl) -> Iterator[imaplib.IMAP4]:
    """A logged-out-on-exit IMAP connection to ``conf`` that cannot outlive ``run``."""
    run.check()
    timeout = run.remaining(READ_TIMEOUT)
    client: imaplib.IMAP4
    if conf.ssl:
        client = imaplib.IMAP4_SSL(conf.host, conf.port, ssl_context=ssl.create_default_context(),
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

"""A minimal IMAP4rev1 server (RFC 3501 subset) for the mailbox tests, on 127.0.0.1: plain TCP, or
implicit TLS (IMAPS, RFC 8314) with a lab-CA certificate when given the lab PKI.

Enough for a real client (Python's imaplib): CAPABILITY, LOGIN, SELECT/EXAMINE, SEARCH (ALL, UNSEEN,
SEEN), FETCH (UID, FLAGS, RFC822, BODY[], BODY.PEEK[], RFC822.SIZE), STORE (+/-FLAGS, FLAGS), their
UID forms, NOOP, CLOSE, LOGOUT. One folder tree per server, messages kept in memory with their
flags. Imports nothing from the product; the TCP plumbing is lab.net.TCPService.
"""

from __future__ import annotations

import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

from lab.net import LOOPBACK, OwnedTCPServer, TCPService
from lab.pki import LabPKI

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class StoredMail:
    uid: int
    data: bytes
    flags: set[str] = field(default_factory=set)


def _tokens(line: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(line):
        if m.group(1) is not None:
            out.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        else:
            out.append(m.group(2) or m.group(3))
    return out


def _ranges(spec: str, top: int) -> set[int]:
    """``1:3,5,7:*`` -> {1,2,3,5,7..top}."""
    out: set[int] = set()
    for part in spec.split(","):
        a, _, b = part.partition(":")
        lo = top if a == "*" else int(a)
        hi = lo if not b else (top if b == "*" else int(b))
        lo, hi = min(lo, hi), max(lo, hi)
        out.update(range(lo, hi + 1))
    return out


class _Handler(socketserver.StreamRequestHandler):
    server: OwnedTCPServer
    timeout = 30

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        owner = self.server.owner
        user: str | None = None
        folder: str | None = None
        readonly = False
        self.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] omamori lab IMAP ready")
        while True:
            try:
                raw = self.rfile.readline(65536)
            except OSError:
                return
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            parts = line.split(" ", 2)
            if len(parts) < 2:
                self.send("* BAD empty command")
                continue
            tag, cmd = parts[0], parts[1].upper()
            rest = parts[2] if len(parts) > 2 else ""
            uid_mode = False
            if cmd == "UID":
                uid_mode = True
                cmd, _, rest = rest.partition(" ")
                cmd = cmd.upper()
            owner.commands.append(cmd)
            if cmd == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                self.send(f"{tag} OK CAPABILITY completed")
            elif cmd == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif cmd == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif cmd == "LOGIN":
                args = _tokens(rest)
                if len(args) == 2 and owner.users.get(args[0]) == args[1]:
                    user = args[0]
                    self.send(f"{tag} OK [CAPABILITY IMAP4rev1] LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
            elif user is None:
                self.send(f"{tag} BAD not authenticated")
            elif cmd in ("SELECT", "EXAMINE"):
                args = _tokens(rest)
                name = args[0] if args else ""
                with owner.lock:
                    box = owner.folders.get(name)
                    if box is None:
                        self.send(f"{tag} NO no such mailbox")
                        continue
                    folder, readonly = name, cmd == "EXAMINE"
                    unseen = sum(1 for m in box if "\\Seen" not in m.flags)
                    self.send(f"* {len(box)} EXISTS")
                    self.send("* 0 RECENT")
                    self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                    self.send(f"* OK [UIDVALIDITY {owner.uidvalidity}] UIDs valid")
                    self.send(f"* OK [UIDNEXT {owner.next_uid}] predicted next UID")
                    if unseen:
                        first = next(i for i, m in enumerate(box, 1) if "\\Seen" not in m.flags)
                        self.send(f"* OK [UNSEEN {first}] first unseen")
                self.send(f"{tag} OK [{'READ-ONLY' if readonly else 'READ-WRITE'}] {cmd} completed")
            elif folder is None:
                self.send(f"{tag} BAD no mailbox selected")
            elif cmd == "CLOSE":
                folder = None
                self.send(f"{tag} OK CLOSE completed")
            elif cmd == "SEARCH":
                self._search(tag, owner.folders[folder], rest, uid_mode)
            elif cmd == "FETCH":
                self._fetch(tag, owner.folders[folder], rest, uid_mode, readonly)
            elif cmd == "STORE":
                self._store(tag, owner.folders[folder], rest, uid_mode, readonly)
            else:
                self.send(f"{tag} BAD unknown command {cmd}")

    def _select(self, box: list[StoredMail], spec: str, uid_mode: bool) -> list[tuple[int, StoredMail]]:
        if uid_mode:
            top = box[-1].uid if box else 0
            wanted = _ranges(spec, top)
            return [(i, m) for i, m in enumerate(box, 1) if m.uid in wanted]
        wanted = _ranges(spec, len(box))
        return [(i, m) for i, m in enumerate(box, 1) if i in wanted]

    def _search(self, tag: str, box: list[StoredMail], rest: str, uid_mode: bool) -> None:
        crit = rest.upper().split()
        crit = [c for c in crit if c not in ("CHARSET", "UTF-8", "US-ASCII")]
        with self.server.owner.lock:
            hits = []
            for i, m in enumerate(box, 1):
                seen = "\\Seen" in m.flags
                if ("UNSEEN" in crit and seen) or ("SEEN" in crit and not seen):
                    continue
                hits.append(m.uid if uid_mode else i)
        self.send("* SEARCH" + "".join(f" {h}" for h in hits))
        self.send(f"{tag} OK SEARCH completed")

    def _fetch(self, tag: str, box: list[StoredMail], rest: str, uid_mode: bool, readonly: bool) -> None:
        spec, _, items = rest.partition(" ")
        items_u = items.upper()
        with self.server.owner.lock:
            chosen = self._select(box, spec, uid_mode)
            for seq, m in chosen:
                fields = [f"UID {m.uid}"]
                body: bytes | None = None
                body_key = ""
                if "RFC822.SIZE" in items_u:
                    fields.append(f"RFC822.SIZE {len(m.data)}")
                if "BODY.PEEK[]" in items_u:
                    body, body_key = m.data, "BODY[]"
                elif "BODY[]" in items_u or re.search(r"RFC822(?![.\w])", items_u):
                    body, body_key = m.data, "BODY[]" if "BODY[]" in items_u else "RFC822"
                    if not readonly:
                        m.flags.add("\\Seen")
                if "FLAGS" in items_u:
                    fields.append(f"FLAGS ({' '.join(sorted(m.flags))})")
                head = f"* {seq} FETCH (" + " ".join(fields)
                if body is not None:
                    data = f"{head} {body_key} {{{len(body)}}}\r\n".encode() + body + b")\r\n"
                    if self.server.owner.drip_seconds:
                        self._drip(data)
                    else:
                        self.wfile.write(data)
                else:
                    self.send(head + ")")
        self.send(f"{tag} OK FETCH completed")

    def _drip(self, data: bytes) -> None:
        """The fault of a server that never stops and never finishes: one byte every drip_seconds, so
        no single read ever waits long enough for a socket timeout."""
        owner = self.server.owner
        owner.drip_total += len(data)
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            owner.dripped += 1
            if owner.stopping.wait(owner.drip_seconds):
                return

    def _store(self, tag: str, box: list[StoredMail], rest: str, uid_mode: bool, readonly: bool) -> None:
        if readonly:
            self.send(f"{tag} NO mailbox is read-only")
            return
        spec, _, tail = rest.partition(" ")
        mode, _, flags = tail.partition(" ")
        names = set(flags.strip("() ").split())
        mode_u = mode.upper()
        with self.server.owner.lock:
            for seq, m in self._select(box, spec, uid_mode):
                if mode_u.startswith("+FLAGS"):
                    m.flags |= names
                elif mode_u.startswith("-FLAGS"):
                    m.flags -= names
                else:
                    m.flags = set(names)
                if ".SILENT" not in mode_u:
                    self.send(f"* {seq} FETCH (UID {m.uid} FLAGS ({' '.join(sorted(m.flags))}))")
        self.send(f"{tag} OK STORE completed")



class _TLSServer(OwnedTCPServer):
    """Implicit TLS: every accepted connection is wrapped before the greeting (the handshake runs in
    the connection's own thread, so a slow client holds up nobody)."""

    context: ssl.SSLContext

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):  # a client that does not speak TLS: drop it
            return
        super().finish_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        request.close()


class LabIMAP(TCPService):
    """IMAP4rev1 on 127.0.0.1 (`host`, `port`); `add_message()` puts mail in a folder at run time.

    With `pki`, the server speaks implicit TLS (IMAPS) with a lab-CA certificate for
    `imap.lab.test`, `localhost` and the address (clients trust `pki.ca_file`)."""

    handler_class = _Handler
    thread_name = "lab-imap"

    def __init__(self, host: str = LOOPBACK, port: int = 0, users: dict[str, str] | None = None,
                 pki: LabPKI | None = None) -> None:
        super().__init__(host, port)
        self.pki = pki
        self.tls = pki is not None
        self.users = dict(users or {"abuse@hoshizora-sec.co.jp": "lab-password"})
        self.folders: dict[str, list[StoredMail]] = {"INBOX": []}
        self.uidvalidity = 1
        self.next_uid = 1
        self.lock = threading.RLock()
        self.commands: list[str] = []
        self.drip_seconds = 0.0  # > 0: FETCH answers trickle out one byte at a time (a fault to survive)
        self.dripped = 0  # bytes trickled out so far, of drip_total asked for
        self.drip_total = 0
        self.stopping = threading.Event()

    def _make_server(self) -> OwnedTCPServer:
        if self.pki is None:
            return super()._make_server()
        server = _TLSServer((self.host, self._requested_port), self.handler_class)
        server.owner = self
        server.context = self.pki.tls_context_for("imap.lab.test", ("localhost", self.host))
        return server

    @property
    def ca_file(self) -> str:
        return self.pki.ca_file if self.pki is not None else ""

    def add_message(self, data: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.folders.setdefault(folder, []).append(StoredMail(uid, data, set(flags)))
            return uid

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        with self.lock:
            return next(set(m.flags) for m in self.folders[folder] if m.uid == uid)


def _selftest() -> None:  # `python -m lab.imap`: a quick look with imaplib
    import imaplib

    with LabIMAP() as srv:
        srv.add_message(b"Subject: hi\r\n\r\nhttp://example.test/\r\n")
        c = imaplib.IMAP4(srv.host, srv.port)
        c.login("abuse@hoshizora-sec.co.jp", "lab-password")
        c.select("INBOX")
        print(c.uid("SEARCH", "UNSEEN"), c.uid("FETCH", "1", "(BODY.PEEK[])"))
        c.logout()


if __name__ == "__main__":
    _selftest()

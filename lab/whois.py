"""A port-43 style WHOIS server for TLDs without RDAP (`.jp`, like JPRS), answering in JPRS layout (UTF-8)."""

from __future__ import annotations

import datetime as dt
import socketserver
from dataclasses import dataclass, field

from lab.net import LOOPBACK, OwnedTCPServer, TCPService

_BANNER = """[ JPRS database provides information on network administration. Its use is    ]
[ restricted to network administration purposes. For further information,     ]
[ use 'whois -h whois.jprs.jp help'. To suppress Japanese output, add'/e'     ]
[ at the end of command, e.g. 'whois -h whois.jprs.jp xxx/e'.                 ]
[ (omamori lab: fictional data)                                                ]
"""


@dataclass
class WhoisRecord:
    name: str
    registrant: str
    created: dt.date
    expires: dt.date
    status: str = "Active"
    nameservers: list[str] = field(default_factory=lambda: ["ns1.lab-dns.test", "ns2.lab-dns.test"])
    updated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    registrar: str = ""


def _jst(t: dt.datetime) -> str:
    return (t.astimezone(dt.timezone(dt.timedelta(hours=9)))).strftime("%Y/%m/%d %H:%M:%S (JST)")


def render(rec: WhoisRecord | None, english: bool = False) -> str:
    if rec is None:
        return _BANNER + "\nNo match!!\n"
    pad = 32
    ns = "".join(f"{'[Name Server]' if english else '[ネームサーバ]':<{pad}}{n}\n" for n in rec.nameservers)
    if english:
        return (_BANNER + "\nDomain Information:\n"
                f"{'[Domain Name]':<{pad}}{rec.name.upper()}\n\n"
                f"{'[Registrant]':<{pad}}{rec.registrant}\n\n{ns}{'[Signing Key]':<{pad}}\n\n"
                f"{'[Created on]':<{pad}}{rec.created:%Y/%m/%d}\n{'[Expires on]':<{pad}}{rec.expires:%Y/%m/%d}\n"
                f"{'[Status]':<{pad}}{rec.status}\n{'[Last Updated]':<{pad}}{_jst(rec.updated)}\n")
    # Full-width brackets count double on a terminal; JPRS pads to the same visual column.
    def key(label: str) -> str:
        width = sum(2 if ord(c) > 0x7F else 1 for c in label)
        return label + " " * max(1, pad - width)

    ns = "".join(f"{key('[ネームサーバ]')}{n}\n" for n in rec.nameservers)
    return (_BANNER + "\nDomain Information: [ドメイン情報]\n"
            f"{key('[Domain Name]')}{rec.name.upper()}\n{key('[ドメイン名]')}{rec.name.upper()}\n\n"
            f"{key('[登録者名]')}{rec.registrant}\n{key('[Registrant]')}{rec.registrant}\n\n"
            f"{ns}{key('[Signing Key]')}\n\n"
            f"{key('[登録年月日]')}{rec.created:%Y/%m/%d}\n{key('[有効期限]')}{rec.expires:%Y/%m/%d}\n"
            f"{key('[状態]')}{rec.status}\n{key('[最終更新]')}{_jst(rec.updated)}\n\nContact Information: [公開連絡窓口]\n"
            f"{key('[名前]')}{rec.registrar or rec.registrant}\n{key('[Email]')}hostmaster@{rec.name}\n")


class _Handler(socketserver.StreamRequestHandler):
    server: OwnedTCPServer
    timeout = 10

    def handle(self) -> None:
        try:
            line = self.rfile.readline(1024).decode("utf-8", "replace").strip()
        except OSError:
            return
        english = line.endswith("/e")
        name = line.removesuffix("/e").strip().lower().rstrip(".")
        self.server.owner.queries += 1
        rec = self.server.owner.records.get(name)
        self.wfile.write(render(rec, english).replace("\n", "\r\n").encode("utf-8"))



class LabWhois(TCPService):
    """Port-43 WHOIS on a free port (`host`, `port`); `set_domain()` / `delete_domain()` at run time."""

    handler_class = _Handler
    thread_name = "whois"

    def __init__(self, host: str = LOOPBACK, port: int = 0, tlds: tuple[str, ...] = ("jp",)) -> None:
        super().__init__(host, port)
        self.tlds = tlds
        self.records: dict[str, WhoisRecord] = {}
        self.queries = 0

    def set_domain(self, name: str, registrant: str = "Lab Registrant", created: dt.date | None = None,
                   expires: dt.date | None = None, status: str = "Active", nameservers: list[str] | None = None,
                   registrar: str = "") -> WhoisRecord:
        today = dt.datetime.now(dt.UTC).date()
        created = created.date() if isinstance(created, dt.datetime) else created
        expires = expires.date() if isinstance(expires, dt.datetime) else expires
        rec = WhoisRecord(name.lower().rstrip("."), registrant, created or today - dt.timedelta(days=3),
                          expires or (created or today) + dt.timedelta(days=365), status,
                          list(nameservers or ["ns1.lab-dns.test", "ns2.lab-dns.test"]), registrar=registrar)
        self.records[rec.name] = rec
        return rec

    def delete_domain(self, name: str) -> None:
        self.records.pop(name.lower().rstrip("."), None)

    def set_status(self, name: str, status: str) -> None:
        rec = self.records.get(name.lower().rstrip("."))
        if rec:
            rec.status = status
            rec.updated = dt.datetime.now(dt.UTC)


def query(name: str, port: int, host: str = LOOPBACK, timeout: float = 3.0) -> str:
    """A plain port-43 client (what `whois -h HOST -p PORT NAME` does)."""
    import socket

    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(name.encode() + b"\r\n")
        chunks = []
        while data := s.recv(4096):
            chunks.append(data)
    return b"".join(chunks).decode("utf-8")

"""Report files as reporters really send them: xml, json, gzip, zip, mail — tolerant, and still safe.

Mail receivers send DMARC aggregate reports (RFC 7489/9990), failure reports (RFC 6591) and SMTP TLS
reports (RFC 8460) in many shapes. parsedmarc reads them all; so do we, with every forgiveness
recorded as a *defect* of the report (kept with it, shown, never hidden):

- a gzip stream followed by stray bytes (one large reporter appends CRLF): the members are read and
  the rest is a defect;
- several gzip members one after the other: all are read (RFC 1952 allows it);
- a zip with the report inside, a zip inside a zip (one level), a bare XML or JSON file.

What stays refused, with the reason recorded (``Refused``): anything larger than the caps (input,
decompressed size, compression ratio — zip bombs), deeper nesting, too many members, and what is
none of the formats.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

MAX_INPUT_BYTES = 10 * 1024 * 1024  # one file or message as received
MAX_XML_BYTES = 20 * 1024 * 1024  # one report, decompressed (the largest real ones are a few MB)
MAX_RATIO = 100  # decompressed / compressed; real reports compress 10-30x, bombs 1000x+
RATIO_FLOOR = 1024 * 1024  # small files may compress extremely well; judge the ratio above this size
MAX_MEMBERS = 5
MAX_GZIP_MEMBERS = 20
REPORT_TYPES = ("application/zip", "application/gzip", "application/x-gzip", "text/xml", "application/xml",
                "application/x-zip-compressed", "application/json", "application/tlsrpt+json",
                "application/tlsrpt+gzip", "application/octet-stream")


class Refused(ValueError):
    """An input we will not read, with the reason."""


@dataclass
class Document:
    """One report document found in an input: XML or JSON bytes, and what had to be forgiven."""

    data: bytes
    defects: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        head = self.data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        return "json" if head in (b"{", b"[") else "xml"


def _cap(total: int, compressed: int) -> None:
    if total > MAX_XML_BYTES:
        raise Refused(f"decompresses to more than {MAX_XML_BYTES} bytes (zip bomb?)")
    if total > RATIO_FLOOR and total > MAX_RATIO * max(compressed, 1):
        raise Refused(f"compression ratio above {MAX_RATIO}:1 (zip bomb?)")


def _read_capped(stream: Any, compressed_size: int) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = stream.read(64 * 1024)
        if not chunk:
            break
        total += len(chunk)
        _cap(total, compressed_size)
        chunks.append(chunk)
    return b"".join(chunks)


def gunzip(data: bytes) -> tuple[bytes, list[str]]:
    """Every gzip member of ``data``; bytes after the last member are a defect, not a refusal."""
    out: list[bytes] = []
    total = 0
    defects: list[str] = []
    rest = data
    members = 0
    step = 64 * 1024
    while rest[:2] == b"\x1f\x8b":
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise Refused(f"gzip with more than {MAX_GZIP_MEMBERS} members")
        d = zlib.decompressobj(wbits=31)
        pending = rest
        try:
            while not d.eof:
                # Output is taken in bounded steps, so a bomb is stopped before it is inflated.
                if d.unconsumed_tail:
                    feed = d.unconsumed_tail
                elif pending:
                    feed, pending = pending[:step], pending[step:]
                else:
                    break
                piece = d.decompress(feed, step)
                total += len(piece)
                _cap(total, len(data))
                out.append(piece)
        except zlib.error as e:
            if members > 1:
                defects.append(f"a damaged gzip member after a complete one was ignored ({e})")
                rest = b""
                break
            raise Refused(f"bad gzip: {e}") from None
        if not d.eof:
            if members > 1:
                defects.append("a truncated gzip member after a complete one was ignored")
                rest = b""
                break
            raise Refused("bad gzip: truncated stream")
        rest = d.unused_data + pending
    if members > 1:
        defects.append(f"{members} gzip members concatenated")
    if rest.strip(b"\x00"):
        defects.append(f"{len(rest)} stray byte(s) after the gzip stream were ignored")
    return b"".join(out), defects


def unpack(data: bytes, depth: int = 0) -> list[Document]:
    """The report documents inside a report file (xml, json, gzip, zip). Raises Refused."""
    if len(data) > MAX_INPUT_BYTES:
        raise Refused(f"larger than {MAX_INPUT_BYTES} bytes")
    if depth > 1:
        raise Refused("nested archives")
    if data[:4] == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) > MAX_MEMBERS:
                raise Refused(f"zip with {len(members)} members")
            out = []
            for info in members:
                with zf.open(info) as f:
                    out.extend(_member(_read_capped(f, info.compress_size), depth, []))
            return out
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as e:
            raise Refused(f"bad zip: {e}") from None
    if data[:2] == b"\x1f\x8b":
        inner, defects = gunzip(data)
        return _member(inner, depth, defects)
    return _member(data, depth, [])


def _member(data: bytes, depth: int, defects: list[str]) -> list[Document]:
    if data[:4] == b"PK\x03\x04" or data[:2] == b"\x1f\x8b":
        docs = unpack(data, depth + 1)
        for d in docs:
            d.defects[:0] = defects
        return docs
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head not in (b"<", b"{", b"["):
        raise Refused("not XML or JSON")
    return [Document(data, list(defects))]


# --- mail --------------------------------------------------------------------------------------


def message(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)


def is_failure_report(msg: Message) -> bool:
    """A DMARC failure (forensic) report: ARF, RFC 5965 / RFC 6591 (``message/feedback-report``)."""
    if msg.get_content_type() == "multipart/report" and \
            str(msg.get_param("report-type", "") or "").lower() == "feedback-report":
        return True
    return any(p.get_content_type() == "message/feedback-report" for p in msg.walk())


def attachments(msg: Message) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each report attachment of a report mail (or the body if it is the report)."""
    out = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = part.get_filename() or ""
        if name or ctype in REPORT_TYPES:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append((name or ctype, payload))
    return out


def from_email(raw: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each attachment of a report mail (or the body if it is the report)."""
    return attachments(message(raw))

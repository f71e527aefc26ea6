"""A small DER reader: the few ASN.1 structures the mail checks need that ``cryptography`` does not
parse (the RFC 3709 logotype extension of a mark certificate, CMS SignedData of an S/MIME signature).

Hostile input is normal here (a certificate or a signature from anywhere): every length is checked
against the buffer, nesting is bounded, and anything malformed raises ``DerError`` (a ValueError).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MAX_DEPTH = 40

# Universal tags used by the callers.
INTEGER, OCTET_STRING, NULL, OID, UTF8STRING = 0x02, 0x04, 0x05, 0x06, 0x0C
SEQUENCE, SET = 0x30, 0x31
PRINTABLESTRING, IA5STRING, UTCTIME, GENERALIZEDTIME = 0x13, 0x16, 0x17, 0x18


class DerError(ValueError):
    """The bytes are not the DER structure they claim to be."""


@dataclass(frozen=True)
class Node:
    """One TLV inside ``buf``: ``tag`` (the identifier octet), the content at ``[start, end)``."""

    buf: bytes
    tag: int
    offset: int  # where the TLV begins
    start: int  # where the content begins
    end: int  # where the content ends
    depth: int = 0

    @property
    def content(self) -> bytes:
        return self.buf[self.start:self.end]

    @property
    def raw(self) -> bytes:
        """The whole TLV, as encoded (what a signature over a structure covers)."""
        return self.buf[self.offset:self.end]

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    @property
    def context(self) -> int | None:
        """The number of a context-specific tag ``[n]``, else None."""
        return self.tag & 0x1F if self.tag & 0xC0 == 0x80 else None

    def children(self) -> list[Node]:
        if not self.constructed:
            raise DerError(f"tag 0x{self.tag:02x} is primitive, it has no children")
        return list(_iter(self.buf, self.start, self.end, self.depth + 1))

    def child(self, index: int) -> Node:
        kids = self.children()
        if index >= len(kids):
            raise DerError(f"expected at least {index + 1} elements inside tag 0x{self.tag:02x}")
        return kids[index]

    def expect(self, tag: int) -> Node:
        if self.tag != tag:
            raise DerError(f"expected tag 0x{tag:02x}, found 0x{self.tag:02x}")
        return self

    def oid(self) -> str:
        """The dotted string of an OBJECT IDENTIFIER."""
        self.expect(OID)
        data = self.content
        if not data:
            raise DerError("empty OBJECT IDENTIFIER")
        parts: list[int] = []
        value = 0
        for b in data:
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                parts.append(value)
                value = 0
        if data[-1] & 0x80:
            raise DerError("truncated OBJECT IDENTIFIER")
        first = parts[0]
        head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
        return ".".join(str(p) for p in (*head, *parts[1:]))

    def text(self) -> str:
        """A string type's value (IA5, Printable, UTF8)."""
        if self.tag not in (IA5STRING, PRINTABLESTRING, UTF8STRING):
            raise DerError(f"tag 0x{self.tag:02x} is not a string")
        return self.content.decode("utf-8" if self.tag == UTF8STRING else "ascii", "strict")

    def integer(self) -> int:
        self.expect(INTEGER)
        return int.from_bytes(self.content, "big", signed=True)


def _header(buf: bytes, pos: int, limit: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``pos``."""
    if pos + 2 > limit:
        raise DerError("truncated header")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used by these structures")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4:
            raise DerError("indefinite or oversized length")
        if pos + n > limit:
            raise DerError("truncated length")
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + length > limit:
        raise DerError("length runs past the end of the data")
    return tag, pos, pos + length


def _iter(buf: bytes, start: int, end: int, depth: int) -> Iterator[Node]:
    if depth > MAX_DEPTH:
        raise DerError("nested too deeply")
    pos = start
    while pos < end:
        tag, cstart, cend = _header(buf, pos, end)
        yield Node(buf, tag, pos, cstart, cend, depth)
        pos = cend


def parse(data: bytes) -> Node:
    """The single TLV that ``data`` holds (trailing bytes are an error)."""
    tag, start, end = _header(data, 0, len(data))
    if end != len(data):
        raise DerError(f"{len(data) - end} trailing byte(s) after the structure")
    return Node(data, tag, 0, start, end, 0)

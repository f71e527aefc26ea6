"""Reading text that comes from outside: a size cap, the encoding found or refused, lines bounded.

Every input command (``match``, ``intake feed``, ``lint-messages``) reads through here, so that a link
to /dev/zero cannot grow memory, a UTF-16 template is not read as clean ASCII noise, and one
monstrous line is reported as that line instead of taking the whole input with it. Errors are
``InputRefused``, already phrased as the one line a person sees (what, which file, how to fix).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 131_072  # Python's csv field limit: a longer line is refused on its own

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class InputRefused(ValueError):
    """Input that cannot be read as text: the message names it and says what to do."""


def read_capped(stream: BinaryIO, what: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """At most ``limit`` bytes of ``stream``; more than that is refused (never read into memory)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputRefused(f"{what}: larger than {limit:,} bytes; split it, or raise the limit (--max-bytes)")
    return data


def read_file(path: str, what: str | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    with open(path, "rb") as fh:
        return read_capped(fh, what or path, limit)


def sniff(data: bytes) -> str | None:
    """The encoding a byte-order mark or NUL pattern shows (``utf-16-le``...), or None for "no mark"."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    if len(head) >= 4 and b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > len(odd) * 0.6 and even.count(0) < len(even) * 0.1:
            return "utf-16-le"
        if even.count(0) > len(even) * 0.6 and odd.count(0) < len(odd) * 0.1:
            return "utf-16-be"
        return "binary"
    return None


def decode(data: bytes, what: str, *, legacy: tuple[str, ...] = ("cp932",)) -> tuple[str, str]:
    """(text, encoding) of a text file: a BOM or UTF-16 pattern is honoured, then UTF-8, then the
    ``legacy`` encodings (Shift_JIS templates are common in Japan). Binary data is refused."""
    found = sniff(data)
    if found == "binary":
        raise InputRefused(f"{what}: binary data (NUL bytes), not text; give a text, HTML or .eml file")
    if found is not None:
        try:
            return data.decode(found), found
        except UnicodeDecodeError as e:
            raise InputRefused(f"{what}: looks like {found} but does not decode ({e.reason} at byte {e.start}); "
                               f"save it as UTF-8") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for enc in legacy:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), "utf-8 (with invalid bytes replaced)"


def bounded_lines(stream: BinaryIO, max_chars: int = MAX_LINE_CHARS) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its end) for each line of a byte stream; a line longer than
    ``max_chars`` bytes comes as ``None`` and is skipped in bounded chunks, never held whole."""
    n = 0
    while True:
        line = stream.readline(max_chars + 1)
        if not line:
            return
        n += 1
        if len(line) > max_chars and not line.endswith(b"\n"):
            while True:  # the rest of the over-long line, thrown away chunk by chunk
                rest = stream.readline(1 << 16)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, line.rstrip(b"\r\n")

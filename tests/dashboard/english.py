"""Finds English left in a Japanese page or letter: what a person reads must be in one language.

What is not language is taken out first: quoted material, URLs, commands and options as typed, e-mail addresses, domain names, hashes, numbers,
identifiers (snake_case, kebab-case, dotted event names), and the technical terms a Japanese analyst
reads as they are (DNS, DMARC, pHash...). What remains and is an English word of three letters or
more, in lower case as words in a sentence are, is reported with its context.
"""

from __future__ import annotations

import re

# Terms that stay in Latin letters in Japanese security writing (a Japanese RFC or JPCERT note uses them).
_TERMS = """
dns rdap whois spf dkim dmarc bimi mta sts tls rpt tlsrpt http https html css csv json pdf png ico url ip asn cname
mx ns txt ssdeep tlsh phash dhash sha utc jst api ct sct sth id smtp imap pop ssl ca cdn cert csirt misp stix
x-arf xarf punycode idn unicode ascii ok ng omamori certstream streamlit reject quarantine none pct rua ruf
p=none p=reject p=quarantine cleartext hold clienthold serverhold nxdomain servfail eml zip dnssec ds
post get www sns sms url_path login web jpcert cc apwg isac s3 aws azure gcp
"""
TERMS = frozenset(_TERMS.split())
_STRIP = [
    # Quoted material is data, not our sentence: a brand keyword ('hoshizora'), the page's own words
    # quoted as evidence (「This domain may be for sale」).
    re.compile(r"「[^」]*」|'[^'\n]{1,80}'"),
    re.compile(r"https?\\?://\S+|hxxps?://\S+"),  # URLs (defanged, or escaped for Markdown, too)
    re.compile(r"`[^`\n]*`"),  # a command as the reader types it (`omamori candidates list --scope all`)
    re.compile(r"(?<![\w-])--[a-z][\w-]*"),  # an option of a command (--limit)
    re.compile(r"\b[A-Z]\w*(?:Error|Exception): [^\n]*"),  # an exception as raised (a job's error, as recorded)
    re.compile(r"\b(?:image|text|application|audio|video|multipart|message)/[\w.+-]+"),  # media types
    re.compile(r"(?<![\w/])/[\w./%?=&-]+"),  # URL paths (/hoshizora/login.php)
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\b(?:[\w-]+\.)+(?:[a-z]{2,}|xn--[\w-]+)\b", re.I),  # domain names, dotted identifiers
    re.compile(r"(?<![\w-])\.[a-z]{2,}\b", re.I),  # a top-level domain with its dot (".top")
    re.compile(r"\b[0-9a-f]{8,}\b", re.I),  # hashes
    re.compile(r"\b[a-z]+(?:-[a-z0-9]+)+\b", re.I),  # kebab-case (fuzzer names, headers)
    re.compile(r"\b\w*[_0-9]\w*\b"),  # identifiers with _ or digits (job names, ids)
]
_WORD = re.compile(r"\b[a-z][a-z']{2,}\b")


def english_words(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Every English word left in ``text`` (with a little context), after data is taken out."""
    t = text
    for rx in _STRIP:
        t = rx.sub(" ", t)
    found = []
    for m in _WORD.finditer(t):
        w = m.group(0)
        if w in TERMS or w in allowed:
            continue
        found.append(f"{w} «{t[max(0, m.start() - 30): m.end() + 30]}»".replace("\n", " "))
    return found

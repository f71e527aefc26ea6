"""Property-based tests (hypothesis) for every parser of outside input: whatever bytes arrive, only
the documented error type comes out, in bounded time (each example has a deadline) and bounded
memory (tracemalloc on the largest inputs).

| parser | outside input | may raise |
|---|---|---|
| ct.entries.parse_leaf / parse_tile / names | CT log entries and data tiles | EntryError |
| ct.entries.lenient_dns_names, details | certificate DER | nothing (None / facts) |
| ct.rfc6962._entry | one get-entries JSON item | VerificationError (no leaf) |
| ct.static.parse_checkpoint | a static-ct-api checkpoint | VerificationError |
| clients.whois.parse | WHOIS text | nothing |
| clients.rdap.parse_domain / parse_network | RDAP JSON | nothing |
| owned.dmarc.parse_report / unpack | DMARC XML, zip, gzip | dmarc.Refused |
| discovery.mailparse.parse_message | MIME mail | nothing |
| discovery.intake.feed_rows | feed CSV / JSON lines / text | nothing (bad rows carry `error`) |
| core.brands.load_brands, core.config.load_settings | brand and config files | ConfigError |
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.ct.test_hostile_entries import CORPUS, der_of
from watcher.clients import rdap, whois
from watcher.core.brands import load_brands
from watcher.core.config import ConfigError, load_settings
from watcher.discovery.ct.entries import (
    Entry,
    EntryError,
    details,
    lenient_dns_names,
    names,
    parse_leaf,
    parse_tile,
)
from watcher.discovery.ct.merkle import VerificationError
from watcher.discovery.ct.rfc6962 import _entry
from watcher.discovery.ct.static import parse_checkpoint
from watcher.discovery.intake import feed_rows
from watcher.discovery.mailparse import parse_message
from watcher.owned import dmarc

FAST = settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
REAL_DER = [der_of(p) for p in sorted(CORPUS.iterdir()) if p.suffix in (".pem", ".der")]


def bounded_memory(fn: Callable[[], Any], limit_mb: float) -> float:
    """Run ``fn``; its traced peak allocation (MB) must stay under ``limit_mb``. Returns the peak."""
    tracemalloc.start()
    try:
        try:
            fn()
        except dmarc.Refused:  # a documented refusal is an answer too
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    return peak / 1e6


# ---------------------------------------------------------------- CT

@st.composite
def mutated_der(draw: st.DrawFn) -> bytes:
    """A real certificate with bytes flipped, cut or inserted: the nearest thing to a hostile CA."""
    der = bytearray(draw(st.sampled_from(REAL_DER)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(der) - 1)))
        if op == "flip" and der:
            der[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del der[at:at + draw(st.integers(1, 64))]
        else:
            der[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(der)


@pytest.mark.reliability(
    "CT entry certificate: real certificates with bytes flipped, cut or inserted, and random bytes",
    "only EntryError (the entry is recorded as bad); the lenient SAN reader and the facts never raise",
    area="parsers (property-based, hypothesis)",
)
def test_certificate_bytes_raise_only_entry_error(observe) -> None:
    examples = []

    @FAST
    @given(st.one_of(mutated_der(), st.binary(max_size=2048)))
    def prop(der: bytes) -> None:
        examples.append(1)
        e = Entry(7, 0, False, der)
        try:
            assert all(isinstance(n, str) for n in names(e))
        except EntryError as err:
            assert err.index == 7
        found = lenient_dns_names(der)
        assert found is None or all(isinstance(n, str) and n.isascii() for n in found)
        facts = details(e)
        json.dumps(facts)

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but EntryError")


def _u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


@st.composite
def leaves(draw: st.DrawFn) -> tuple[bytes, bytes]:
    der = draw(st.one_of(mutated_der(), st.binary(max_size=300)))
    etype = draw(st.sampled_from([0, 1, 2, 65535]))
    ts = draw(st.integers(0, 2**64 - 1)).to_bytes(8, "big")
    body = _u24(len(der)) + der if etype != 1 else b"\x00" * 32 + _u24(len(der)) + der
    ext = draw(st.binary(max_size=10))
    leaf = b"\x00\x00" + ts + etype.to_bytes(2, "big") + body + len(ext).to_bytes(2, "big") + ext
    if draw(st.booleans()):
        leaf = draw(st.binary(max_size=64)) + leaf[draw(st.integers(0, len(leaf))):]
    extra = _u24(len(der)) + der if draw(st.booleans()) else draw(st.binary(max_size=40))
    return leaf, extra


@pytest.mark.reliability(
    "CT entry: RFC 6962 MerkleTreeLeaf + extra_data built from mutated certificates, wrong types, cut and prefixed",
    "only EntryError",
    area="parsers (property-based, hypothesis)",
)
def test_log_leaves_raise_only_entry_error(observe) -> None:
    examples = []

    @FAST
    @given(leaves(), st.integers(0, 2**40))
    def prop(leaf_extra: tuple[bytes, bytes], index: int) -> None:
        examples.append(1)
        leaf, extra = leaf_extra
        try:
            e = parse_leaf(index, leaf, extra)
        except EntryError:
            return
        try:
            names(e)
        except EntryError:
            pass

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but EntryError")


@pytest.mark.reliability(
    "CT get-entries item: any JSON value in place of {leaf_input, extra_data}",
    "an entry, a bad entry, or VerificationError when there is no leaf to hash",
    area="parsers (property-based, hypothesis)",
)
def test_get_entries_items_give_an_entry_a_bad_entry_or_a_verification_error(observe) -> None:
    examples = []

    @FAST
    @given(st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.sampled_from(["leaf_input", "extra_data", "x"]),
                                     st.one_of(st.text(max_size=40), st.integers(), st.none(),
                                               st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())))))
    def prop(item: Any) -> None:
        examples.append(1)
        try:
            out = _entry(3, item)
        except VerificationError:
            return
        assert out.index == 3 and len(out.leaf_hash) == 32

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but VerificationError")


@pytest.mark.reliability(
    "CT static-ct-api data tile: random bytes of any width",
    "only EntryError",
    area="parsers (property-based, hypothesis)",
)
def test_data_tiles_raise_only_entry_error(observe) -> None:
    examples = []

    @FAST
    @given(st.binary(max_size=4096), st.integers(1, 256))
    def prop(data: bytes, width: int) -> None:
        examples.append(1)
        try:
            out = parse_tile(data, 0, width, want_hash=True)
        except EntryError:
            return
        assert len(out) == width

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but EntryError")


@pytest.mark.reliability(
    "CT static-ct-api checkpoint: any text",
    "only VerificationError",
    area="parsers (property-based, hypothesis)",
)
def test_checkpoints_raise_only_verification_error(observe) -> None:
    examples = []

    @FAST
    @given(st.text(max_size=400), st.text(max_size=40))
    @example("origin\n5\nAAAA\n\n\u2014 origin AAAAAAAAAAAAAAAA\n", "origin")
    def prop(text: str, origin: str) -> None:
        examples.append(1)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        try:
            parse_checkpoint(text, origin, key)
        except VerificationError:
            pass

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but VerificationError")


# ---------------------------------------------------------------- WHOIS, RDAP

WHOIS_KEYS = ["Domain Name", "Registrar", "Registrar IANA ID", "Creation Date", "Registry Expiry Date",
              "Updated Date", "Domain Status", "Name Server", "DNSSEC", "Registrar Abuse Contact Email",
              "[ドメイン名]", "[状態]", "[有効期限]", "[登録年月日]", "[ネームサーバ]", "No match for", "%", ">>>"]


@pytest.mark.reliability(
    "WHOIS text: ICANN and JPRS labels with any values, and noise",
    "a Registration, never an exception",
    area="parsers (property-based, hypothesis)",
)
def test_whois_text_never_raises(observe) -> None:
    examples = []

    @FAST
    @given(st.lists(st.tuples(st.sampled_from(WHOIS_KEYS), st.text(max_size=60)), max_size=30), st.text(max_size=200))
    def prop(lines: list[tuple[str, str]], noise: str) -> None:
        examples.append(1)
        text = "\n".join(f"{k}: {v}" if not k.startswith("[") else f"{k} {v}" for k, v in lines) + "\n" + noise
        reg = whois.parse(text, "example.jp", "whois.example")
        assert reg.name == "example.jp"

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception")


RDAP_KEYS = ["ldhName", "unicodeName", "events", "eventAction", "eventDate", "entities", "roles", "vcardArray",
             "status", "nameservers", "secureDNS", "delegationSigned", "startAddress", "endAddress", "name",
             "handle", "country", "cidr0_cidrs", "v4prefix", "length", "port43", "remarks", "links"]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
              st.sampled_from(["registration", "expiration", "abuse", "registrar", "vcard", "email",
                               "2026-11-29T00:00:00Z", "client transfer prohibited", "fn", "tel"])),
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.sampled_from(RDAP_KEYS), children, max_size=6)),
    max_leaves=40)


@pytest.mark.reliability(
    "RDAP JSON: any nesting of RDAP keys and values",
    "a Registration / Network, never an exception",
    area="parsers (property-based, hypothesis)",
)
def test_rdap_json_never_raises(observe) -> None:
    examples = []

    @FAST
    @given(json_values)
    def prop(data: Any) -> None:
        examples.append(1)
        reg = rdap.parse_domain(data, "example.com")
        net = rdap.parse_network(data, "192.0.2.1")
        json.dumps(reg.as_dict(), default=str)
        json.dumps(net.as_dict(), default=str)

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception")


# ---------------------------------------------------------------- DMARC

DMARC_TAGS = ["feedback", "report_metadata", "org_name", "report_id", "date_range", "begin", "end",
              "policy_published", "domain", "p", "record", "row", "source_ip", "count", "policy_evaluated",
              "disposition", "dkim", "spf", "identifiers", "header_from", "auth_results", "result"]


@st.composite
def xml_docs(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(DMARC_TAGS))
    if depth > 3 or draw(st.booleans()):
        body = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
        body = body.replace("&", "&amp;").replace("<", "&lt;")
    else:
        body = "".join(draw(st.lists(xml_docs(depth + 1), max_size=4)))
    return f"<{tag}>{body}</{tag}>"


@pytest.mark.reliability(
    "DMARC report XML: random documents of DMARC tags, random bytes, an entity declaration",
    "only dmarc.Refused",
    area="parsers (property-based, hypothesis)",
)
def test_dmarc_xml_raises_only_refused(observe) -> None:
    examples = []

    @FAST
    @given(st.one_of(xml_docs(), st.binary(max_size=500).map(lambda b: b.decode("latin-1")),
                     st.just('<!DOCTYPE x [<!ENTITY a "aaaa">]><feedback>&a;</feedback>')))
    def prop(doc: str) -> None:
        examples.append(1)
        try:
            dmarc.parse_report(doc.encode("utf-8", "surrogatepass"))
        except dmarc.Refused:
            pass

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but Refused")


@pytest.mark.reliability(
    "DMARC report archives: random bytes raw, gzip-truncated, zipped",
    "only dmarc.Refused",
    area="parsers (property-based, hypothesis)",
)
def test_dmarc_archives_raise_only_refused(observe) -> None:
    examples = []

    @FAST
    @given(st.binary(max_size=600), st.sampled_from(["raw", "gzip", "zip"]))
    def prop(data: bytes, kind: str) -> None:
        examples.append(1)
        if kind == "gzip":
            data = gzip.compress(data)[: len(data) + 10]
        elif kind == "zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("report.xml", data)
            data = buf.getvalue()
        try:
            for member in dmarc.unpack(data):
                try:
                    dmarc.parse_report(member)
                except dmarc.Refused:
                    pass
        except dmarc.Refused:
            pass

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception but Refused")


# ---------------------------------------------------------------- MIME, feeds

HEADERS = ["Subject", "From", "To", "Content-Type", "Content-Transfer-Encoding", "MIME-Version", "Date",
           "Message-ID", "Content-Disposition"]
CTYPES = ["text/plain; charset=utf-8", "text/html; charset=iso-2022-jp", "text/plain; charset=x-unknown",
          'multipart/mixed; boundary="b"', "message/rfc822", "application/octet-stream", "text/plain; charset=shift_jis"]


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADERS),
                                      st.one_of(st.sampled_from([*CTYPES, "base64", "quoted-printable"]),
                                                st.text(max_size=40))), max_size=8))
    body = draw(st.one_of(st.text(max_size=300), st.sampled_from([
        "--b\nContent-Type: text/html\n\n<a href='hxxps://x[.]top/login'>x</a>\n--b--",
        "=E3=81=93\nhttps://hoshizora-sec-login.top/", "aHR0cHM6Ly9oemFlYy50b3Av\n", "--b\n\n--b\n--b--"])))
    head = "".join(f"{k}: {v}\n".replace("\r", "") for k, v in headers)
    return (head + "\n" + body).encode("utf-8", "surrogatepass") + draw(st.binary(max_size=40))


@pytest.mark.reliability(
    "reported mail (MIME): random headers, charsets, encodings, multipart bodies, random bytes",
    "parsed as far as possible with its errors listed, never an exception, at most 500 URLs",
    area="parsers (property-based, hypothesis)",
)
def test_mime_never_raises(observe) -> None:
    examples = []

    @FAST
    @given(st.one_of(mails(), st.binary(max_size=800)))
    def prop(raw: bytes) -> None:
        examples.append(1)
        out = parse_message(raw)
        assert isinstance(out.errors, list) and len(out.urls) <= 500

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception")


@pytest.mark.reliability(
    "phishing feed text: CSV, JSON lines and plain lists of any text",
    "rows with url/date/description (bad rows carry an error), never an exception",
    area="parsers (property-based, hypothesis)",
)
def test_feeds_never_raise_and_every_row_has_its_keys(observe) -> None:
    examples = []

    @FAST
    @given(st.one_of(
        st.lists(st.text(max_size=80), max_size=20).map(lambda rows: "date,URL,description\n" + "\n".join(rows)),
        st.lists(st.text(max_size=80), max_size=20).map(lambda rows: "{}\n" + "\n".join(rows)),
        st.text(max_size=500)))
    def prop(text: str) -> None:
        examples.append(1)
        for row in feed_rows(text):
            assert {"url", "date", "description"} <= set(row)

    prop()
    observe(f"{len(examples)} generated inputs, each under its deadline: no exception")


# ---------------------------------------------------------------- brand and config files

toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-5, 10**6), st.text(max_size=20), st.floats(allow_nan=False, allow_infinity=False)),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c, max_size=3)), max_leaves=12)
BRAND_KEYS = ["slug", "name", "keywords", "official_domains", "official_hosts", "login_pages", "group_domains",
              "lapsed_domains", "allowed_issuers", "sending_domains", "short_codes", "auto_takedown", "x"]


def _toml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, dict) else "{" + ", ".join(
        f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


FILES = settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.reliability(
    "brands file: random [[brand]] tables with any TOML values, trailing random bytes (not UTF-8)",
    "only ConfigError (one line naming the file and the key)",
    area="parsers (property-based, hypothesis)",
)
def test_brand_files_raise_only_config_error(tmp_path: Path, observe) -> None:
    examples = []

    @FILES
    @given(st.lists(st.dictionaries(st.sampled_from(BRAND_KEYS), toml_values, max_size=6), max_size=3),
           st.binary(max_size=30))
    def prop(brands: list[dict[str, Any]], junk: bytes) -> None:
        examples.append(1)
        text = "".join("[[brand]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in b.items()) for b in brands)
        p = tmp_path / "brands.toml"
        p.write_bytes(text.encode() + (junk if junk and junk[0] % 3 == 0 else b""))
        try:
            load_brands(p)
        except ConfigError as e:
            assert str(e).startswith(str(p))

    prop()
    observe(f"{len(examples)} generated files, each under its deadline: no exception but ConfigError")


SECTIONS = {"service": ["state_dir", "lab_mode", "language", "allow_no_brands"], "database": ["url", "busy_timeout_ms"],
            "ct": ["max_batch", "lag_max_entries", "start_at"], "crawl": ["proxy", "max_bytes"],
            "imap": ["max_urls_per_mail", "port"], "jobs": ["failing_after"], "x": ["y"]}


@pytest.mark.reliability(
    "config file: random sections and keys with any TOML values, trailing random bytes (not UTF-8)",
    "only ConfigError (one line naming the file and the key)",
    area="parsers (property-based, hypothesis)",
)
def test_config_files_raise_only_config_error(tmp_path: Path, observe) -> None:
    examples = []

    @FILES
    @given(st.dictionaries(st.sampled_from(sorted(SECTIONS)), st.dictionaries(
        st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks})), toml_values, max_size=3), max_size=4),
        st.binary(max_size=20))
    def prop(sections: dict[str, dict[str, Any]], junk: bytes) -> None:
        examples.append(1)
        text = "".join(f"[{s}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in kv.items())
                       for s, kv in sections.items())
        p = tmp_path / "config.toml"
        p.write_bytes(text.encode() + (junk if junk and junk[0] % 3 == 0 else b""))
        try:
            load_settings(p, environ={})
        except ConfigError as e:
            assert str(e).startswith(str(p))

    prop()
    observe(f"{len(examples)} generated files, each under its deadline: no exception but ConfigError")


# ---------------------------------------------------------------- bounded memory on big inputs

@pytest.mark.reliability(
    "big inputs: a 1.5 MB mail of URLs, a 1 MB CSV field, 50,000 WHOIS lines, a DMARC report of 20,000 records",
    "each parsed within a memory bound (traced peak under 100 MB)",
    area="parsers (property-based, hypothesis)",
)
def test_big_inputs_stay_within_memory(observe) -> None:
    big_mail = b"Subject: x\nContent-Type: text/plain\n\n" + b"https://a.top/ " * 100_000  # 1.5 MB
    big_feed = "date,URL,description\n" + "2026/11/20,https://a.top/,\"" + "x" * 1_000_000 + "\n"
    big_whois = "Name Server: ns.example\n" * 50_000
    big_xml = b"<feedback>" + b"<record><row><count>1</count></row></record>" * 20_000 + b"</feedback>"
    peaks = {
        "mail": bounded_memory(lambda: parse_message(big_mail), 100),
        "feed": bounded_memory(lambda: list(feed_rows(big_feed)), 40),
        "whois": bounded_memory(lambda: whois.parse(big_whois, "example.com"), 60),
        "dmarc": bounded_memory(lambda: dmarc.parse_report(big_xml), 100),
    }
    observe("traced peaks: " + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()))

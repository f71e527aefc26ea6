"""dnstwist's shipped dictionaries: every name dnstwist makes with them is among omamori's
permutations, and `omamori data refresh` re-reads them (here from the lab's web, as from GitHub)."""

from __future__ import annotations

import ssl
from pathlib import Path

import dnstwist
import httpx
import pytest

from watcher import refdata
from watcher.discovery.fuzzers import permutations, word_list


def test_everything_dnstwist_makes_with_its_own_dictionaries_is_among_ours() -> None:
    domain = "hoshizora-sec.co.jp"
    f = dnstwist.Fuzzer(domain, dictionary=list(word_list("dnstwist-english.txt")),
                        tld_dictionary=[*word_list("dnstwist-common-tlds.txt"), *word_list("dnstwist-abused-tlds.txt")])
    f.generate()
    theirs = {d["domain"] for d in f.domains if d["fuzzer"] != "*original"}
    ours = {p.name for p in permutations(domain)}
    assert theirs - ours == set()
    assert {"hoshizora-sec.tk", "hoshizora-sec.ml", "hoshizora-sec.work", "admin-hoshizora-sec.co.jp"} <= ours


def test_a_dictionary_is_refreshed_with_its_source_and_licence(lab_web, tmp_path: Path) -> None:
    lab_web.publish("raw.githubusercontent.com", "page", body="// Most abused TLDs\n\ncom\ntk\nml\n")
    ref = next(r for r in refdata.REFERENCE if r.name == "dnstwist-abused-tlds")
    ref = refdata.RefFile(ref.name, tmp_path / "dnstwist-abused-tlds.txt", ref.url, ref.licence, ref.transform)

    def fetch(url: str) -> bytes:
        with httpx.Client(proxy=lab_web.proxy_url, verify=ssl.create_default_context(cafile=lab_web.ca_file),
                          timeout=5) as c:
            return c.get(url).content

    out = refdata.refresh(ref, fetch)
    written = Path(out["file"]).read_text()
    assert "# source: https://raw.githubusercontent.com/elceef/dnstwist/" in written and "Apache" in written
    assert word_list(str(ref.path)) == ("com", "tk", "ml")
    lab_web.publish("raw.githubusercontent.com", "page", body="<html>not a dictionary</html>")
    with pytest.raises(ValueError):
        refdata.refresh(ref, fetch)

"""Real certificates that break parsers, replayed through the lab CT log between lookalikes.

The corpus (tests/ct/corpus, from the `cryptography_vectors` package) goes through the whole path:
`LabCTLog.add_der` logs the bytes, the reader fetches them over RFC 6962 or the static-ct-api, and
the lookalike logged after each one must still be discovered.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import make_settings
from tests.ct.labhelp import log_infos
from watcher.context import Context
from watcher.core.models import Candidate, Event, LogPosition
from watcher.discovery.ct.reader import LogReader

CORPUS = Path(__file__).parent / "corpus"
DUPLICATED_EXTENSION = CORPUS / "two_basic_constraints.pem"


def der_of(path: Path) -> bytes:
    data = path.read_bytes()
    m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    return base64.b64decode(m.group(1)) if m else data


def corpus() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".pem", ".der"))


def _bad_entries(ctx: Context) -> dict[int, dict]:
    with Session(ctx.engine) as s:
        return {e.detail["index"]: e.detail for e in s.exec(select(Event).where(Event.action == "ct.entry_failed"))}


def _candidates(ctx: Context) -> set[str]:
    with Session(ctx.engine) as s:
        return set(s.exec(select(Candidate.domain)))


@pytest.mark.parametrize("api", ["rfc6962", "static"])
@pytest.mark.parametrize("entry", ["certificate", "precertificate"])
@pytest.mark.reliability(
    "CT log ({api}): a real certificate with a duplicated extension, logged as a {entry} entry, between two lookalikes "
    "(0.1 stopped the log for good on it)",
    "the certificate is a recorded bad entry (index, reason, DER kept as evidence); both lookalikes are "
    "discovered; the position reaches the tree head",
    area="CT logs",
)
def test_duplicated_extension_between_two_lookalikes(lab_ct, ct_ctx: Context, matcher, api: str, entry: str,
                                                     observe) -> None:
    precert = entry == "precertificate"
    lab_ct.add_noise(20)
    before = lab_ct.add_certificate("hoshizora-sec-before.top")
    bad = lab_ct.add_der(der_of(DUPLICATED_EXTENSION), precert=precert)
    after = lab_ct.add_certificate(["hoshizora-sec-after.top"], precert=True)
    lab_ct.add_noise(20)
    lab_ct.integrate()
    res = LogReader(ct_ctx, log_infos(lab_ct, api)[0], matcher=matcher).run()
    assert res.error == "" and res.read == lab_ct.sth.size
    recorded = _bad_entries(ct_ctx)
    assert list(recorded) == [bad]
    assert "DuplicateExtension" in recorded[bad]["error"]
    evidence = ct_ctx.evidence.get(recorded[bad]["der_sha256"])
    assert evidence == der_of(DUPLICATED_EXTENSION) or not precert  # a precert entry keeps the precert bytes
    assert {"hoshizora-sec-before.top", "hoshizora-sec-after.top"} <= _candidates(ct_ctx)
    with Session(ct_ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
    assert (pos.next_index, pos.entries_failed) == (lab_ct.sth.size, 1)
    observe(f"entry {bad} recorded bad ({recorded[bad]['error'][:60]}...), {len(evidence)} bytes kept as "
            f"evidence; lookalikes at {before} and {after} discovered; position {pos.next_index}/{lab_ct.sth.size}")


@pytest.mark.reliability(
    "CT log (rfc6962 and static): every certificate of a corpus of 42 real and broken certificates "
    "(cryptography_vectors), each followed by a lookalike",
    "each certificate cryptography refuses is a recorded bad entry; every lookalike is discovered; no log stops",
    area="CT logs",
)
def test_corpus_through_the_lab_log(lab_ct, make_synced_ctx, tmp_path: Path, observe) -> None:
    lookalikes: dict[str, int] = {}
    logged: dict[int, str] = {}
    for i, path in enumerate(corpus()):
        logged[lab_ct.add_der(der_of(path), precert=i % 3 == 0)] = path.name
        name = f"hoshizora-sec-{i}.top"
        lookalikes[name] = lab_ct.add_certificate(name, precert=i % 2 == 0)
    lab_ct.integrate()
    outcome = {}
    for api in ("rfc6962", "static"):
        ctx = make_synced_ctx(make_settings(tmp_path / api, ct={"start_at": "beginning"}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cryptography warns about some of them; that is their point
            res = LogReader(ctx, log_infos(lab_ct, api)[0]).run()
        assert res.error == "" and res.read == lab_ct.sth.size, res
        missing = set(lookalikes) - _candidates(ctx)
        assert not missing, f"{api}: lookalikes not discovered: {sorted(missing)}"
        bad = _bad_entries(ctx)
        assert set(bad) <= set(logged), "only corpus entries may be bad"
        assert all(ctx.evidence.exists(d["der_sha256"]) for d in bad.values())
        outcome[api] = sorted(logged[i] for i in bad)
    assert outcome["rfc6962"] == outcome["static"]
    refused = outcome["static"]
    assert "two_basic_constraints.pem" in refused and "san_x400address.der" in refused
    assert "invalid_version.pem" in refused and "cryptography.io.pem" not in refused
    observe(f"both APIs: {len(logged)} certificates, {len(refused)} recorded as bad entries "
            f"({', '.join(refused)}); {len(lookalikes)} of {len(lookalikes)} lookalikes discovered")


@pytest.mark.reliability(
    "`omamori ct read`, then `omamori job ct_poll`, on a log holding the duplicated-extension certificate "
    "(0.1: ct read exited 1 on every run, ct_poll said ok with 0 entries)",
    "ct read exits 0 reporting 1 bad entry; ct_poll reads on, ok; `ct logs` shows the failed count",
    area="CT logs",
)
def test_the_commands_say_what_happened(lab_ct, tmp_path: Path, observe) -> None:
    from typer.testing import CliRunner

    from tests.ct.labhelp import write_log_list
    from tests.ct.test_cli import _config
    from watcher.cli import app

    runner = CliRunner()
    lab_ct.add_certificate("hoshizora-sec-before.top")
    lab_ct.add_der(der_of(DUPLICATED_EXTENSION))
    lab_ct.add_certificate("hoshizora-sec-after.top")
    lab_ct.integrate()
    cfg = _config(tmp_path, write_log_list(lab_ct, tmp_path / "logs.json"))
    read = runner.invoke(app, ["-c", str(cfg), "--lang", "en", "ct", "read"])
    assert read.exit_code == 0 and "1 bad entries recorded" in read.output, read.output
    lab_ct.add_certificate("hoshizora-sec-later.top")
    lab_ct.integrate()
    job = runner.invoke(app, ["-c", str(cfg), "job", "ct_poll", "--json"])
    assert job.exit_code == 0, job.output
    summary = json.loads(job.stdout)
    assert summary["ok"] and summary["entries"] == 1 and summary["candidates"] == 1
    logs = json.loads(runner.invoke(app, ["-c", str(cfg), "ct", "logs", "--json"]).stdout.splitlines()[0])
    assert logs["failed"] == 1 and logs["behind"] == 0
    observe(f"ct read exit {read.exit_code} ('1 bad entries recorded'); ct_poll ok, {summary['entries']} new "
            f"entry read, {summary['candidates']} candidate; ct logs: failed {logs['failed']}, behind {logs['behind']}")

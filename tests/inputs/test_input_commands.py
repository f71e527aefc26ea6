"""Every input command reads bad lines one by one: reported, counted, the rest processed; caps on
line, field, file and per-mail URL counts; encodings detected or refused with one clear line."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from tests.inputs.conftest import write_config
from watcher.cli import app
from watcher.context import build_context
from watcher.core.config import load_settings
from watcher.core.models import Candidate, Report

runner = CliRunner()
GOOD = ["hoshizora-sec-login.top", "www-hoshizora-sec-co-jp.k7x2.top", "https://hoshizora-sec.co.jp.login-check.cn/x"]


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


@pytest.mark.reliability(
    "omamori match: a list where one line is `http://[bad`, one is 3,000 random bytes, one is 10,000 characters",
    "each bad line reported with its number and counted; every good line matched; exit 0, no traceback",
    area="input commands",
)
def test_match_reports_bad_lines_and_matches_the_rest(config: Path, observe) -> None:
    junk = bytes(random.Random(14).randrange(256) for _ in range(3000)).replace(b"\n", b" ")
    data = b"\n".join([GOOD[0].encode(), b"http://[bad", junk, GOOD[1].encode(), b"x" * 10_000, GOOD[2].encode()])
    out = runner.invoke(app, ["-c", str(config), "--lang", "en", "match", "--json"], input=data)
    _no_traceback(out.output)
    assert out.exit_code == 0
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    matched = [r for r in rows if "brand" in r]
    bad = [r for r in rows if "error" in r]
    assert [r["line"] for r in matched] == [1, 4, 6]
    assert [r["line"] for r in bad] == [2, 3, 5]
    assert "6 line(s): 3 matching name(s), 3 bad line(s) reported" in out.stderr
    observe(f"exit {out.exit_code}; lines {[r['line'] for r in bad]} reported "
            f"({bad[0]['error']!r}, ..., {bad[2]['error']!r}); lines 1, 4, 6 matched")


@pytest.mark.reliability(
    "omamori match with no brands configured (the brands file does not exist)",
    "one line saying there is no brand and how to configure one; exit 2 (0.1: an Aho-Corasick AttributeError)",
    area="input commands",
)
def test_match_without_brands_says_so(tmp_path: Path, observe) -> None:
    out = runner.invoke(app, ["-c", str(write_config(tmp_path, brands=None)), "--lang", "en", "match"],
                        input="hoshizora.top\n")
    _no_traceback(out.output)
    assert out.exit_code == 2 and "no brands to match against" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    observe(f"exit 2: {out.stderr.strip()[:110]}...")


@pytest.mark.reliability(
    "omamori match on UTF-16 input",
    "refused in one line naming the encoding and the conversion; exit 2",
    area="input commands",
)
def test_match_refuses_utf16(config: Path, observe) -> None:
    out = runner.invoke(app, ["-c", str(config), "match"], input="hoshizora-login.top\n".encode("utf-16"))
    _no_traceback(out.output)
    assert out.exit_code == 2 and "utf-16" in out.stderr.lower()
    observe(f"exit 2: {out.stderr.strip()}")


def _feed(tmp_path: Path, rows: list[str]) -> Path:
    f = tmp_path / "feed.csv"
    f.write_text("date,URL,description\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


@pytest.mark.reliability(
    "intake feed: one CSV row with a field of 200,000 characters, one with a quote never closed, among 4 good rows",
    "the two rows reported with their line numbers and counted; the 4 good rows imported (0.1 lost every "
    "row, or swallowed the rest of the file into one field)",
    area="input commands",
)
def test_feed_loses_only_the_bad_rows(config: Path, tmp_path: Path, observe) -> None:
    feed = _feed(tmp_path, [
        "2026/11/20,https://hoshizora-sec-a.top/,ほしぞら証券",
        '2026/11/20,https://hoshizora-sec-b.top/,"' + "x" * 200_000 + '"',
        "2026/11/20,https://hoshizora-sec-c.top/,ほしぞら証券",
        '2026/11/20,https://hoshizora-sec-d.top/,"ほしぞら証券 with a quote never closed',
        "2026/11/20,https://hoshizora-sec-e.top/,ほしぞら証券",
        '2026/11/21,https://hoshizora-sec-f.top/,"a quoted, multi-line',
        'description",',
    ])
    out = runner.invoke(app, ["-c", str(config), "intake", "feed", str(feed)])
    _no_traceback(out.output)
    assert out.exit_code == 0, out.output
    assert "line 3: longer than 131,072 characters" in out.stderr
    assert "line 5: a quote opened on this line is not closed" in out.stderr
    ctx = build_context(load_settings(config, environ={}))
    with Session(ctx.engine) as s:
        domains = sorted(s.exec(select(Candidate.domain)))
    ctx.engine.dispose()
    assert domains == [f"hoshizora-sec-{c}.top" for c in "acef"]
    observe(f"exit 0; 'line 3: longer than 131,072 characters' and 'line 5: a quote opened on this line is "
            f"not closed' reported; {len(domains)} good rows imported (including a legitimate multi-line field)")


@pytest.mark.reliability(
    "lint-messages: a template saved as UTF-16 (with and without BOM) and one in Shift_JIS, each with a login link",
    "the encoding is detected and the login link reported in each; exit 1 (0.1 read UTF-16 as clean, exit 0)",
    area="input commands",
)
def test_lint_messages_reads_utf16_and_shift_jis(config: Path, tmp_path: Path, observe) -> None:
    text = "ログインはこちら https://hoshizora-sec.co.jp/login\n"
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "bom.txt").write_bytes(text.encode("utf-16"))
    (folder / "nobom.txt").write_bytes(text.encode("utf-16-le"))
    (folder / "sjis.txt").write_bytes(text.encode("cp932"))
    out = runner.invoke(app, ["-c", str(config), "lint-messages", str(folder), "--json"])
    _no_traceback(out.output)
    assert out.exit_code == 1
    found = sorted(Path(json.loads(line)["path"]).name for line in out.stdout.splitlines())
    assert found == ["bom.txt", "nobom.txt", "sjis.txt"]
    observe(f"exit 1; login link found in {', '.join(found)}")


@pytest.mark.reliability(
    "lint-messages /dev/zero (an endless file) next to a real template",
    "/dev/zero refused in one line at the size cap, memory bounded; the template still linted; exit 2",
    area="input commands",
)
def test_lint_messages_caps_what_it_reads(config: Path, tmp_path: Path, observe) -> None:
    ok = tmp_path / "ok.txt"
    ok.write_text("ご案内 https://hoshizora-sec.co.jp/news\n", encoding="utf-8")
    omamori = Path(sys.executable).parent / "omamori"
    # A small parent whose only child is the command, so RUSAGE_CHILDREN is that command's peak RSS.
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", measure, str(omamori), "-c", str(config), "lint-messages",
                           "--lang", "en", "/dev/zero", str(ok)], capture_output=True, text=True, timeout=120)
    peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
    _no_traceback(proc.stderr)
    assert proc.returncode == 2
    assert "/dev/zero: larger than 8,388,608 bytes" in proc.stderr and "2 file(s), 0 problem(s)" in proc.stderr
    assert peak_mb < 400  # the interpreter and the product's imports; 0.1 grew without bound
    observe(f"exit 2: '{proc.stderr.splitlines()[0]}'; peak RSS of the whole command {peak_mb:.0f} MB")


@pytest.mark.reliability(
    "one reported mail carrying 100,000 distinct URLs",
    "the report is kept; at most imap.max_urls_per_mail (20) URLs become candidates to crawl; the cap is "
    "recorded on the report (0.1 queued ~500 crawls)",
    area="input commands",
)
def test_one_mail_with_100000_urls_is_capped_and_recorded(config: Path, tmp_path: Path, observe) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    body = "\n".join(f"https://lure{i}.example-phish{i % 97}.top/login" for i in range(100_000))
    (folder / "flood.eml").write_text("From: customer@example.jp\nSubject: hoshizora\nContent-Type: text/plain; "
                                      f"charset=utf-8\n\n{body}\n", encoding="utf-8")
    out = runner.invoke(app, ["-c", str(config), "intake", "eml", str(folder)])
    _no_traceback(out.output)
    assert out.exit_code == 0, out.output
    ctx = build_context(load_settings(config, environ={}))
    with Session(ctx.engine) as s:
        report = s.exec(select(Report)).one()
        n_candidates = len(s.exec(select(Candidate)).all())
    ctx.engine.dispose()
    assert n_candidates == 20
    assert "the first 20 are checked" in report.error and "more than 500 URLs" in report.error
    kept = [u for u in report.urls if "per-mail cap" in str(u.get("ignored", ""))]
    observe(f"{n_candidates} candidates queued; {len(kept)} more URLs kept in the report only; report error: "
            f"{report.error[:120]!r}")

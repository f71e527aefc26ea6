"""BIND zone files as an inventory source: origin from $ORIGIN or the file name; broken files are Findings."""

from __future__ import annotations

from pathlib import Path

from tests.owned.conftest import finding, is_resolved
from watcher.owned.checks import run_checks
from watcher.owned.zonefile import import_zone_files, zone_names


def test_zone_names(tmp_path: Path) -> None:
    z = tmp_path / "db.hzsec.com"  # no $ORIGIN: the BIND file-name convention gives it
    z.write_text("@ 3600 IN SOA ns1.hzsec.com. h.hzsec.com. 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.53\n"
                 "go IN CNAME hoshizora.github.io.\n_acme-challenge.go IN TXT \"x\"\n")
    origin, names = zone_names(z)
    assert origin == "hzsec.com" and names == ["go.hzsec.com", "hzsec.com", "ns1.hzsec.com"]


def test_broken_zone_file_is_a_finding(make_ctx, tmp_path: Path) -> None:
    z = tmp_path / "hoshizora.jp.zone"
    z.write_text("$ORIGIN hoshizora.jp.\n@ IN SOA broken\n")
    ctx = make_ctx(inventory={"zone_files": [str(z), str(tmp_path / "missing.zone")]})
    run_checks(ctx, (), sources=(import_zone_files,))
    assert finding(ctx, "zonefile_unreadable", str(z)) is not None
    assert finding(ctx, "zonefile_unreadable", str(tmp_path / "missing.zone")) is not None
    z.write_text("$ORIGIN hoshizora.jp.\n$TTL 300\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.53\n"
                 "app IN A 192.0.2.60\n")
    summary = run_checks(ctx, (), sources=(import_zone_files,))
    assert is_resolved(ctx, "zonefile_unreadable", str(z)) and summary["owned_added_zonefile"] == 2

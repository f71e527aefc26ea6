"""docs/takeover-services.md is generated from the shipped signatures and kept current."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from watcher.cli import app
from watcher.commands.data import TAKEOVER_DOC
from watcher.owned import signatures
from watcher.owned.signature_sources import services_doc


def test_the_services_doc_is_current_and_lists_every_service_with_its_source() -> None:
    raw = json.loads(signatures.SIGNATURES.read_text(encoding="utf-8"))
    expected = services_doc(raw["items"], raw["sources"])
    assert TAKEOVER_DOC.read_text(encoding="utf-8") == expected, "run `omamori data takeover-doc --write`"
    rows = [line for line in expected.splitlines() if line.startswith("| ") and not line.startswith("| service")]
    assert len(rows) == len(raw["items"]) >= 120
    assert all(("can-i-take-over-xyz" in r or "nuclei:" in r or "provider documentation: " in r) for r in rows)
    # A service only documentation names is proved by the provider's generic error alone: low, possible.
    documented = [r for r in rows if "Provider documentation only" in r]
    assert documented and all("| low |" in r and "possible takeover" in r for r in documented)


def test_the_command_prints_the_table() -> None:
    out = CliRunner().invoke(app, ["data", "takeover-doc"])
    assert out.exit_code == 0 and "| Shopify |" in out.output

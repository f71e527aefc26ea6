"""Input commands against hostile input: each test runs the real `omamori` command (CliRunner, or a
subprocess where memory is measured) with a config pointed at a temporary state folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.core.config import ROOT


def write_config(tmp_path: Path, brands: Path | None = ROOT / "data" / "brands.example.toml", extra: str = "") -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f"""
[service]
state_dir = "{tmp_path / 'state'}"
brands_file = "{brands if brands is not None else tmp_path / 'no-such-brands.toml'}"
lab_mode = true
{extra}
""", encoding="utf-8")
    return p


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)

"""The shipped log list snapshot and the v3 parser."""

from __future__ import annotations

import base64
import hashlib
import json

from watcher.core.config import ROOT
from watcher.discovery.ct.loglist import load, parse
from watcher.discovery.ct.merkle import load_key

SHIPPED = ROOT / "data" / "ct-log-list.json"


def test_shipped_list_is_a_stamped_v3_list_with_valid_keys() -> None:
    raw = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert raw["_source"].startswith("https://www.gstatic.com/ct/log_list/v3/") and raw["_retrieved"]
    logs = parse(raw)
    assert {lg.api for lg in logs} == {"rfc6962", "static"}
    for lg in logs:
        assert base64.b64encode(hashlib.sha256(lg.key_der).digest()).decode() == lg.log_id, lg.description
        load_key(lg.key_der)
        assert lg.url.startswith("https://") and lg.url.endswith("/")
    readable = load(SHIPPED)
    assert all(lg.state in ("usable", "qualified", "readonly") for lg in readable)
    assert not any("Oak2026h2" in lg.description for lg in readable)  # retired


def test_one_log_in_both_sections_is_read_once_and_filters(lab_ct, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = lab_ct.log_list()
    assert [lg.api for lg in parse(data)] == ["static"]
    assert [lg.api for lg in parse(data, prefer="rfc6962")] == ["rfc6962"]
    info = parse(data)[0]
    assert info.origin == lab_ct.origin and info.url == lab_ct.static_url
    p = tmp_path / "l.json"
    p.write_text(json.dumps(data))
    assert load(p, include=["lab ct"]) and not load(p, exclude=["Lab CT"])


def test_malformed_entries_are_skipped() -> None:
    data = {"operators": [{"name": "x", "logs": [{"description": "no key"}, {"key": "!!", "url": "https://a/"}],
                           "tiled_logs": "not a list"}]}
    assert parse(data) == []

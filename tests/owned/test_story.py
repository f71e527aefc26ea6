"""One story on the lab's small world: the daily jobs find what the scenario planted, and the weekly
report that management receives says so."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from tests.owned.conftest import finding, is_open
from watcher.schedule import run_job

ZONE = """$ORIGIN hoshizora-sec.co.jp.
$TTL 3600
@        IN SOA ns1.lab-dns.test. hostmaster 1 3600 600 86400 300
www      IN A 192.0.2.10
trade    IN A 192.0.2.11
campaign IN CNAME hoshizora-campaign.s3.amazonaws.com.
old      IN CNAME hoshizora-old.azurewebsites.net.
"""


def test_small_world(lab_world, make_ctx, clock, tmp_path: Path) -> None:
    world = lab_world("data/lab/small.toml")
    clock.set(datetime.now(UTC))  # the scenario's dates ("+90d") are relative to the lab's real start
    ep = world.endpoints()
    boot = tmp_path / "rdap-bootstrap.json"
    with urllib.request.urlopen(ep["rdap"]["bootstrap_url"], timeout=5) as r:
        boot.write_bytes(r.read())
    zone = tmp_path / "hoshizora-sec.co.jp.zone"
    zone.write_text(ZONE)
    ctx = make_ctx(
        dns={"nameservers": [ep["dns"]["host"]], "port": ep["dns"]["port"], "timeout": 1.0, "retries": 0},
        web={"proxy": ep["web"]["proxy_url"], "ca_file": ep["web"]["ca_file"]},
        rdap={"bootstrap_file": str(boot), "allow_http": True, "cache_hours": 0, "requests_per_minute": 60000,
              "whois_servers": {t: f"{ep['whois']['host']}:{ep['whois']['port']}" for t in ep["whois"]["tlds"]}},
        smtp={"host": ep["smtp"]["host"], "port": ep["smtp"]["port"], "starttls": False},
        inventory={"zone_files": [str(zone)]},
        report={"recipients": ["board@hoshizora-sec.co.jp"]},
    )
    for job in ("inventory", "mailauth", "weekly_report"):
        result = run_job(ctx, job, actor="story")
        assert result["ok"], result

    # What the scenario planted, found:
    assert finding(ctx, "takeover_cname", "campaign.hoshizora-sec.co.jp").data["service"] == "AWS/S3"
    assert is_open(ctx, "takeover_cname", "old.hoshizora-sec.co.jp")  # Azure name gone (NXDOMAIN)
    assert is_open(ctx, "lock_transfer", "hoshizora-sec.com")
    assert finding(ctx, "expiry", "hoshizora-sec.com").data["band"] == 90
    assert finding(ctx, "dmarc", "hoshizora-sec.co.jp").data["p"] == "none"
    assert not is_open(ctx, "lock_transfer", "hzsec.com")

    # ... and reported to management through the lab's mail server.
    msgs = json.loads(urllib.request.urlopen(ep["smtp"]["api_url"].rstrip("/") + "/messages", timeout=5).read())
    assert any("週次" in (m.get("subject") or "") for m in msgs), msgs

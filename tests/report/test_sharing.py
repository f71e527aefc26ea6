"""What leaves for customers, peers and investigators: the customer alert page, the STIX bundle and
its MISP event, and the evidence bundle whose signed manifest and hashes an investigator checks."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest
import stix2

from lab.pki import LabPKI
from tests.report.seed import seed_week
from watcher.core.casefacts import case_facts
from watcher.report import customer_alerts
from watcher.sharing import evidence, share, stix

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_the_customer_page_lists_only_sites_a_person_confirmed(make_ctx, clock) -> None:
    clock.set(NOW)
    ctx = make_ctx(report={"official_list_url": "https://www.hoshizora-sec.co.jp/domains/"})
    seed_week(ctx)
    first = customer_alerts.publish(ctx)
    doc = json.loads((ctx.state_dir / "reports" / "customer-alerts-hoshizora.json").read_text(encoding="utf-8"))
    sites = {s["site"]: s for s in doc["sites"]}
    # A (CLI), C (dashboard) and D (CLI) were confirmed by people; B only by the auto rule; E, F by nobody.
    assert set(sites) == {"hoshizora-login[.]top", "k3v9q[.]xyz", "hoshizora-sec[.]co[.]jp[.]login-check[.]cn"}
    assert sites["hoshizora-sec[.]co[.]jp[.]login-check[.]cn"]["status"] == "open"
    assert sites["k3v9q[.]xyz"]["status"] == "closed"
    page = (ctx.state_dir / "reports" / "customer-alerts-hoshizora.html").read_text(encoding="utf-8")
    assert "偽サイトにご注意ください" in page and "Beware of fake sites" in page
    assert "k3v9q.xyz" not in page and "hxxps://k3v9q[.]xyz/login" in page  # defanged, never a live address
    assert first["customer_alerts_changed"]
    assert customer_alerts.publish(ctx)["customer_alerts_changed"] == ""  # nothing changed: not rewritten


def test_a_confirmed_case_becomes_a_valid_stix_bundle_and_one_misp_event(make_ctx, lab_misp, clock) -> None:
    clock.set(NOW)
    ctx = make_ctx(sharing={"misp_url": lab_misp.url, "misp_key": lab_misp.key, "organisation": "ほしぞら証券"})
    ids = seed_week(ctx)
    with ctx.session() as s:
        bundle = stix.case_bundle(ctx, s, case_facts(s, ids["A"]))
    parsed = stix2.parse(bundle.serialize(), allow_custom=False)  # the library checks every object again
    kinds = [o.type for o in parsed.objects]
    assert kinds.count("identity") == 2 and "campaign" in kinds
    patterns = {o.pattern for o in parsed.objects if o.type == "indicator"}
    assert "[domain-name:value = 'www.hoshizora-login.top']" in patterns
    assert "[url:value = 'https://hoshizora-login.top/login']" in patterns
    assert "[ipv4-addr:value = '203.0.113.10']" in patterns
    targets = [o for o in parsed.objects if o.type == "relationship" and o.relationship_type == "targets"]
    brand = next(o for o in parsed.objects if o.id == targets[0].target_ref)
    assert brand.name.startswith("Hoshizora Securities") and brand.sectors == ["financial-services"]

    result = share.run(ctx)
    assert result == {"bundles": 4, "misp_pushed": 4, "misp_failed": 0}
    assert share.run(ctx)["bundles"] == 0  # each case once
    events = lab_misp.events()
    assert len(events) == 4
    a = next(e for e in events if "hoshizora-login.top" in e["info"])
    assert {at["type"] for at in a["Attribute"]} == {"url", "domain", "ip-dst"}
    assert any(t["name"] == "tlp:amber" for t in a["Tag"])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_evidence_bundle_has_every_file_its_hashes_and_a_signed_manifest(make_ctx, clock, tmp_path) -> None:
    clock.set(NOW)
    pki = LabPKI()
    try:
        cert, key = pki.signer("brand-security@hoshizora-sec.co.jp", "Hoshizora Securities Co., Ltd.")
        ctx = make_ctx(sharing={"signing_cert": cert, "signing_key": key})
        ids = seed_week(ctx)
        shot = ctx.evidence.put(b"\x89PNG\r\n\x1a\n lab screenshot")
        page = ctx.evidence.put(b"<html>login</html>")
        from watcher.core.models import Snapshot
        with ctx.session() as s:
            snap = s.get(Snapshot, case_facts(s, ids["A"]).hosts[0].last_snapshot_id)
            snap.screenshot_sha256, snap.html_sha256 = shot, page
            s.add(snap)
            s.commit()
        path = evidence.export(ctx, ids["A"], tmp_path / "case-a.zip", actor="cli:investigator")
        z = zipfile.ZipFile(path)
        manifest_bytes = z.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        names = set(z.namelist())
        assert {f"evidence/{shot}.png", f"evidence/{page}.html", "timeline.json", "timeline.csv", "case.json",
                "requests.json", "snapshots.json", "README.txt", "manifest.json", "manifest.json.p7s"} <= names
        assert len([n for n in names if n.startswith("requests/")]) == 3  # three requests sent, three letters
        listed = {f["path"]: f for f in manifest["files"]}
        assert set(listed) == names - {"manifest.json", "manifest.json.p7s"}
        for name, entry in listed.items():  # every hash and size in the manifest is the file's
            data = z.read(name)
            assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"], name
        assert hashlib.sha256(z.read(f"evidence/{shot}.png")).hexdigest() == shot  # named by its own hash
        timeline = json.loads(z.read("timeline.json"))
        assert any(e["action"] == "candidate.status" and e["actor"] == "cli:analyst" for e in timeline)

        (tmp_path / "m.json").write_bytes(manifest_bytes)
        (tmp_path / "m.p7s").write_bytes(z.read("manifest.json.p7s"))
        verify = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "m.p7s"),
                  "-content", str(tmp_path / "m.json"), "-CAfile", pki.ca_file, "-purpose", "any",
                  "-out", "/dev/null"]
        ok = subprocess.run(verify, capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        (tmp_path / "m.json").write_bytes(manifest_bytes.replace(b'"case"', b'"Case"', 1))  # tampered
        assert subprocess.run(verify, capture_output=True).returncode != 0
    finally:
        pki.close()


def test_an_unknown_case_is_one_clear_line(make_ctx) -> None:
    ctx = make_ctx()
    with pytest.raises(evidence.BundleError, match="no case 999"):
        evidence.build(ctx, 999)
    data, manifest = evidence.build(ctx, seed_week(ctx)["E"])
    assert manifest.get("signed") is False and zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")

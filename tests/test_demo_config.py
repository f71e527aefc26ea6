"""`make demo` writes an omamori config from the lab's endpoints: it must be valid and point at the lab."""

from lab.demo import DEMO_BRANDS, DEMO_INTERVALS, omamori_config
from watcher.core.brands import load_brands
from watcher.core.config import load_settings
from watcher.schedule import JOBS


def test_the_demo_config_is_valid_and_points_every_client_at_the_lab(lab_world, tmp_path):
    world = lab_world(run_events=False)
    ep = world.endpoints()
    cfg = tmp_path / "config.toml"
    cfg.write_text(omamori_config(ep, tmp_path, password_hash="scrypt$1$1$1$AA==$AA=="), encoding="utf-8")
    s = load_settings(cfg, environ={})
    assert s.service.lab_mode
    assert (s.dns.nameservers, s.dns.port) == ([ep["dns"]["host"]], ep["dns"]["port"])
    assert s.ct.certstream_urls == [ep["certstream"]["url"]]
    assert s.crawl.proxy == ep["web"]["proxy_url"]
    assert (s.smtp.host, s.smtp.port) == (ep["smtp"]["host"], ep["smtp"]["port"])
    assert s.rdap.whois_servers["jp"] == f"{ep['whois']['host']}:{ep['whois']['port']}"
    assert s.path(s.ct.log_list).exists() and s.path(s.rdap.bootstrap_file).exists()
    assert s.dashboard.users[0].name == "demo"
    assert set(DEMO_INTERVALS) == {j.name for j in JOBS}


def test_the_demo_brands_turn_the_auto_rule_on():
    brands = {b.slug: b for b in load_brands(DEMO_BRANDS)}
    assert brands["hoshizora"].auto_takedown

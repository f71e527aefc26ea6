"""Hosting facts from the shipped table: CDN, free hosting and cloud services by host, CNAME, address, NS."""

from __future__ import annotations

import json

import pytest

from watcher.clients.hosting import TABLE, classify


@pytest.mark.parametrize(("addresses", "cnames", "nameservers", "host", "service", "kind"), [
    (["104.16.1.1"], [], [], "", "Cloudflare", "cdn"),
    (["203.0.113.5"], ["abc.cdn.cloudflare.net"], [], "", "Cloudflare", "cdn"),
    ([], [], ["kate.ns.cloudflare.com"], "", "Cloudflare", "cdn"),
    (["151.101.1.195"], [], [], "", "Fastly", "cdn"),
    ([], ["e1234.a.akamaiedge.net"], [], "", "Akamai", "cdn"),
    ([], ["d111111abcdef8.cloudfront.net"], [], "", "Amazon CloudFront", "cdn"),
    (["185.199.108.153"], [], [], "", "GitHub Pages", "free_hosting"),
    ([], [], [], "hoshizora-login.github.io", "GitHub Pages", "free_hosting"),
    ([], [], [], "hoshizora-sec.web.app", "Firebase Hosting (Google)", "free_hosting"),
    ([], ["cname.vercel-dns.com"], [], "", "Vercel", "free_hosting"),
    ([], [], [], "x.netlify.app", "Netlify", "free_hosting"),
    ([], [], [], "hoshizora.wixsite.com", "Wix", "free_hosting"),
    ([], [], [], "hoshizora.blogspot.com", "Blogger", "free_hosting"),
    ([], [], [], "x.000webhostapp.com", "000webhost", "free_hosting"),
    (["203.0.113.5"], [], ["ns1.lab-dns.test"], "k3v9q.xyz", "", ""),
    (["not-an-ip", "::1"], ["."], [""], "", "", ""),
])
def test_classify(addresses: list[str], cnames: list[str], nameservers: list[str], host: str, service: str,
                  kind: str) -> None:
    h = classify(addresses, cnames, nameservers, host=host)
    assert (h.service, h.kind) == (service, kind)
    if service:
        assert h.matched


def test_table_has_sources_for_every_contact() -> None:
    for e in json.loads(TABLE.read_text())["services"]:
        assert e["kind"] in ("cdn", "free_hosting", "cloud")
        if e["abuse_email"] or e["form_url"]:
            assert e["source"], f"{e['service']}: a contact without its source"

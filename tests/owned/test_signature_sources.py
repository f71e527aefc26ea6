"""The converter behind data/takeover-signatures.json, on small upstream samples of each shape."""

from __future__ import annotations

from watcher.owned.signature_sources import convert
from watcher.owned.signatures import Signature

FINGERPRINTS = [
    {"service": "Ngrok", "cname": ["ngrok.io"], "fingerprint": "Tunnel .*.ngrok.io not found", "status": "Vulnerable",
     "http_status": None, "vulnerable": True},
    {"service": "Helprace", "cname": ["helprace.com"], "fingerprint": "HTTP_STATUS=301", "status": "Vulnerable",
     "http_status": 301, "vulnerable": True},
    {"service": "Canny", "cname": [], "fingerprint": "Company Not Found` `There is no such company. Did you enter the right URL?",
     "status": "Vulnerable", "vulnerable": True},
    {"service": "Vercel", "cname": ["https://nonexistent-example.vercel.com/"], "fingerprint": "DEPLOYMENT_NOT_FOUND.",
     "status": "Edge case", "vulnerable": False},
    {"service": "Microsoft Azure", "cname": ["azurewebsites.net", "trafficmanager.net"], "fingerprint": "NXDOMAIN",
     "status": "Vulnerable", "vulnerable": True},
    {"service": "Fastly", "cname": [], "fingerprint": "Fastly error: unknown domain:", "status": "Not vulnerable",
     "vulnerable": False},
]
SHOPIFY = """id: shopify-takeover
info: {name: shopify takeover detection, reference: [https://example.test/shopify]}
http:
  - method: GET
    matchers-condition: and
    matchers:
      - type: dsl
        dsl: [Host != ip]
      - type: word
        words: ["Sorry, this shop is currently unavailable.", "Sorry, this store is currently unavailable."]
        condition: or
      - type: word
        words: [shop-not-found]
"""
GOOGLESITES = """id: googlesites-takeover
info: {name: Google sites}
http:
  - matchers-condition: and
    matchers:
      - {type: status, status: [404]}
      - {type: word, words: ["<title>Error 404 (Not Found)!!1</title>"]}
      - {type: dsl, dsl: ["contains(dns_cname, 'ghs.googlehosted.com')"]}
"""
NS = """id: can-i-take-over-dns-fingerprint
dns:
  - type: NS
    matchers:
      - {type: word, name: digitalocean, words: ["ns1.digitalocean.com", "ns2.digitalocean.com"]}
"""


def _by_service(out: dict) -> dict[str, Signature]:
    return {it["service"]: Signature.from_dict(it) for it in out["items"]}


def test_each_upstream_shape_becomes_a_proof() -> None:
    out = convert(FINGERPRINTS, {"http/takeovers/shopify-takeover.yaml": (SHOPIFY, "a" * 40),
                                 "http/takeovers/googlesites-takeover.yaml": (GOOGLESITES, "b" * 40),
                                 "dns/can-i-take-over-dns.yaml": (NS, "c" * 40)}, "d" * 40)
    sigs = _by_service(out)
    ngrok = sigs["Ngrok"].http_proofs[0].when[0]
    assert ngrok.regex and sigs["Ngrok"].http_hit(404, "", "Tunnel hz.ngrok.io not found")
    assert sigs["Helprace"].http_proofs[0].when[0].part == "status"  # the placeholder is a status proof
    canny = sigs["Canny"].http_proofs[0].when[0]
    assert canny.all and len(canny.values) == 2
    assert sigs["Vercel"].cnames and all("/" not in c for c in sigs["Vercel"].cnames)  # the URL is dropped
    assert {"Microsoft Azure App Service", "Microsoft Azure Traffic Manager"} <= set(sigs)
    assert sigs["Microsoft Azure App Service"].proof("nxdomain") and sigs["Microsoft Azure App Service"].detectable
    assert not sigs["Fastly"].detectable  # not vulnerable, no template says otherwise
    shop = sigs["Shopify"]
    assert shop.matches_cname("hz.shops.myshopify.com")  # from the providers' documentation table
    assert shop.http_hit(404, "", "Sorry, this store is currently unavailable. shop-not-found")
    assert not shop.http_hit(404, "", "Sorry, this store is currently unavailable.")  # both conditions
    assert sigs["Google Sites"].matches_cname("ghs.googlehosted.com")  # CNAME from the DSL
    assert sigs["Digital Ocean"].matches_ns("ns1.digitalocean.com") and sigs["Digital Ocean"].proof("ns_refused")
    assert "nuclei-templates http/takeovers/shopify-takeover.yaml@aaaaaaaaaaaa" in shop.sources
    assert out["sources"][0]["commit"] == "d" * 40 and "CC BY 4.0" in out["sources"][0]["licence"]
    assert all(it["example"] for it in out["items"] if it["detectable"])

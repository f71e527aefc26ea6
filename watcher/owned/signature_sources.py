"""The converter behind ``data/takeover-signatures.json``: upstream takeover data in, signatures out.

Sources, both under licences that allow shipping a converted copy:

- can-i-take-over-xyz ``fingerprints.json`` (CC BY 4.0): service, CNAME patterns, the unclaimed page's
  text (sometimes a regular expression, sometimes ``HTTP_STATUS=...``), how vulnerable;
- projectdiscovery's nuclei templates (MIT): ``http/takeovers/*.yaml`` (word/regex/status/header
  matchers, their and/or logic, CNAME conditions in DSL) and the ``dns/`` templates that name takeover
  evidence (Azure and Elastic Beanstalk NXDOMAIN, SERVFAIL/REFUSED, name-server providers).

GPL/AGPL tools (dnsReaper, baddns) were used only to see which services are missing, never copied.
``convert`` is pure (texts in, dict out) so the tests run it on fixtures; ``fetch_upstream`` gets the
texts through the configured proxy for ``omamori data refresh takeover-signatures``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from watcher.owned.signatures import ERROR_STATUSES, Proof, Signature

CANITAKEOVER = "https://github.com/EdOverflow/can-i-take-over-xyz"
NUCLEI = "https://github.com/projectdiscovery/nuclei-templates"
DOCS = "provider documentation"
# can-i-take-over-xyz's "status" column for a service only documentation names (no upstream entry).
DOCUMENTED_STATUS = "Provider documentation only (claimability not confirmed)"
DNS_TEMPLATES = ("dns/azure-takeover-detection.yaml", "dns/elasticbeanstalk-takeover.yaml",
                 "dns/servfail-refused-hosts.yaml", "dns/can-i-take-over-dns.yaml",
                 "dns/dns-saas-service-detection.yaml")

# nuclei template id (without "-takeover") -> the can-i-take-over-xyz service it describes.
ALIASES: dict[str, str] = {
    "aws-bucket": "AWS/S3", "agilecrm": "Agile CRM", "airee": "Airee.ru", "anima": "Anima",
    "bitbucket": "Bitbucket", "campaignmonitor": "Campaign Monitor", "canny": "Canny",
    "cargocollective": "Cargo Collective", "frontify": "Frontify", "gemfury": "Gemfury",
    "getresponse": "Getresponse", "ghost": "Ghost", "github": "Github", "googlesites": "Google Sites",
    "hatenablog": "HatenaBlog", "helpjuice": "Help Juice", "helpscout": "Help Scout", "helprace": "Helprace",
    "heroku": "Heroku", "hubspot": "HubSpot", "hubspot-takeover-header": "HubSpot", "intercom": "Intercom",
    "jetbrains": "JetBrains", "kinsta": "Kinsta", "launchrock": "LaunchRock", "mashery": "Mashery",
    "netlify": "Netlify", "ngrok": "Ngrok", "pantheon": "Pantheon", "pingdom": "Pingdom",
    "readme": "Readme.io", "readthedocs": "Readthedocs", "shopify": "Shopify", "short-io": "Short.io",
    "smartjob": "SmartJobBoard", "smugmug": "Smugsmug", "strikingly": "Strikingly", "surge": "Surge.sh",
    "surveysparrow": "SurveySparrow", "tilda": "Tilda", "tumblr": "Tumblr", "uberflip": "Uberflip",
    "uptimerobot": "Uptimerobot", "uservoice": "UserVoice", "vercel": "Vercel", "webflow": "Webflow",
    "wix": "Wix", "wordpress": "Wordpress", "worksites": "Worksites", "zendesk": "Zendesk",
    "uptime": "Better Stack Uptime", "betteruptime": "Better Stack Uptime",
    "elasticbeanstalk": "AWS/Elastic Beanstalk",
}
# Display names of services only nuclei knows.
NAMES: dict[str, str] = {
    "aftership": "AfterShip", "aha": "Aha!", "announcekit": "AnnounceKit", "cargo": "Cargo",
    "clever": "Clever Cloud", "flexbe": "Flexbe", "flywheel": "Flywheel", "framer": "Framer",
    "gitbook": "GitBook", "gohire": "GoHire", "greatpages": "GreatPages", "helpdocs": "HelpDocs",
    "jazzhr": "JazzHR", "leadpages": "Leadpages", "lemlist": "lemlist", "mailgun": "Mailgun",
    "meteor": "Meteor Galaxy", "pagewiz": "Pagewiz", "proposify": "Proposify",
    "redirect-pizza": "redirect.pizza", "simplebooklet": "Simplebooklet", "softr": "Softr",
    "sprintful": "Sprintful", "squadcast": "Squadcast", "surveygizmo": "SurveyGizmo", "tave": "Táve",
    "teamwork": "Teamwork", "vend": "Vend", "wasabi-bucket": "Wasabi", "wishpond": "Wishpond",
    "wufoo": "Wufoo", "aws-ec2-cname": "AWS/EC2 public host name", "bigcartel": "Big Cartel",
}
# Custom-domain CNAME targets as each provider documents them (service -> (targets, where it is said)),
# for services whose upstream entry has none, so a dangling pointer is recognised before its page is read.
# A host name is a fact: where only another tool's list names it, that list is cited for the name alone.
SUBJACK = "https://github.com/haccer/subjack (main.go CNAME list: host names only)"
KNOWN_CNAMES: dict[str, tuple[tuple[str, ...], str]] = {
    "Shopify": (("shops.myshopify.com", "myshopify.com"), ""),
    "Vercel": (("cname.vercel-dns.com", "vercel-dns.com", "vercel.app"), ""),
    "Webflow": (("proxy.webflow.com", "proxy-ssl.webflow.com"), ""),
    "Wix": (("wixdns.net",), ""),
    "Heroku": (("herokuapp.com", "herokudns.com", "herokussl.com"), ""),
    "Github": (("github.io", "github.map.fastly.net"), ""),
    "Tumblr": (("domains.tumblr.com",), ""),
    "Zendesk": (("zendesk.com",), ""),
    "HubSpot": (("hs-sites.com", "hubspot.net", "sites.hubspot.net"), ""),
    "Intercom": (("custom.intercom.help",), ""),
    "Pantheon": (("pantheonsite.io",), ""),
    "Canny": (("cname.canny.io",), ""),
    "Cargo Collective": (("cargocollective.com",), ""),
    "Kinsta": (("kinsta.cloud",), ""),
    "Readthedocs": (("readthedocs.io",), ""),
    "Pingdom": (("stats.pingdom.com",), ""),
    "Teamwork": (("teamwork.com",), ""),
    "Tilda": (("tilda.ws",), ""),
    "UserVoice": (("uservoice.com",), ""),
    "Campaign Monitor": (("createsend.com",), ""),
    "Mailgun": (("mailgun.org",), ""),
    "Smugsmug": (("domains.smugmug.com",), ""),
    "Wufoo": (("wufoo.com",), ""),
    "Leadpages": (("custom-proxy.leadpages.net", "leadpages.net"), ""),
    "Framer": (("sites.framer.app",), ""),
    "Google Sites": (("ghs.googlehosted.com",), ""),
    "redirect.pizza": (("redirect.pizza",), ""),
    "Netlify": (("netlify.app", "netlify.com"), ""),
    "Frontify": (("frontify.com",), ""),
    "Better Stack Uptime": (("betteruptime.com", "statuspage.betteruptime.com"), ""),
    "Squadcast": (("statuspage.squadcast.com",), ""),
    "Short.io": (("cname.short.io",), ""),
    "Help Juice": (("helpjuice.com",), ""),
    # Services upstream knows by their page alone (no CNAME of theirs), named here with where it is said.
    "JetBrains": (("myjetbrains.com",), "https://github.com/JetBrains/youtrack-mobile (CLOUD_DOMAIN = "
                  "'myjetbrains.com', the InCloud YouTrack host); " + SUBJACK),
    "Getresponse": (("gr8.com",), SUBJACK),
    "Big Cartel": (("bigcartel.com",), "https://help.bigcartel.com/articles/14-using-a-custom-domain (a CNAME to "
                   "<shop>.bigcartel.com)"),
    "Clever Cloud": (("domain.clever-cloud.com", "clever-cloud.com", "cleverapps.io"),
                     "https://www.clever-cloud.com/doc/ (Apps Management, custom domain names: a CNAME to "
                     "domain.clever-cloud.com; cleverapps.io sub-domains)"),
    "Aha!": (("ideas.aha.io", "aha.io"), SUBJACK + "; aha.io is the provider's own domain"),
    "HelpDocs": (("helpdocs.io",), "https://support.helpdocs.io/ (Setting Up a Custom Domain); helpdocs.io is the "
                 "provider's own domain"),
    "Simplebooklet": (("simplebooklet.com",), SUBJACK),
    "Táve": (("clientaccess.tave.com", "tave.com", "vsco.page"), SUBJACK + "; vsco.page: VSCO Workspace (formerly "
             "Táve) studio sites answer as <studio>.vsco.page (public sites such as emphotography.vsco.page)"),
    "AfterShip": (("aftership.com",), SUBJACK),
    "Proposify": (("proposify.biz",), SUBJACK),
    "Wishpond": (("wishpond.com",), SUBJACK),
    "Vend": (("vendecommerce.com",), SUBJACK),
    "Mashery": (("mashery.com",), SUBJACK),
    "Meteor Galaxy": (("galaxy-ingress.meteor.com",), "https://galaxy-guide.meteor.com/dns.html (a CNAME to "
                      "galaxy-ingress.meteor.com, or <region>.galaxy-ingress.meteor.com)"),
    "lemlist": (("custom.lemlist.com",), "lemlist's custom tracking domain: a CNAME to custom.lemlist.com (its "
                "setup screen, repeated in public setup guides)"),
    "JazzHR": (("applytojob.com",), "JazzHR career pages answer as <company>.applytojob.com (the provider's own "
               "domain)"),
    "Wasabi": (("wasabisys.com",), "wasabisys.com is the provider's own domain (bucket endpoints s3.<region>."
               "wasabisys.com)"),
    "Cargo": (("cargo.site",), "Cargo sites answer as <site>.cargo.site (the provider's own domain)"),
}
# What the provider itself answers for a released name, where upstream's words miss it (service ->
# (proof, where it is seen)). A behaviour, not another tool's text: Zendesk sends a help center that no
# longer exists to its own "help center closed" page (the redirect public test suites assert).
DOCUMENTED_PROOFS: dict[str, tuple[dict[str, Any], str]] = {
    "Zendesk": ({"type": "http", "when": [{"part": "status", "any": ["301", "302"]},
                                          {"part": "header", "any": ["zendesk.com/help-center-closed",
                                                                     "zendesk.com/app/help-center-closed"], "ci": True}]},
                "https://www.zendesk.com/help-center-closed/ (where Zendesk redirects a closed or unknown help "
                "center; asserted by public test suites of Zendesk integrations)"),
}
# Services no upstream signature describes, recognised by the custom-domain target their documentation
# names. Nothing licence-clean says what their "unclaimed" page reads, nor that anyone can claim a
# released name there, so the only proof is the generic one (``provider_error``: the provider answers
# with an error of its own and none of the firm's words) and the finding says "possible, verify".
DOCUMENTED_SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "Bunny CDN": (("b-cdn.net",), (), "https://docs.bunny.net/cdn/quickstart (a pull zone named mysite answers as "
                  "mysite.b-cdn.net); https://docs.bunny.net/cdn/custom-hostname"),
    "Substack": (("target.substack-custom-domains.com",), (),
                 "https://blog.nietaanraken.nl/posts/substack-domain-takeover (Substack's custom-domain CNAME "
                 "target, and how a released one is claimed)"),
    "Lovable": (("lovable.app",), (), "https://dev.to/tielec-takashi/setting-up-custom-domains-in-lovable-subdomain-"
                "design-atxt-records-3ee5 (projects answer as <project>.lovable.app)"),
    "Thinkific": (("thinkific.com",), (), SUBJACK),
    "Brightcove Gallery": (("bcvp0rtal.com", "brightcovegallery.com", "gallery.video"), (),
                           "https://gallery.support.brightcove.com/settings/configuring-custom-domains-and-ssl.html "
                           "(Brightcove-provided portal domains); " + SUBJACK),
    # Zoho maps a custom domain with a CNAME to <app>.cs.zohohost.<data centre's domain> (documented for
    # Subscriptions as subscriptions.cs.zohohost.com); Forms follows the same scheme in each data centre.
    "Zoho Forms": (("forms.cs.zohohost.com",), (r"(^|\.)forms\.cs\.zohohost\.(com|eu|in|com\.au|ca|jp|com\.cn)$",),
                   "https://www.zoho.com/subscriptions/help/set-domain-mapping.html (the <app>.cs.zohohost.com "
                   "custom-domain scheme)"),
    "Brandpad": (("brandpad.io",), (), "brandpad.io is the provider's own domain (no provider documentation reachable "
                 "here; named by dnsReaper, a coverage reference)"),
    "Bettermode": (("domains.bettermode.io",), (), "host name only, named by dnsReaper (a coverage reference; no "
                   "provider documentation reachable here)"),
}
# Endpoint names as the provider documents them, where a suffix list cannot say it (regional endpoints).
KNOWN_REGEX: dict[str, tuple[str, ...]] = {
    "AWS/S3": (r"(^|\.)s3[.-]website[.-][a-z0-9-]+\.amazonaws\.com$", r"(^|\.)s3[.-][a-z0-9-]+\.amazonaws\.com$",
               r"(^|\.)s3\.dualstack\.[a-z0-9-]+\.amazonaws\.com$"),
}
# Azure products behind each suffix of the Azure templates: each is its own service with its own
# resource names, released and re-created independently.
AZURE: dict[str, str] = {
    "azure-api.net": "API Management", "azure-mobile.net": "Mobile Services",
    "azurecontainer.io": "Container Instances", "azurecr.io": "Container Registry",
    "azuredatalakestore.net": "Data Lake Store", "azureedge.net": "CDN", "azurefd.net": "Front Door",
    "azurehdinsight.net": "HDInsight", "azurewebsites.net": "App Service",
    "azurewebsites.windows.net": "App Service (windows.net)", "blob.core.windows.net": "Blob Storage",
    "cloudapp.azure.com": "Virtual Machine DNS name", "cloudapp.net": "Cloud Services",
    "database.windows.net": "SQL Database", "redis.cache.windows.net": "Cache for Redis",
    "search.windows.net": "AI Search", "servicebus.windows.net": "Service Bus",
    "trafficmanager.net": "Traffic Manager", "visualstudio.com": "DevOps (visualstudio.com)",
    "web.core.windows.net": "Storage static website",
}
# Name-server providers of can-i-take-over-dns (matcher name -> display name).
NS_PROVIDERS: dict[str, str] = {
    "000domains": "000Domains", "azure": "Azure DNS", "bizland": "BizLand", "digitalocean": "Digital Ocean",
    "dnsmadeeasy": "DNS Made Easy", "dnsimple": "DNSimple", "domain": "Domain.com", "dotster": "Dotster",
    "easydns": "easyDNS", "googledomains": "Google Domains", "hurricane-electric": "Hurricane Electric",
    "linode": "Linode", "mydomain": "MyDomain", "name": "Name.com", "nsone": "NS1", "tierranet": "TierraNet",
    "yahoo": "Yahoo Small Business",
}
# dns-saas-service-detection matcher names -> service (CNAME recognition only; no proof of its own).
SAAS_NAMES: dict[str, str] = {
    "zendesk": "Zendesk", "announcekit": "AnnounceKit", "wix": "Wix", "netlify": "Netlify", "vercel": "Vercel",
    "heroku": "Heroku", "webflow": "Webflow", "hubspot": "HubSpot", "gitbook": "GitBook",
    "google-hosted": "Google Sites", "github": "Github", "ghost": "Ghost",
}
# Example CNAME targets for services recognised only by a regular expression.
REGEX_EXAMPLES: dict[str, str] = {
    "AWS/Elastic Beanstalk": "hz-app.ap-northeast-1.elasticbeanstalk.com",
    "AWS/EC2 public host name": "ec2-198-51-100-7.ap-northeast-1.compute.amazonaws.com",
}
# What the lab serves for a service known only by its documented CNAME: a bare error page, none of the
# firm's words (what a provider answers for a name it no longer maps to anyone).
GENERIC_ERROR_PAGE = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
_REGEXY = re.compile(r"\\\.|\.\*|\(\?|\[\^|\\d|\\s|\|")


@dataclass
class _Item:
    service: str
    id: str = ""
    cnames: list[str] = field(default_factory=list)
    cname_regex: list[str] = field(default_factory=list)
    ns: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    proofs: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""  # can-i-take-over-xyz's verdict
    nuclei: bool = False
    sources: list[str] = field(default_factory=list)
    reference: str = ""
    discussion: str = ""

    def add(self, attr: str, values: Iterable[str]) -> None:
        have: list[str] = getattr(self, attr)
        for v in values:
            v = v.strip()
            if v and v not in have:
                have.append(v)

    def add_proof(self, proof: dict[str, Any]) -> None:
        if proof not in self.proofs:
            self.proofs.append(proof)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _stem(template_id: str) -> str:
    return re.sub(r"-takeover$", "", template_id)


# --- can-i-take-over-xyz ---------------------------------------------------------------------------


def _fingerprint_proof(fp: str, http_status: Any) -> dict[str, Any] | None:
    fp = fp.strip()
    if not fp:
        return None
    if fp == "NXDOMAIN":
        return {"type": "nxdomain"}
    if fp.startswith("HTTP_STATUS="):  # a placeholder upstream: the status is the whole proof
        return {"type": "http", "when": [{"part": "status", "any": [fp.split("=", 1)[1].strip()]}]}
    when: list[dict[str, Any]] = []
    if "` `" in fp:  # several strings that must all be on the page
        when.append({"part": "body", "all": [p.strip("` ") for p in fp.split("` `")]})
    elif _REGEXY.search(fp):
        when.append({"part": "body", "any": [fp.replace("&#124;", "|")], "regex": True})
    else:
        when.append({"part": "body", "any": [fp]})
    if isinstance(http_status, int):
        when.append({"part": "status", "any": [str(http_status)]})
    return {"type": "http", "when": when}


def _from_canitakeover(items: dict[str, _Item], fingerprints: list[dict[str, Any]]) -> None:
    for fp in fingerprints:
        service = str(fp.get("service", "")).strip()
        if not service:
            continue
        if service == "Microsoft Azure":  # split per product below, with the nuclei Azure template
            for suffix in fp.get("cname", []):
                _azure(items, suffix, "can-i-take-over-xyz")
            continue
        it = items.setdefault(service, _Item(service))
        it.status = str(fp.get("status", ""))
        it.sources.append("can-i-take-over-xyz")
        it.discussion = str(fp.get("discussion", ""))
        for c in fp.get("cname", []):
            c = str(c)
            if re.fullmatch(r"[0-9.]+", c):
                it.add("addresses", [c])
            elif c.startswith("http") or "/" in c:
                continue  # a URL where a CNAME belongs (Vercel): not a pattern
            else:
                it.add("cnames", [c.lower()])
        proof = _fingerprint_proof(str(fp.get("fingerprint") or ""), fp.get("http_status"))
        if service == "Digital Ocean":
            proof = {"type": "ns_refused"}  # "uses DO name servers with no records in DO"
        if proof:
            it.add_proof(proof)


def _azure(items: dict[str, _Item], suffix: str, source: str) -> None:
    product = AZURE.get(suffix)
    if product is None:
        return
    it = items.setdefault(f"Microsoft Azure {product}", _Item(f"Microsoft Azure {product}"))
    it.add("cnames", [suffix])
    it.add_proof({"type": "nxdomain"})
    if source not in it.sources:
        it.sources.append(source)
    it.status = it.status or "Vulnerable"
    it.reference = "https://learn.microsoft.com/en-us/azure/security/fundamentals/subdomain-takeover"


# --- nuclei templates ------------------------------------------------------------------------------

_DSL_CNAME = re.compile(r"""contains\(\s*(?:dns_)?cname\s*,\s*['"]([^'"]+)['"]\s*\)""")
_DSL_HEADER = re.compile(r"""contains\(\s*tolower\(header\)\s*,\s*['"]([^'"]+)['"]\s*\)""")


def _conditions(matcher: Mapping[str, Any], it: _Item) -> list[dict[str, Any]]:
    """The conditions one nuclei matcher contributes (CNAME words become recognition, not proof)."""
    kind = matcher.get("type")
    part = str(matcher.get("part", "body"))
    negative = bool(matcher.get("negative"))
    ci = bool(matcher.get("case-insensitive"))
    joined = "all" if matcher.get("condition") == "and" else "any"
    if kind == "dsl":
        cnames = [m for d in matcher.get("dsl", []) for m in _DSL_CNAME.findall(str(d))]
        it.add("cnames", [c.lower() for c in cnames])
        headers = [m for d in matcher.get("dsl", []) for m in _DSL_HEADER.findall(str(d))]
        if headers:
            return [{"part": "header", joined: headers, "ci": True, **({"negative": True} if negative else {})}]
        return []
    if kind == "status":
        return [{"part": "status", "any": [str(s) for s in matcher.get("status", [])]}]
    if part == "cname":
        it.add("cnames", [str(w).lower() for w in matcher.get("words", [])])
        return []
    if part in ("header", "content_type"):
        part = "header"
    elif part not in ("body", "response", "all"):
        return []
    else:
        part = "body"
    values = [str(v) for v in matcher.get("words" if kind == "word" else "regex", [])]
    if not values or kind not in ("word", "regex"):
        return []
    cond: dict[str, Any] = {"part": part, joined: values}
    if kind == "regex":
        cond["regex"] = True
    if ci:
        cond["ci"] = True
    if negative:
        cond["negative"] = True
    return [cond]


def _from_template(items: dict[str, _Item], path: str, doc: Mapping[str, Any], commit: str) -> None:
    tid = str(doc.get("id", path.rsplit("/", 1)[-1].removesuffix(".yaml")))
    stem = _stem(tid)
    if path.startswith("dns/"):
        _from_dns_template(items, path, doc, commit)
        return
    service = ALIASES.get(tid) or ALIASES.get(stem) or NAMES.get(stem) or str(doc.get("info", {}).get("name", stem))
    it = items.setdefault(service, _Item(service))
    it.nuclei = True
    it.sources.append(f"nuclei-templates {path}@{commit[:12]}")
    refs = (doc.get("info") or {}).get("reference") or []
    refs = [refs] if isinstance(refs, str) else list(refs)
    if not it.reference:
        it.reference = next((r for r in refs if "can-i-take-over-xyz" not in r), refs[0] if refs else "")
    for block in doc.get("dns") or []:
        for m in block.get("matchers", []):
            if m.get("type") == "regex":
                it.add("cname_regex", [re.sub(r"^CNAME\\t", "", str(r)) for r in m.get("regex", [])])
            elif block.get("type") == "A":
                it.add("addresses", [str(w) for w in m.get("words", [])])
            else:
                it.add("cnames", [str(w).lower() for w in m.get("words", [])])
    for block in (doc.get("http") or doc.get("requests") or []):
        matchers = list(block.get("matchers", []))
        if block.get("matchers-condition") == "or":
            for m in matchers:
                when = _conditions(m, it)
                if when:
                    it.add_proof({"type": "http", "when": when})
        else:
            when = [c for m in matchers for c in _conditions(m, it)]
            if when:
                it.add_proof({"type": "http", "when": when})


def _from_dns_template(items: dict[str, _Item], path: str, doc: Mapping[str, Any], commit: str) -> None:
    tid = str(doc.get("id", ""))
    source = f"nuclei-templates {path}@{commit[:12]}"
    blocks = doc.get("dns") or []
    if tid == "azure-takeover-detection":
        for b in blocks:
            for m in b.get("matchers", []):
                for d in m.get("dsl", []):
                    for suffix in _DSL_CNAME.findall(str(d)):
                        _azure(items, suffix, source)
    elif tid == "elasticbeanstalk-takeover":
        it = items.setdefault("AWS/Elastic Beanstalk", _Item("AWS/Elastic Beanstalk"))
        it.sources.append(source)
        it.nuclei = True
        for b in blocks:
            for m in b.get("matchers", []):
                if m.get("type") == "regex":
                    it.add("cname_regex", [re.sub(r"^CNAME\\t", "", str(r)) for r in m.get("regex", [])])
        it.add_proof({"type": "nxdomain"})
    elif tid.startswith("can-i-take-over-dns"):
        for b in blocks:
            for m in b.get("matchers", []):
                name = NS_PROVIDERS.get(str(m.get("name", "")))
                if not name:
                    continue
                it = items.setdefault(name, _Item(name))
                it.add("ns", [str(w).lower() for w in m.get("words", [])])
                it.add_proof({"type": "ns_refused"})
                it.sources.append(source)
                it.nuclei = True
                it.reference = "https://github.com/indianajson/can-i-take-over-dns"
    elif tid == "dns-saas-service-detection":
        for b in blocks:
            for m in b.get("matchers", []):
                name = SAAS_NAMES.get(str(m.get("name", "")))
                if name and name in items:
                    items[name].add("cnames", [str(w).lower() for w in m.get("words", [])])


# --- the result ------------------------------------------------------------------------------------


def _documented(it: _Item, known: tuple[tuple[str, ...], str]) -> None:
    cnames, url = known
    it.add("cnames", cnames)
    source = f"{DOCS}: {url}" if url else DOCS
    if source not in it.sources:
        it.sources.append(source)


def _confidence(it: _Item, proof: dict[str, Any]) -> str:
    if proof["type"] == "provider_error":
        return "low"  # the provider's generic error: says the resource is gone, not that anyone can claim it
    if proof["type"] in ("nxdomain", "ns_refused"):
        return "high" if it.status == "Vulnerable" else "medium"
    when = proof.get("when", [])
    specific = any(not c.get("negative") and c["part"] != "status"
                   and (c["part"] == "header" or any(len(v) >= 16 for v in c.get("any", c.get("all", []))))
                   for c in when)
    if not specific:
        return "low"
    return "high" if it.status == "Vulnerable" else "medium"


def _sample(regex: str) -> str:
    """A text that the (simple) upstream regular expression matches, for the lab's example page."""
    s = regex.split("|")[0]
    s = s.replace("^", "").replace("$", "").replace(".*", "hoshizora").replace("\\.", ".")
    s = re.sub(r"(.)\?", r"\1", s)
    return s.replace("\\", "")


def _example(it: _Item, sid: str) -> dict[str, Any]:
    """What the lab serves for a dangling host of this service: the first proof, made concrete."""
    out: dict[str, Any] = {}
    if it.cnames:
        c = it.cnames[0].lstrip(".")
        out["cname"] = f"hz{c}" if c.startswith("-") else f"hz-{sid}.{c}"
    elif it.cname_regex:
        out["cname"] = REGEX_EXAMPLES.get(it.service, "")
    if it.ns:
        out["ns"] = [n.lstrip(".") if not n.startswith(".") else f"ns1{n}" for n in it.ns[:2]]
    if it.addresses:
        out["address"] = it.addresses[0].split("/")[0]
    http = [p for p in it.proofs if p["type"] == "http"]
    recognisable = bool(it.cnames or it.cname_regex or it.addresses)
    # A service known by its page alone is found by a specific proof only: show the lab that one.
    proof = next((p for p in http if recognisable or Proof.from_dict(p).specific), http[0] if http else None)
    if proof is None:
        if any(p["type"] == "provider_error" for p in it.proofs):
            out.update({"status": 404, "headers": {}, "body": GENERIC_ERROR_PAGE})
        return out
    lines: list[str] = []
    headers: dict[str, str] = {}
    status = 0
    for c in proof.get("when", []):
        if c.get("negative"):
            continue
        values = c.get("all") or c.get("any", [])[:1]
        if c["part"] == "status":
            status = int(values[0])
        elif c["part"] == "header":
            for v in values:
                if ":" in v:
                    k, _, val = v.partition(":")
                    headers[k.strip()] = val.strip()
                elif "/" in v:
                    headers["Content-Type"] = v
                elif v.lower().startswith("x-"):
                    headers[v.rstrip("-") + ("lab" if v.endswith("-") else "")] = "true"
                else:
                    headers["Server"] = v
        else:
            lines.extend(_sample(v) if c.get("regex") else v for v in values)
    out.update({"status": status or 404, "headers": headers, "body": "\n".join(lines)})
    return out


def convert(fingerprints: list[dict[str, Any]], templates: Mapping[str, tuple[str, str]],
            canitakeover_commit: str) -> dict[str, Any]:
    """Signatures from can-i-take-over-xyz's fingerprints and nuclei templates ({path: (yaml, commit)})."""
    items: dict[str, _Item] = {}
    _from_canitakeover(items, fingerprints)
    dns_last = sorted(templates, key=lambda p: (p.endswith("dns-saas-service-detection.yaml"), p))
    for path in dns_last:
        text, commit = templates[path]
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: not YAML: {e}") from None
        if isinstance(doc, dict) and path != "dns/servfail-refused-hosts.yaml":
            _from_template(items, path, doc, commit)
    for name, (cnames, regexes, url) in DOCUMENTED_SERVICES.items():
        it = items.setdefault(name, _Item(name))
        it.add("cname_regex", regexes)
        it.status = it.status or DOCUMENTED_STATUS
        it.reference = it.reference or url.split(" ")[0]
        it.add_proof({"type": "provider_error"})
        _documented(it, (cnames, url))
    out = []
    for name in sorted(items, key=str.lower):
        it = items[name]
        if name in KNOWN_CNAMES:
            _documented(it, KNOWN_CNAMES[name])
        if name in DOCUMENTED_PROOFS:
            proof, url = DOCUMENTED_PROOFS[name]
            it.add_proof(proof)
            if f"{DOCS}: {url}" not in it.sources:
                it.sources.append(f"{DOCS}: {url}")
        if name in KNOWN_REGEX:
            it.add("cname_regex", KNOWN_REGEX[name])
            if DOCS not in it.sources:
                it.sources.append(DOCS)
        vulnerable = it.status in ("Vulnerable", "Edge case", DOCUMENTED_STATUS) or it.nuclei
        proofs = it.proofs
        if not proofs:
            continue
        if vulnerable and (it.cnames or it.cname_regex) and any(p["type"] == "http" for p in proofs):
            # When the page's words differ from the signature's, the provider's own error page still says
            # something: a possible takeover, to verify (the engine checks the firm's words are absent).
            it.add_proof({"type": "provider_error"})
        sid = _slug(name)
        best = min((_confidence(it, p) for p in proofs), key=["high", "medium", "low"].index)
        status = it.status or "nuclei template"
        if it.status == "Not vulnerable" and it.nuclei:
            status, best = "Not vulnerable (can-i-take-over-xyz); nuclei template", "low"
        entry = {
            "id": sid, "service": name, "cnames": it.cnames, "cname_regex": it.cname_regex, "ns": it.ns,
            "addresses": it.addresses, "proofs": proofs, "confidence": best, "vulnerable": vulnerable,
            "status": status, "sources": list(dict.fromkeys(it.sources)), "reference": it.reference,
            "discussion": it.discussion, "example": _example(it, sid),
        }
        # Whether the engine can prove this service dangling at all (the lab makes a case for each).
        entry["detectable"] = Signature.from_dict(entry).detectable
        out.append(entry)
    return {
        "sources": [
            {"name": "can-i-take-over-xyz", "url": CANITAKEOVER, "file": "fingerprints.json",
             "commit": canitakeover_commit, "licence": "CC BY 4.0 — EdOverflow and contributors"},
            {"name": "nuclei-templates", "url": NUCLEI, "files": "http/takeovers/*.yaml, " + ", ".join(DNS_TEMPLATES),
             "commit": "per file, in each signature's sources", "licence": "MIT — ProjectDiscovery, Inc."},
        ],
        "items": out,
    }


def fetch_upstream(get: Callable[[str], bytes]) -> dict[str, Any]:
    """The converted signatures from the live upstream repositories (GitHub API and raw files)."""
    def commit_of(repo: str, path: str = "") -> str:
        url = f"https://api.github.com/repos/{repo}/commits?per_page=1" + (f"&path={path}" if path else "")
        data = json.loads(get(url))
        return str(data[0]["sha"]) if isinstance(data, list) and data else ""

    cito = "EdOverflow/can-i-take-over-xyz"
    fp_commit = commit_of(cito)
    fingerprints = json.loads(get(f"https://raw.githubusercontent.com/{cito}/{fp_commit or 'master'}/fingerprints.json"))
    nuclei = "projectdiscovery/nuclei-templates"
    listing = json.loads(get(f"https://api.github.com/repos/{nuclei}/contents/http/takeovers"))
    paths = [str(f["path"]) for f in listing if str(f.get("name", "")).endswith(".yaml")] + list(DNS_TEMPLATES)
    head = commit_of(nuclei)
    templates = {p: (get(f"https://raw.githubusercontent.com/{nuclei}/{head}/{p}").decode("utf-8", "replace"), head)
                 for p in paths}
    return convert(fingerprints, templates, fp_commit)


# --- docs/takeover-services.md -----------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def services_doc(items: list[dict[str, Any]], sources: list[dict[str, Any]]) -> str:
    """The table of services, what proves each dangling and where the signature comes from."""
    from watcher.owned.signatures import Signature

    sigs = [Signature.from_dict(it) for it in items]
    detectable = [s for s in sigs if s.detectable]
    lines = [
        "# Takeover services",
        "",
        "Generated from `data/takeover-signatures.json` by `omamori data takeover-doc --write` "
        "(`tests/owned/test_takeover_doc.py` fails when this file is stale). Do not edit by hand.",
        "",
        f"{len(sigs)} services; {len(detectable)} can be proved dangling, each with a dangling and a claimed "
        "lab case in `tests/owned/test_takeover_signatures.py`. Confidence: high → critical finding, medium → "
        "high, low → medium. Measured against independent records and against baddns (a coverage reference): "
        "`BENCHMARKS.md`, section \"Subdomain takeover\".",
        "",
        "Sources: " + "; ".join(f"[{s['name']}]({s['url']}) ({s['licence']}, commit "
                                + (s["commit"][:12] if re.fullmatch(r"[0-9a-f]{40}", s.get("commit", "")) else
                                   "per template, recorded in data/takeover-signatures.json") + ")"
                                for s in sources) + "; *provider documentation*: custom-domain host names as "
        "each provider documents them (the converter's `KNOWN_CNAMES`, `KNOWN_REGEX`, `DOCUMENTED_SERVICES`; "
        "the page that says so is in the row's sources; a host name is a fact, nothing else of another tool is "
        "taken).",
        "",
        "The weakest proof, *the provider answers with an error of its own*, is a possible takeover to verify "
        "(low confidence): a recognised provider's error page (HTTP " + "/".join(map(str, sorted(ERROR_STATUSES)))
        + ") that carries none of the firm's words, when the signature's own words are not on it (reworded, "
        "translated or redesigned pages). Services only documentation names have no other proof.",
        "",
        "| service | recognised by | proof of a dangling record | confidence | status | sources |",
        "|---|---|---|---|---|---|",
    ]
    for s in sorted(sigs, key=lambda s: s.service.lower()):
        recog = ", ".join([*s.cnames[:4], *(f"/{r}/" for r in s.cname_regex[:1]), *(f"NS {n}" for n in s.ns[:2]),
                           *s.addresses[:1]]) or "its page (any CNAME leaving our domains)"
        proofs = " **or** ".join(p.describe() for p in s.proofs)
        conf = s.confidence if s.detectable else "— (not provable)"
        srcs = ", ".join(x.split("@")[0].replace("nuclei-templates ", "nuclei:") for x in s.sources)
        lines.append(f"| {_cell(s.service)} | {_cell(recog)} | {_cell(proofs)} | {conf} | {_cell(s.status)} | "
                     f"{_cell(srcs)} |")
    return "\n".join(lines) + "\n"

"""Who is asked: RDAP/WHOIS/IP RDAP facts, the hosting table, config; and the cut rules."""

from __future__ import annotations

from sqlmodel import Session, select

from takedown import contacts
from tests.takedown.tdlab import JPCERT, add_candidate, take_snapshot
from watcher.clients.rdap import parse_domain, parse_network
from watcher.core.models import Candidate, Event
from watcher.takedowns import facts, requests

RDAP = {
    "objectClassName": "domain", "ldhName": "PHISH.TOP",
    "entities": [{
        "roles": ["registrar"], "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                         ["fn", {}, "text", "Cheap Names Ltd."]]],
        "entities": [{"roles": ["abuse"], "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                                   ["email", {}, "text", "abuse@cheapnames.test"]]]}],
    }],
}
IP_RDAP = {"name": "LAB-HOSTING-NET", "handle": "NET-203-0-113-0-24", "country": "JP", "entities": [
    {"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Lab Hosting"]]]},
    {"roles": ["abuse"], "vcardArray": ["vcard", [["fn", {}, "text", "Abuse"], ["email", {}, "text", "abuse@lab-hosting.test"]]]},
]}


def test_the_registration_records_carry_the_abuse_contacts():
    """The RDAP client reads both ICANN shapes into the records the takedown side uses."""
    reg = parse_domain(RDAP, "phish.top")
    assert (reg.registrar, reg.abuse_email) == ("Cheap Names Ltd.", "abuse@cheapnames.test")
    net = parse_network(IP_RDAP, "203.0.113.7")
    assert (net.org, net.abuse_email, net.country) == ("Lab Hosting", "abuse@lab-hosting.test", "JP")


def test_gather_levels_languages_and_dedupe():
    net = contacts.NetworkFacts("Lab Hosting", "NET-203-0-113-0-24", "abuse@lab-hosting.test", "JP")
    found = contacts.gather(
        domain="phish.top", registrable="phish.top",
        registrar=contacts.RegistrarFacts("Cheap Names Ltd.", "abuse@cheapnames.test"), networks=[net, net],
        hosting=contacts.HostingFacts("Example CDN", "cdn", "abuse@example-cdn.test", source="table"),
        always_inform=[JPCERT, {"name": "Council of Anti-Phishing Japan", "form_url": "https://antiphishing.test/report",
                                "language": "ja"}],
        escalate_to=[{"name": "Registry", "email": "abuse@registry.test", "language": "en"}],
    )
    rows = [(r.kind, r.email or r.form_url, r.language, r.level, r.channel) for r in found]
    assert rows == [
        ("registrar", "abuse@cheapnames.test", "en", 0, "email"),
        ("cdn", "abuse@example-cdn.test", "en", 0, "email"),
        ("hosting", "abuse@lab-hosting.test", "ja", 0, "email"),  # a JP network: Japanese
        ("cert", "phishing@jpcert.test", "ja", 0, "email"),
        ("cert", "https://antiphishing.test/report", "ja", 0, "webform"),
        ("other", "abuse@registry.test", "en", 1, "email"),
    ]
    jp = contacts.gather(domain="x.jp", registrable="x.jp",
                         registrar=contacts.RegistrarFacts("JP Registrar", "abuse@jp-registrar.test", "whois"))
    assert jp[0].language == "ja" and jp[0].source == "WHOIS abuse contact"  # a .jp registrar gets Japanese


def test_cut_the_firm_and_the_phisher():
    rs = [contacts.Recipient("registrar", "r", email="abuse@phish.top"),
          contacts.Recipient("hosting", "h", email="security@hoshizora-sec.co.jp"),
          contacts.Recipient("cert", "c", email="soc@it.hoshizora-hd.co.jp"),
          contacts.Recipient("hosting", "h2", email="noc@www.phish.top"),
          contacts.Recipient("other", "bad", email="not an address"),
          contacts.Recipient("registrar", "ok", email="abuse@cheapnames.test")]
    kept, cut = contacts.cut(rs, protected_domains=["hoshizora-sec.co.jp", "hoshizora-hd.co.jp"],
                             domain="www.phish.top", registrable="phish.top")
    assert [r.email for r in kept] == ["abuse@cheapnames.test"]
    why = {c.recipient.email: c.why for c in cut}
    assert "tip off" in why["abuse@phish.top"] and "tip off" in why["noc@www.phish.top"]
    assert "firm's own" in why["security@hoshizora-sec.co.jp"] and "firm's own" in why["soc@it.hoshizora-hd.co.jp"]


def test_free_hosting_service_at_the_registrable_domain_is_kept():
    hosting = contacts.HostingFacts("FreeHost", "free_hosting", "abuse@freehost.test")
    rs = [contacts.Recipient("hosting", "FreeHost", email="abuse@freehost.test"),
          contacts.Recipient("other", "phisher", email="admin@evil.freehost.test")]
    kept, cut = contacts.cut(rs, protected_domains=[], domain="evil.freehost.test", registrable="freehost.test",
                             hosting=hosting)
    assert [r.email for r in kept] == ["abuse@freehost.test"]
    assert [c.recipient.email for c in cut] == ["admin@evil.freehost.test"]


def test_recipients_that_are_the_firm_or_the_phisher_are_cut_on_the_lab(make_ctx, world):
    # A lookalike on the firm's own network (its IP RDAP abuse contact is the firm), whose registrar's
    # abuse address is at the lookalike itself, and a misconfigured always-inform party at a group domain.
    ctx = make_ctx(takedown={"always_inform": [JPCERT, {"name": "group SOC", "email": "soc@hoshizora-hd.co.jp"}]})
    name = "hoshizora-verify.xyz"
    world.apply("register_lookalike", name=name, address="192.0.2.99", site="clone-exact")
    world.rdap.set_domain(name, registrar="Shady Registrar", abuse_email=f"abuse@{name}", statuses=[])
    cand = add_candidate(ctx, name)
    take_snapshot(ctx, world, cand)
    with Session(ctx.engine, expire_on_commit=False) as s:
        drafts = requests.confirm(ctx, s, s.get(Candidate, cand.id), actor="analyst")
        s.commit()
        assert [d.recipient for d in drafts] == ["phishing@jpcert.test"]
        cuts = {e.detail["recipient"]: e.detail["why"] for e in
                s.exec(select(Event).where(Event.action == "takedown.recipient_cut")).all()}
    assert set(cuts) == {f"abuse@{name}", "security@hoshizora-sec.co.jp", "soc@hoshizora-hd.co.jp"}


def test_the_snapshot_jobs_format_and_a_free_hosting_service(ctx):
    """Snapshot.rdap as the snapshot job writes it ({"domain": Registration, "ip": Network} as dicts)
    and Snapshot.hosting as watcher.clients.hosting.Hosting: no live lookup is needed."""
    from watcher.core.models import Snapshot

    name = "hoshizora-login.pages.dev"
    cand = add_candidate(ctx, name)
    with Session(ctx.engine, expire_on_commit=False) as s:
        c = s.get(Candidate, cand.id)
        c.registrable = name  # pages.dev is on the public suffix list: each site is its own registrable name
        snap = Snapshot(
            candidate_id=c.id, taken_at=ctx.now(),
            dns={"name": name, "records": {"A": ["198.51.100.7"], "CNAME": []}, "statuses": {}},
            rdap={"domain": {"name": name, "source": "rdap", "registrar": "Cheap Names Ltd.",
                             "abuse_email": "abuse@cheapnames.test"},
                  "ip": {"address": "198.51.100.7", "org": "Example CDN", "name": "EXAMPLE-CDN",
                         "abuse_email": "abuse@example-cdn.test", "country": "US"}},
            hosting={"service": "Cloudflare Pages / Workers", "kind": "free_hosting",
                     "abuse_email": "abuse@cloudflare.test", "form_url": "https://abuse.cloudflare.test/",
                     "source": "https://www.cloudflare.com/trust-hub/reporting-abuse/", "matched": "host"},
        )
        s.add(snap)
        s.flush()
        who = facts.recipients_for(ctx, s, c, snap)
        kept, cut = who.recipients, who.cuts
    rows = [(r.kind, r.name, r.address, r.language) for r in kept]
    assert rows == [("registrar", "Cheap Names Ltd.", "abuse@cheapnames.test", "en"),
                    ("hosting", "Cloudflare Pages / Workers", "abuse@cloudflare.test", "en"),
                    ("hosting", "Example CDN", "abuse@example-cdn.test", "en"),
                    ("cert", "JPCERT/CC", "phishing@jpcert.test", "ja")]
    assert cut == []

"""The whole lab world: every server started together, a scenario applied, timed events played.

Everything that changes the world is an *action* (`World.apply(name, **params)`); the scenario's
initial state, its timed `[[events]]`, the control API and `python -m lab event` all use the same
actions, so a test, the demo and a person at the CLI drive the world the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab import scenario as sc
from lab.blocklists import LabBlocklists
from lab.certstream import LabCertstream
from lab.control import ControlAPI
from lab.ct import LabCTLog
from lab.dns import LabDNS
from lab.imap import LabIMAP
from lab.mailbox import MailResponder
from lab.misp import LabMISP
from lab.pki import TRUSTED_CA, LabPKI
from lab.rdap import LabRDAP
from lab.smtp import LabSMTP
from lab.web import LabWeb
from lab.webhooks import LabSyslog, LabWebhooks
from lab.whois import LabWhois

DATA_LAB = Path(__file__).resolve().parent.parent / "data" / "lab"
DEFAULT_SCENARIO = DATA_LAB / "small.toml"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class World:
    """All lab servers plus the scenario state. Use `World.start(path, **overrides)`; stop with `stop()`."""

    def __init__(self, scenario: sc.Scenario, *, time_scale: float = 1.0, run_events: bool = True,
                 noise_rate: float | None = None, sequence_interval: float | None = None,
                 heartbeat_interval: float | None = None, suspend_delay: float | None = None,
                 dns_delay: float | None = None, ports: dict[str, int] | None = None) -> None:
        self.scenario = scenario
        s = scenario.settings
        self.time_scale = time_scale
        self.run_events = run_events
        self.suspend_delay = suspend_delay
        p = {**s.get("ports", {}), **(ports or {})}
        self.whois_tlds = tuple(s.get("whois_tlds", ["jp"]))
        self.pki = LabPKI()
        self.dns = LabDNS(port=p.get("dns", 0), delay=dns_delay if dns_delay is not None else s.get("dns_delay", 0.0))
        self.dns.allow_axfr.update(s.get("axfr_zones", []))  # the firm's own zone transfers to its tools
        self.rdap = LabRDAP(port=p.get("rdap", 0), whois_only_tlds=self.whois_tlds)
        self.whois = LabWhois(port=p.get("whois", 0), tlds=self.whois_tlds)
        self.ct = LabCTLog(self.pki, port=p.get("ct", 0),
                           sequence_interval=sequence_interval or s.get("sequence_interval", 0.2),
                           noise_rate=noise_rate if noise_rate is not None else s.get("noise_rate", 0.0),
                           mmd=s.get("mmd", 60), max_batch=s.get("max_batch", 256))
        self.certstream = LabCertstream(self.ct, port=p.get("certstream", 0),
                                        heartbeat_interval=heartbeat_interval or s.get("heartbeat_interval", 15.0))
        self.web = LabWeb(self.pki, port=p.get("web", 0))
        self.smtp = LabSMTP(self.pki, port=p.get("smtp", 0))
        # The firm's mailboxes over IMAPS (lab-CA certificate): reports in INBOX, answers to takedown
        # requests in `takedown_folder`, put there by the mail responder (auto-replies, bounces).
        mailbox = s.get("mailbox", {})
        self.mailbox_user = str(mailbox.get("user", "brand-security@hzsec.com"))
        self.mailbox_password = str(mailbox.get("password", "lab-password"))
        self.takedown_folder = str(mailbox.get("takedown_folder", "Takedown"))
        self.imap = LabIMAP(port=p.get("imap", 0), pki=self.pki,
                            users={self.mailbox_user: self.mailbox_password,
                                   "abuse@hoshizora-sec.co.jp": self.mailbox_password})
        self.imap.folders.setdefault(self.takedown_folder, [])
        self.responder = MailResponder(self._deliver_answer)
        self.smtp.listeners.append(self.responder)
        # Browser blocklists (Web Risk, Netcraft, APWG eCX) that list a submitted URL after a delay.
        self.blocklists = LabBlocklists(port=p.get("blocklists", 0),
                                        listing_delay=float(s.get("listing_delay", 3.0)))
        self.webhooks = LabWebhooks(port=p.get("webhooks", 0))
        self.syslog = LabSyslog(port=p.get("syslog", 0))
        self.misp = LabMISP(port=p.get("misp", 0))
        self.control = ControlAPI(self, port=p.get("control", 0))
        # The firm's signing certificate (S/MIME, evidence manifests), issued by the lab CA.
        self._signer = self.pki.signer(s.get("signer_email", "brand-security@hoshizora-sec.co.jp"),
                                       s.get("signer_org", "Hoshizora Securities Co., Ltd."))
        self.registrations: dict[str, dict[str, Any]] = {}
        self.registrar_behaviour: dict[str, dict[str, Any]] = {}
        self.timeline: list[dict[str, Any]] = []
        self._pending: list[sc.Action] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._runner: threading.Thread | None = None
        self._t0 = 0.0
        self.started = False

    # --- life cycle ---------------------------------------------------------------------------

    @classmethod
    def start(cls, scenario_path: str | Path | None = None, **overrides: Any) -> World:
        world = cls(sc.load(scenario_path or DEFAULT_SCENARIO), **overrides)
        try:
            world.begin()
        except Exception:
            world.stop()
            raise
        return world

    def servers(self) -> list[Any]:
        return [self.dns, self.rdap, self.whois, self.ct, self.certstream, self.web, self.smtp, self.imap,
                self.blocklists, self.webhooks, self.syslog, self.misp, self.control]

    def begin(self) -> World:
        for server in self.servers():
            server.start()
        self.started = True
        for reg in self.scenario.registrars:
            self.apply("registrar", **reg)
        for net in self.scenario.networks:
            self.apply("network", **net)
        self._t0 = time.monotonic()
        now_actions = [a for a in self.scenario.actions if a.at <= 0 or self.time_scale == 0]
        self._pending = [a for a in self.scenario.actions if a not in now_actions]
        for a in now_actions:
            self._run(a)
        self.ct.integrate()
        if self._pending and self.run_events:
            self._runner = threading.Thread(target=self._play, name="lab-events", daemon=True)
            self._runner.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            self._runner.join(timeout=5)
        for server in reversed(self.servers()):
            try:
                server.stop()
            except Exception:  # stopping is best effort: one stuck server must not keep the others up
                pass
        self.pki.close()
        self.started = False

    def __enter__(self) -> World:
        return self if self.started else self.begin()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- timed events -------------------------------------------------------------------------

    def _play(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._pending:
                    return
                nxt = self._pending[0]
            due = self._t0 + nxt.at * self.time_scale
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            with self._lock:
                if self._pending and self._pending[0] is nxt:
                    self._pending.pop(0)
                else:
                    continue
            self._run(nxt)

    def fire_pending(self) -> int:
        """Apply every timed event that has not happened yet, now (tests use this instead of sleeping)."""
        with self._lock:
            todo, self._pending = self._pending, []
        for a in todo:
            self._run(a)
        self.ct.integrate()
        return len(todo)

    def integrate_ct(self) -> None:
        """Put every certificate issued so far into the CT log's tree (a new signed tree head)."""
        self.ct.integrate()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"at": a.at, "action": a.action, "label": a.label, "params": a.params} for a in self._pending]

    def _run(self, a: sc.Action) -> None:
        entry: dict[str, Any] = {"at": a.at, "action": a.action, "label": a.label, "params": a.params,
                                 "applied_at": dt.datetime.now(dt.UTC).isoformat()}
        try:
            entry["result"] = self.apply(a.action, **a.params)
        except Exception as exc:  # a bad event is recorded, the world goes on
            entry["error"] = repr(exc)
        with self._lock:
            self.timeline.append(entry)

    # --- actions ------------------------------------------------------------------------------

    def apply(self, action: str, **params: Any) -> Any:
        fn: Callable[..., Any] | None = getattr(self, f"act_{action}", None)
        if fn is None:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(self.actions())}")
        return fn(**params)

    @classmethod
    def actions(cls) -> list[str]:
        return sorted(n.removeprefix("act_") for n in dir(cls) if n.startswith("act_"))

    def _whois_only(self, name: str) -> bool:
        return name.rsplit(".", 1)[-1] in self.whois_tlds

    def act_registrar(self, name: str, abuse_email: str | None = None, suspend_after: str | float | None = None,
                      auto_reply: str | None = None, **extra: Any) -> None:
        """Declare a registrar's behaviour; with `suspend_after` its abuse desk suspends reported domains,
        with `auto_reply` (a ticket prefix) it answers every request with a ticket number."""
        self.registrar_behaviour[name] = {"abuse_email": abuse_email, "suspend_after": suspend_after, **extra}
        if abuse_email and auto_reply:
            self.responder.autoreply(abuse_email, auto_reply)
        if abuse_email and suspend_after is not None:
            delay = self.suspend_delay if self.suspend_delay is not None else sc.parse_offset(suspend_after)

            def domains(registrar: str = name) -> list[str]:
                return [d for d, r in self.registrations.items()
                        if r["registrar"] == registrar and not r.get("owned") and not r.get("lapsed")]

            def suspend(domain: str, registrar: str = name) -> None:
                self.act_suspend(domain, registrar=registrar)

            self.smtp.abuse_desk(abuse_email, suspend, domains, delay)

    def _deliver_answer(self, raw: bytes) -> None:
        self.imap.add_message(raw, folder=self.takedown_folder)

    def act_desk_autoreply(self, address: str, prefix: str = "LAB") -> None:
        """The desk at `address` answers each request with an auto-reply carrying a ticket number."""
        self.responder.autoreply(address, prefix)

    def act_mailbox_bounce(self, address: str, status: str = "5.1.1",
                           diagnostic: str = "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown") -> None:
        """Mail to `address` is accepted by the relay, then bounced by the desk's server (an RFC 3464 DSN)."""
        self.responder.bounce(address, status, diagnostic)

    def act_desk_reply(self, address: str, text: str) -> None:
        """A person at `address` answers each request with `text`."""
        self.responder.reply(address, text)

    def act_blocklist_delay(self, seconds: float, service: str | None = None) -> None:
        """How long after a submission the lab blocklists list a URL."""
        self.blocklists.set_delay(float(seconds), service)

    def act_network(self, cidr: str, name: str, abuse_email: str, country: str = "JP", org: str = "",
                    remove_after: str | float | None = None) -> None:
        """An IP network (RDAP); with `remove_after` its abuse desk removes reported content after that delay."""
        self.rdap.set_network(cidr, name, abuse_email, country, org)
        if remove_after is not None:
            delay = self.suspend_delay if self.suspend_delay is not None else sc.parse_offset(remove_after)

            def domains() -> list[str]:
                return [d for d, r in self.registrations.items() if not r.get("owned") and not r.get("lapsed")]

            self.smtp.abuse_desk(abuse_email, self.act_remove_content, domains, delay)

    def act_remove_content(self, domain: str) -> None:
        """What a host does on a report: the kit is deleted (a hacked site keeps its own pages)."""
        for h in self._hosts_under(domain.lower().rstrip(".")):
            site = self.web.site_for(h)
            if site is None:
                continue
            if site.kind == "hacked":
                self.web.publish(h, "hacked", **{**site.options, "removed": True})
            elif site.kind != "suspended":
                self.web.publish(h, "notfound")

    def act_register_domain(self, name: str, registrar: str = "Lab Registrar K.K.", registrant: str | None = None,
                            created: Any = None, expires: Any = None, statuses: list[str] | None = None,
                            nameservers: list[str] | None = None, dnssec: bool = False, owned: bool = False,
                            address: str | list[str] | None = None, site: str | None = None,
                            site_options: dict[str, Any] | None = None, mx: str | list[str] | None = None,
                            abuse_email: str | None = None, registrant_email: str | None = None) -> dict[str, Any]:
        """A registration (RDAP, or WHOIS for WHOIS-only TLDs) with its zone (SOA, NS, optional A/MX) and site."""
        name = name.lower().rstrip(".")
        created_dt = sc.parse_date(created) or dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=3)
        expires_dt = sc.parse_date(expires) or created_dt + dt.timedelta(days=365 * (1 + (dt.datetime.now(dt.UTC)
                                                                                         - created_dt).days // 365))
        ns = list(nameservers or ["ns1.lab-dns.test", "ns2.lab-dns.test"])
        if self._whois_only(name):
            self.whois.set_domain(name, registrant or "Lab Registrant", created_dt.date(), expires_dt.date(),
                                  "Active", ns, registrar)
        else:
            self.rdap.set_domain(name, registrar=registrar, abuse_email=abuse_email, created=created_dt,
                                 expires=expires_dt,
                                 statuses=statuses if statuses is not None else ["client transfer prohibited"],
                                 nameservers=ns, dnssec=dnssec, registrant=registrant,
                                 registrant_email=registrant_email)
        self.dns.set_rcode(name, None)
        self.dns.add_zone(name, ns)
        if address:
            self.dns.set(name, "A", _as_list(address))
        if mx:
            self.dns.set(name, "MX", _as_list(mx))
        if site:
            self.web.publish(name, site, **(site_options or {}))
        with self._lock:
            self.registrations[name] = {"registrar": registrar, "owned": owned, "registrant": registrant,
                                        "created": created_dt.isoformat(), "expires": expires_dt.isoformat()}
        return {"domain": name, "whois": self._whois_only(name)}

    def act_register_lookalike(self, name: str, registrar: str = "Cheap Names Ltd.", domain: str | None = None,
                               address: str = "203.0.113.10", site: str | None = None,
                               site_options: dict[str, Any] | None = None, hosts: list[str] | None = None,
                               certificate: bool | list[str] = False, precert: bool = True,
                               issuer: str = TRUSTED_CA, created: Any = None, registrant: str | None = None
                               ) -> dict[str, Any]:
        """A lookalike: registration of `domain` (default `name`), A records, site, optionally a CT certificate."""
        name = name.lower().rstrip(".")
        domain = (domain or name).lower().rstrip(".")
        if domain not in self.registrations or self.registrations[domain].get("lapsed"):
            self.act_register_domain(domain, registrar=registrar, created=created or "-1d",
                                     registrant=registrant or "REDACTED FOR PRIVACY", statuses=[])
        names = [name, *(f"{h}.{name}" for h in (hosts or []))]
        for n in names:
            self.dns.set(n, "A", address)
            if site:
                self.web.publish(n, site, **(site_options or {}))
        result: dict[str, Any] = {"domain": domain, "names": names}
        if certificate:
            cert_names = names if certificate is True else _as_list(certificate)
            result["ct_index"] = self.act_issue_certificate(cert_names, precert=precert, issuer=issuer)
        return result

    def act_issue_certificate(self, names: list[str] | str, precert: bool = False, issuer: str = TRUSTED_CA,
                              final: bool = False) -> int:
        """Log a certificate (or a precertificate, plus its final certificate when `final`)."""
        index = self.ct.add_certificate(_as_list(names), precert=precert, issuer=issuer)
        if precert and final:
            self.ct.add_certificate(_as_list(names), precert=False, issuer=issuer)
        return index

    def act_publish(self, host: str, kind: str, options: dict[str, Any] | None = None, **more: Any) -> None:
        self.web.publish(host, kind, **{**(options or {}), **more})

    def act_unpublish(self, host: str) -> None:
        self.web.unpublish(host)

    def _hosts_under(self, domain: str) -> list[str]:
        return [h for h in self.web.sites() if h == domain or h.endswith("." + domain)]

    def act_suspend(self, domain: str, registrar: str | None = None) -> None:
        """What a registrar does to a reported domain: DNS NXDOMAIN, RDAP `client hold`, suspension page."""
        domain = domain.lower().rstrip(".")
        reg = registrar or self.registrations.get(domain, {}).get("registrar", "Lab Registrar K.K.")
        self.dns.set_rcode(domain, "NXDOMAIN")
        if self._whois_only(domain):
            self.whois.set_status(domain, "Suspended")
        else:
            self.rdap.add_status(domain, "client hold")
        for h in self._hosts_under(domain):
            self.web.suspend(h, registrar=reg)
        with self._lock:
            if domain in self.registrations:
                self.registrations[domain]["suspended"] = dt.datetime.now(dt.UTC).isoformat()

    def act_lapse(self, name: str) -> None:
        """A registration expires and is deleted: RDAP 404 / WHOIS No match, NXDOMAIN, sites gone."""
        name = name.lower().rstrip(".")
        self.rdap.delete_domain(name)
        self.whois.delete_domain(name)
        for n in self.dns.names():
            if n == name or n.endswith("." + name):
                self.dns.delete(n)
        self.dns.set_rcode(name, "NXDOMAIN")
        for h in self._hosts_under(name):
            self.web.unpublish(h)
        with self._lock:
            self.registrations.setdefault(name, {"registrar": "", "owned": False})["lapsed"] = True

    def act_reregister(self, name: str, registrar: str = "Cheap Names Ltd.", registrant: str = "Domain Hunter LLC",
                       address: str = "198.51.100.20", site: str | None = "parked-onamae",
                       created: Any = None) -> dict[str, Any]:
        """Someone else registers a name (drop-catch): fresh creation date, new owner, new hosting."""
        name = name.lower().rstrip(".")
        for n in self.dns.names():
            if n == name or n.endswith("." + name):
                self.dns.delete(n)
        result = self.act_register_domain(name, registrar=registrar, registrant=registrant,
                                          created=created or dt.datetime.now(dt.UTC).replace(microsecond=0),
                                          address=address, site=site, statuses=[])
        return result

    def act_dangle(self, host: str, target: str) -> None:
        """Point `host` at `target` with a CNAME, where `target` no longer resolves (a released resource)."""
        self.dns.delete(host)
        self.dns.set(host, "CNAME", target)
        self.dns.delete(target)
        self.web.unpublish(host)

    def act_set_record(self, name: str, type: str, values: str | list[str], ttl: int = 300) -> None:
        self.dns.set(name, type, values, ttl)

    def act_delete_record(self, name: str, type: str | None = None) -> None:
        self.dns.delete(name, type)

    def act_set_ptr(self, address: str, host: str) -> None:
        """Reverse DNS of a sending server (what a DMARC report's source IP resolves to)."""
        self.dns.set_ptr(address, host)

    def act_load_zone(self, file: str) -> list[str]:
        """A BIND zone file (relative to data/lab/), as a DNS team exports it."""
        path = Path(file) if Path(file).is_absolute() else DATA_LAB / file
        return self.dns.load_zone(path.read_text(encoding="utf-8"))

    def act_publish_bimi(self, domain: str, logo: str = "tiny-ps", certificate: str = "valid",
                         host: str | None = None) -> dict[str, Any]:
        """The BIMI files of ``domain`` on ``host`` (default www.<domain>): the logo at /bimi/logo.svg and a
        mark certificate from the lab's MVA at /bimi/vmc.pem. ``certificate``: valid, cmc, expired,
        untrusted (another CA), other-logo (proves a different logo), wrong-domain, no-eku, none."""
        from lab.mailfiles import logo_svg
        from lab.pki import UNEXPECTED_CA

        svg = logo_svg(logo)
        now = dt.datetime.now(dt.UTC)
        pem = ""
        if certificate != "none":
            kw: dict[str, Any] = {}
            if certificate == "expired":
                kw = {"not_before": now - dt.timedelta(days=400), "days": 365}
            elif certificate == "untrusted":
                kw = {"issuer": UNEXPECTED_CA}
            elif certificate == "other-logo":
                kw = {"logo_in_certificate": logo_svg("other")}
            elif certificate == "cmc":
                kw = {"mark_type": "Prior Use Mark"}
            elif certificate == "no-eku":
                kw = {"bimi_eku": False}
            cert_domain = "hoshizora-other.test" if certificate == "wrong-domain" else domain
            pem = self.pki.issue_mark_certificate(cert_domain, svg, **kw)
        options: dict[str, Any] = {"svg": svg.decode()}
        if pem:
            options["pem"] = pem
        self.web.publish(host or f"www.{domain}", "bimi", **options)
        return {"host": host or f"www.{domain}", "certificate": certificate, "logo": logo}

    def act_set_rcode(self, name: str, rcode: str | None = None) -> None:
        self.dns.set_rcode(name, rcode)

    def act_noise(self, rate: float | None = None, count: int = 0) -> int:
        """Set the background certificate rate (per second), and/or add `count` noise certificates now."""
        if rate is not None:
            self.ct.noise_rate = float(rate)
        if count:
            self.ct.add_noise(int(count))
        return self.ct.sth.size

    def act_ct_fault(self, kind: str, n: int = 1, index: int | None = None, retry_after: int = 1) -> None:
        """'429' / '500' for the next n CT requests, 'forge' the tree head, 'malform' entry `index`,
        'stall' (entries stop being served while the tree grows), 'clear'."""
        if kind in ("429", "500", "503"):
            self.ct.fail_next(n, int(kind), retry_after)
        elif kind == "forge":
            self.ct.forge_sth(True)
        elif kind == "malform" and index is not None:
            self.ct.malform_entry(index)
        elif kind == "stall":
            self.ct.stall_entries(True)
        elif kind == "clear":
            self.ct.reset_faults()
        else:
            raise ValueError(f"bad CT fault {kind!r}")

    def act_rdap_fault(self, name: str, status: int = 429, times: int = 1, retry_after: int = 1) -> None:
        self.rdap.fail(name, status, times, retry_after)

    def act_certstream_stop(self) -> None:
        """The certstream server stops (a feed that falls silent); the CT log itself goes on."""
        self.certstream.stop()

    def act_webhook_fault(self, n: int = 1, status: int = 500) -> None:
        """The next n webhook posts fail with `status` (a chat service that is down)."""
        self.webhooks.fail_next(n, status)

    def act_smtp_fault(self, n: int = 1, code: int = 451, recipient: str | None = None) -> None:
        if recipient:
            self.smtp.reject_recipient(recipient, code)
        else:
            self.smtp.fail_next(n, code)

    # --- addresses ----------------------------------------------------------------------------

    def endpoints(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.path,
            "dns": {"host": self.dns.host, "port": self.dns.port, "axfr_zones": sorted(self.dns.allow_axfr)},
            "rdap": {"url": self.rdap.url, "bootstrap_url": self.rdap.bootstrap_url,
                     "ipv4_bootstrap_url": self.rdap.ipv4_bootstrap_url},
            "whois": {"host": self.whois.host, "port": self.whois.port, "tlds": list(self.whois_tlds)},
            "ct": {"url": self.ct.url, "rfc6962_url": self.ct.rfc6962_url, "static_url": self.ct.static_url,
                   "log_list_url": self.ct.log_list_url, "public_key_pem": self.ct.public_key_pem,
                   "public_key_der_b64": base64.b64encode(self.ct.public_key_der).decode(),
                   "log_id": base64.b64encode(self.ct.log_id).decode(), "origin": self.ct.origin,
                   "mmd": self.ct.mmd, "max_batch": self.ct.max_batch},
            "certstream": {"url": self.certstream.url},
            "web": {"proxy_url": self.web.proxy_url, "ca_file": self.web.ca_file, "host": self.web.host,
                    "port": self.web.port},
            "smtp": {"host": self.smtp.host, "port": self.smtp.port, "api_url": self.smtp.api_url},
            "imap": {"host": self.imap.host, "port": self.imap.port, "ssl": True, "ca_file": self.imap.ca_file,
                     "user": self.mailbox_user, "password": self.mailbox_password,
                     "takedown_folder": self.takedown_folder},
            "blocklists": {"url": self.blocklists.url.rstrip("/")},
            "webhooks": {"url": self.webhooks.url, "slack_url": self.webhooks.url_for("slack"),
                         "teams_url": self.webhooks.url_for("teams"), "json_url": self.webhooks.url_for("json")},
            "syslog": {"host": self.syslog.host, "port": self.syslog.port},
            "misp": {"url": self.misp.url, "key": self.misp.key},
            "pki": {"ca_file": self.pki.ca_file, "signer_cert": self._signer[0], "signer_key": self._signer[1],
                    "mark_ca_file": self.pki.mark_ca_file, "smime_ca_file": self.pki.smime_ca_file},
            "control": {"url": self.control.url},
        }

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"registrations": dict(self.registrations), "sites": self.web.sites(),
                    "ct_tree_size": self.ct.sth.size, "messages": len(self.smtp.messages()),
                    "desks": {a: d.reports for a, d in self.smtp.desks.items()},
                    "webhooks": len(self.webhooks.received()), "syslog": len(self.syslog.messages()),
                    "misp_events": len(self.misp.events()),
                    "timeline": list(self.timeline), "pending": self.pending()}

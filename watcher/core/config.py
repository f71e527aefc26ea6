"""Settings: read once, here, from a TOML file plus ``OMAMORI_*`` environment variables.

No other module reads the environment or the config file. A wrong key or value stops the program
with one line that names the key and the file (``ConfigError``), because a service that starts
with a half-understood configuration does the wrong thing quietly for days.

Environment variables override any key: ``OMAMORI_<SECTION>__<KEY>`` (double underscore between
levels), e.g. ``OMAMORI_SMTP__PASSWORD`` or ``OMAMORI_DATABASE__URL``. Secrets belong there, not in
the file. ``OMAMORI_CONFIG`` names the config file itself.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DEFAULT_CONFIG = DATA / "config.toml"
ENV_PREFIX = "OMAMORI_"


def _empty_is_none(v: Any) -> Any:
    return None if v == "" else v


# An optional path where "" in the file means "not set".
OptPath = Annotated[Path | None, BeforeValidator(_empty_is_none)]


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the user sees."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class ServiceSettings(Section):
    state_dir: Path = Path("data/state")
    brands_file: Path = Path("data/brands.toml")
    # Lab mode lets the crawler and checks reach loopback/private addresses. Never in production.
    lab_mode: bool = False
    timezone: str = "Asia/Tokyo"
    language: Literal["ja", "en"] = "ja"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `omamori run` refuses to start without a brand (a missing brands file would watch nothing,
    # silently); set this (or pass --allow-no-brands) to run the owned-domain side alone on purpose.
    allow_no_brands: bool = False
    # One active `omamori run` per database: the active one renews a lease every third of this; a
    # standby polls every standby_poll_seconds and takes over once the lease has expired, so a dead
    # scheduler is replaced within lease_seconds + standby_poll_seconds.
    lease_seconds: float = Field(30.0, ge=1)
    standby_poll_seconds: float = Field(10.0, gt=0)


class DatabaseSettings(Section):
    # Empty: SQLite at <state_dir>/omamori.db. Otherwise a SQLAlchemy URL, e.g.
    # postgresql+psycopg://omamori@db.internal/omamori
    url: str = ""
    busy_timeout_ms: int = Field(15000, ge=100)
    echo: bool = False


class DnsSettings(Section):
    # Empty list: the system resolver (/etc/resolv.conf).
    nameservers: list[str] = []
    port: int = Field(53, ge=1, le=65535)
    timeout: float = Field(2.0, gt=0)
    retries: int = Field(2, ge=0)
    concurrency: int = Field(100, ge=1)
    rate_limit: float = Field(500.0, gt=0, description="queries per second, all servers together")
    use_tcp: bool = False


class RdapSettings(Section):
    bootstrap_file: Path = Path("data/rdap-bootstrap.json")
    ip_bootstrap_file: Path = Path("data/rdap-bootstrap-ipv4.json")
    # TLD -> RDAP base URL, for TLDs missing from the bootstrap or to point at a mirror.
    overrides: dict[str, str] = {}
    # TLDs without RDAP, looked up over WHOIS: TLD -> "host" or "host:port".
    whois_servers: dict[str, str] = {"jp": "whois.jprs.jp", "cn": "whois.cnnic.cn"}
    timeout: float = Field(10.0, gt=0)
    requests_per_minute: int = Field(30, ge=1, description="per RDAP server")
    cache_hours: float = Field(12.0, ge=0)
    # A name DNS does not know (NXDOMAIN) whose registry said "not registered": that answer stands this
    # long for every host (a registration shows in DNS, where the check looks every time). A watch list
    # is mostly such names; asking each at every re-check is what bounded a cycle at 30 a minute.
    unregistered_cache_hours: float = Field(720.0, ge=0)
    allow_http: bool = False


class CtSettings(Section):
    log_list: Path = Path("data/ct-log-list.json")
    # Read logs directly (RFC 6962 and static-ct-api). Empty include list: every usable log.
    read_logs: bool = True
    include_logs: list[str] = []
    exclude_logs: list[str] = []
    # Where a new log starts: "now" (the current tree size) or "beginning".
    start_at: Literal["now", "beginning"] = "now"
    max_batch: int = Field(256, ge=1, le=1024)
    parallel_logs: int = Field(8, ge=1)
    poll_seconds: float = Field(10.0, gt=0)
    # Each log is read by one host at a time (lease ``ct:<log id>``, renewed after every batch); a
    # reader that dies leaves its logs to the next pass of any host after this long.
    lease_seconds: float = Field(60.0, ge=5)
    stale_after_minutes: float = Field(60.0, gt=0)
    # The watchdog: a log whose saved position is more than this many entries, or has been behind its
    # verified tree head for more than this many minutes, opens a ct_log_lagging Finding at once
    # (checked after every ct_poll and by the health job, whatever the reader did or raised).
    lag_max_entries: int = Field(200_000, ge=1)
    lag_max_minutes: float = Field(30.0, gt=0)
    # certstream-compatible servers (e.g. certstream-server-go), ws:// or wss:// URLs.
    certstream_urls: list[str] = []
    certstream_silence_minutes: float = Field(5.0, gt=0)


class CrawlSettings(Section):
    browser_executable: Path = Path("/usr/bin/chromium")
    # Chromium's sandbox stays on unless the process is root (CI, the lab); see crawlers/README.md.
    sandbox: Literal["auto", "on", "off"] = "auto"
    user_agent_desktop: str = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    user_agent_mobile: str = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    )
    profiles: list[Literal["desktop", "mobile"]] = ["desktop"]
    # Egress proxy, so crawls leave from a network that is not the firm's. http://host:port
    proxy: str = ""
    # Addresses or networks fetched even though the guard refuses them ("10.0.5.7", "10.0.5.0/24"):
    # an explicit exception, e.g. a test host inside the firm. Empty in production.
    allow_addresses: list[str] = []
    ca_file: OptPath = None
    ignore_https_errors: bool = True
    page_timeout_seconds: float = Field(20.0, gt=0)
    settle_seconds: float = Field(1.5, ge=0)
    max_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(8, ge=0)
    max_page_height: int = Field(6000, ge=600)
    batch_size: int = Field(20, ge=1)
    # Pages open at once in the one browser of a batch (of a worker's crawler). Four keep one core busy
    # while pages load and settle: on one core 225 pages a minute against 183 with two, at the same CPU
    # per page (BENCHMARKS.md "Capture"); each open page is a renderer (about 100 MB).
    concurrency: int = Field(4, ge=1, le=8)
    # A worker keeps one crawler process (and its browser) per task slot between batches, with fresh
    # browser contexts per batch; off: a new crawler per batch (seconds of start-up each time).
    keep_browser: bool = True
    # Brand slug -> logo image file, when cropping it from the reference capture is not good enough.
    logo_files: dict[str, Path] = {}
    viewport_width: int = 1280
    viewport_height: int = 800


    @field_validator("allow_addresses")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for item in v:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an address or network (e.g. 10.0.5.7 or 10.0.5.0/24)") from None
        return v

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, v: str) -> str:
        return proxy_url(v)


def proxy_url(v: str) -> str:
    """A proxy URL as httpx takes it, or "" (none)."""
    v = v.strip()
    if not v:
        return v
    try:
        parts = urlsplit(v)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"not a proxy URL ({e}); expected http://host:port") from None
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ValueError("not a proxy URL; expected http://host:port (or https://, socks5://)")
    if port is None:
        raise ValueError("the proxy URL has no port; expected http://host:port")
    return v


class SmtpSettings(Section):
    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password: SecretStr = SecretStr("")
    from_address: str = "brand-security@example.co.jp"
    from_name: str = "Brand Security"
    reply_to: str = ""
    timeout: float = Field(30.0, gt=0)
    ca_file: OptPath = None
    # Optional S/MIME signing of takedown requests (PEM files).
    smime_cert: OptPath = None
    smime_key: OptPath = None


class ImapSettings(Section):
    host: str = ""
    port: int = Field(993, ge=1, le=65535)
    ssl: bool = True
    username: str = ""
    password: SecretStr = SecretStr("")
    # The abuse mailbox where customers' and staff's forwarded phishing lands.
    reports_folder: str = "INBOX"
    # The mailbox where DMARC aggregate reports (rua) land.
    dmarc_folder: str = ""
    # A folder of .eml files read like the mailbox (useful without IMAP).
    eml_dir: OptPath = None
    # One reported mail queues at most this many URLs for checking; the others are kept in the report
    # (and the raw mail in the evidence store), so a mail with 100,000 links cannot flood the crawler.
    max_urls_per_mail: int = Field(20, ge=1, le=500)
    dmarc_dir: OptPath = None
    # The folder where answers to takedown requests land (the Reply-To of the requests): bounces,
    # auto-replies with ticket numbers, people's replies. Read by the ``takedown_replies`` job; "" = off.
    takedown_folder: str = ""
    # A CA bundle for the IMAP server's certificate (a private CA; the lab's). Empty: the system's.
    ca_file: OptPath = None


class FeedSettings(Section):
    """One phishing URL feed pulled by the ``feeds`` job through the egress proxy (``crawl.proxy``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    url: str
    # jpcert: JPCERT/CC phishurl-list CSV (date,URL,description); openphish: one URL a line;
    # phishtank: its JSON or CSV dump; urlhaus: its CSV dump ('#' comments); csv / json: the
    # columns or keys named below.
    format: Literal["jpcert", "openphish", "phishtank", "urlhaus", "csv", "json"]
    url_field: str = ""  # csv / json: the column or key holding the URL
    date_field: str = ""
    description_field: str = ""  # the column that names the targeted brand, if any
    records: str = ""  # json: dotted path to the list of records ("data.items"); empty: the top level
    # Every row a candidate, not only the rows that name or match one of our brands (a private feed).
    all_rows: bool = False
    max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    timeout: float = Field(60.0, gt=0)
    # No new content for this long (or no answer at all) opens a feed_silent Finding.
    silent_after_hours: float = Field(48.0, gt=0)
    enabled: bool = True


class PartySettings(Section):
    name: str
    email: str = ""
    form_url: str = ""
    language: Literal["ja", "en"] = "ja"


class TakedownSettings(Section):
    # Parties told about every confirmed phishing site, e.g. JPCERT/CC and the Council of
    # Anti-Phishing Japan. Addresses come from config, never from guesses in code.
    always_inform: list[PartySettings] = []
    # Asked only on escalation, when the first requests did not bring the site down (e.g. the TLD
    # registry, the hosting country's CERT).
    escalate_to: list[PartySettings] = []
    recheck_hours: float = Field(4.0, gt=0)
    remind_after_hours: float = Field(48.0, gt=0)
    escalate_after_hours: float = Field(96.0, gt=0)
    down_confirmations: int = Field(2, ge=1)
    max_send_attempts: int = Field(6, ge=1)
    requester_name: str = "Brand Security Team"
    requester_phone: str = ""
    # Reference tables (data/README.md): CERTs and .jp fallbacks, designated .jp registrars, shorteners.
    parties_file: Path = Path("data/takedown-parties.json")
    jp_registrars_file: Path = Path("data/jp-registrars.json")
    shorteners_file: Path = Path("data/shorteners.json")
    # Parties of ``parties_file`` told about every confirmed site (JPCERT/CC, the Council of
    # Anti-Phishing Japan), besides ``always_inform``. [] to inform nobody by default.
    cert_parties: list[str] = ["jpcert", "antiphishing"]
    # Evidence attached to a request (page HTML, screenshots, the lure, the XARF report), at most this
    # many bytes in all; what does not fit is named by its sha256 in the letter and the report.
    max_attachment_bytes: int = Field(8 * 1024 * 1024, ge=64 * 1024)
    # Evidence files up to this size are also inlined (base64) in the XARF report's ``evidence``.
    xarf_inline_bytes: int = Field(1024 * 1024, ge=0, le=5 * 1024 * 1024)
    # Hacked-site mode (takedown.policy.site_mode): a registration at least this old...
    hacked_min_age_days: int = Field(365, ge=30)


class BlocklistSettings(Section):
    """Browser blocklists: customers are protected within minutes, long before a takedown.

    A service is used when its key (or, for Netcraft, the reporter address) is set; keys belong in
    the environment: ``OMAMORI_BLOCKLISTS__WEBRISK_API_KEY``, ``..._NETCRAFT_API_KEY``, ``..._APWG_TOKEN``.
    """

    # Google Web Risk Submission API (projects.uris.submit) and lookup (uris.search).
    webrisk_url: str = "https://webrisk.googleapis.com"
    webrisk_project: str = ""  # the Google Cloud project number allowed to submit
    webrisk_api_key: SecretStr = SecretStr("")
    # Netcraft's report API v3 (report/urls, submission/<uuid>/urls).
    netcraft_url: str = "https://report.netcraft.com"
    netcraft_email: str = ""  # the reporter address Netcraft credits and notifies
    netcraft_api_key: SecretStr = SecretStr("")
    # APWG eCrime eXchange (members only): phish submissions and lookups.
    apwg_member: bool = False
    apwg_url: str = "https://api.ecrimex.net"
    apwg_token: SecretStr = SecretStr("")
    timeout: float = Field(20.0, gt=0)


class AxfrSource(Section):
    zone: str
    # The firm's own name server that allows us a zone transfer: "host" or "host:port".
    server: str


class InventorySettings(Section):
    expiry_warn_days: list[int] = [90, 60, 30, 7]
    zone_files: list[Path] = []
    # Zone transfers (AXFR) from the firm's own name servers, as another source of owned names.
    axfr: list[AxfrSource] = []
    # CAs that CAA may name (CAA "issue" domains, e.g. "digicert.com"); empty: derived from the brands'
    # allowed_issuers through watcher.owned.hygiene.CA_DOMAINS.
    caa_issuers: list[str] = []
    # Check for a registry lock (server*Prohibited) where the registry publishes EPP statuses.
    registry_lock: bool = True

    @field_validator("expiry_warn_days")
    @classmethod
    def _descending(cls, v: list[int]) -> list[int]:
        return sorted(set(v), reverse=True)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]


def _hhmm(v: str) -> str:
    hh, _, mm = v.partition(":")
    if not (hh.isdigit() and mm.isdigit() and 0 <= int(hh) < 24 and 0 <= int(mm) < 60):
        raise ValueError(f"{v!r} is not a time of day as HH:MM (e.g. 09:00)")
    return f"{int(hh):02d}:{int(mm):02d}"


class ReportSettings(Section):
    recipients: list[str] = []
    # Public URL of the published official-domains page: shown in the report and fetched by the
    # inventory job to compare with the inventory (a brand's `official_list_page` wins for that brand).
    official_list_url: str = ""
    # When the weekly report goes out, in service.timezone: once per week, whatever the restarts.
    weekday: Weekday = "mon"
    time: str = "09:00"
    # A PDF beside the HTML and CSV (WeasyPrint; the Japanese font comes from `make system`).
    pdf: bool = True
    # Public URL where the customer alert page (current fake sites) is published, if it is.
    customer_alerts_url: str = ""

    @field_validator("time")
    @classmethod
    def _time(cls, v: str) -> str:
        return _hhmm(v)


AlertRuleName = Literal["candidate_confirmed", "candidate_high_score", "approval_waiting", "takedown_stalled",
                        "owned_finding", "self_finding"]


class AlertChannelSettings(Section):
    """Where alerts go. Secrets (webhook URLs are secrets too) may come from the environment."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    type: Literal["email", "slack", "teams", "webhook", "syslog", "jsonl"]
    url: SecretStr = SecretStr("")  # slack, teams, webhook: the incoming-webhook URL
    to: list[str] = []  # email
    host: str = ""  # syslog
    port: int = Field(514, ge=1, le=65535)
    protocol: Literal["udp", "tcp"] = "udp"
    path: OptPath = None  # jsonl: the file a SIEM agent tails
    secret: SecretStr = SecretStr("")  # webhook: HMAC-SHA256 of the body in X-Omamori-Signature
    min_severity: SeverityName = "low"
    brands: list[str] = []  # empty: every brand
    digest: bool = False  # gather alerts and send one message every alerts.digest_minutes
    language: Literal["both", "ja", "en"] = "both"


class AlertRuleSettings(Section):
    what: AlertRuleName
    severity: SeverityName | None = None  # None: the rule's own (a finding's severity for findings)
    brands: list[str] = []
    channels: list[str] = []  # empty: every channel
    enabled: bool = True


class AlertsSettings(Section):
    enabled: bool = True
    channels: list[AlertChannelSettings] = []
    # Empty: the day-one rules (every rule, every channel). A rule listed here replaces its default.
    rules: list[AlertRuleSettings] = []
    reminder_hours: float = Field(24.0, gt=0)
    digest_minutes: float = Field(60.0, gt=0)
    # Local time (service.timezone) when alerts up to quiet_max_severity wait; "" for none.
    quiet_hours: str = "22:00-07:00"
    quiet_max_severity: SeverityName = "low"
    high_score: int = Field(60, ge=0, le=100, description="a candidate scoring this much is worth a look now")
    max_attempts: int = Field(5, ge=1)
    notify_resolved: bool = False
    # Links in alerts point here (the dashboard's public address).
    dashboard_url: str = ""
    # The proxy through which webhooks (Slack, Teams, JSON) are posted, when the firm's network
    # reaches them only that way; "" posts directly. Environment variables (HTTPS_PROXY) are not read.
    proxy: str = ""
    timeout: float = Field(10.0, gt=0)

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, v: str) -> str:
        return proxy_url(v)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if not v:
            return v
        start, sep, end = v.partition("-")
        if not sep:
            raise ValueError(f"{v!r} is not a range of local times like 22:00-07:00")
        return f"{_hhmm(start.strip())}-{_hhmm(end.strip())}"


class SharingSettings(Section):
    # The firm as the author of shared indicators (STIX identity); defaults to the first brand's name.
    organisation: str = ""
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = "amber"
    # MISP (e.g. the firm's ISAC): empty URL, nothing is pushed.
    misp_url: str = ""
    misp_key: SecretStr = SecretStr("")
    misp_verify_tls: bool = True
    misp_ca_file: OptPath = None
    misp_distribution: int = Field(1, ge=0, le=4, description="0 org, 1 community, 2 connected, 3 all, 4 group")
    # The proxy through which MISP is reached, if any; "" connects directly (HTTPS_PROXY is not read).
    misp_proxy: str = ""
    # The firm's key and certificate (PEM) that sign evidence-bundle manifests; default: smtp.smime_*.
    signing_cert: OptPath = None
    signing_key: OptPath = None

    @field_validator("misp_proxy")
    @classmethod
    def _proxy_url(cls, v: str) -> str:
        return proxy_url(v)


class MailSettings(Section):
    """The firm's own mail: BIMI proof, S/MIME of notices, DMARC report reading."""

    # Extra PEM roots trusted for BIMI mark certificates, beside the Mark Verifying Authority roots
    # that checkdmarc ships (the lab's MVA; a new MVA before checkdmarc knows it).
    bimi_trust_file: OptPath = None
    # A folder of sample outgoing customer notices (.eml), each checked to be S/MIME-signed by a
    # valid certificate of the firm (best practice 2).
    notice_samples: OptPath = None
    # PEM roots trusted for the notices' signatures; empty: the certifi bundle.
    smime_trust_file: OptPath = None
    # Share of the legitimate volume that must align before the dashboard calls a domain ready for
    # p=reject.
    ready_share: float = Field(0.98, gt=0, le=1)
    # Days of aggregate reports the readiness figure reads.
    ready_days: int = Field(30, ge=1, le=400)


class LintSettings(Section):
    """lint-messages and the message_lint job (guideline IV.4(5))."""

    # Folders of the firm's mail and SMS templates, linted by the message_lint job.
    template_dirs: list[Path] = []
    # The firm's own short-link domains: a link on them hides where it goes, like any shortener.
    short_domains: list[str] = []
    # Click-tracking hosts of the firm's own mail platform accounts whose destinations the linter
    # cannot decode (e.g. "click.news.example.co.jp"); the rest come from data/click-trackers.json.
    tracking_domains: list[str] = []
    # Follow each link's redirects (through the fetch guard and the egress proxy) to where it ends.
    follow_redirects: bool = False
    max_file_bytes: int = Field(8 * 1024 * 1024, ge=1024)  # a template is a few kilobytes


class UserSettings(Section):
    name: str
    role: Literal["viewer", "analyst", "approver", "admin"] = "analyst"
    # scrypt hash made by `omamori user hash-password`.
    password_hash: str = ""
    display_name: str = ""
    # OpenID Connect: the issuer's `sub` for this person (the identity; never a name they can edit),
    # and/or an email accepted only when the issuer marks it verified (`email_verified`).
    oidc_subject: str = ""
    oidc_email: str = ""


class DashboardSettings(Section):
    port: int = Field(8501, ge=1, le=65535)
    address: str = "127.0.0.1"
    users: list[UserSettings] = []
    # Use Streamlit's st.login (OpenID Connect, configured in .streamlit/secrets.toml) instead.
    oidc: bool = False
    # With OIDC: the issuer (`iss`) whose tokens are accepted; empty accepts the configured provider's.
    oidc_issuer: str = ""
    page_size: int = Field(50, ge=10, le=500)
    # Password sign-in: this many wrong passwords for one name, or from one client, within the window
    # lock that name or client out (right password or not) for lockout_minutes.
    signin_max_failures_per_user: int = Field(5, ge=1)
    signin_max_failures_per_client: int = Field(20, ge=1)
    signin_window_minutes: float = Field(15.0, gt=0)
    lockout_minutes: float = Field(15.0, gt=0)


class TasksSettings(Section):
    """The task queue: the work that grows with candidates and brands (checks, takedowns) as tasks.

    ``backend``: "auto" is procrastinate on PostgreSQL (any number of ``omamori worker`` hosts share
    the database's queue) and an in-process runner on SQLite (one process, nothing else to run).
    """

    backend: Literal["auto", "procrastinate", "inprocess"] = "auto"
    # Tasks run at once by one worker process (threads: a check task spends most of its time waiting
    # on the crawler, DNS and RDAP).
    concurrency: int = Field(2, ge=1, le=32)
    # `omamori run` on PostgreSQL also works the queue (a single host needs no separate worker).
    worker_in_run: bool = True
    # Candidates per check task (one crawler batch).
    check_batch: int = Field(10, ge=1, le=200)
    # A candidate claimed by a check task is not claimed again for this long (a task lost with its
    # worker frees its candidates after this).
    claim_seconds: float = Field(900.0, ge=10)
    # A worker that has not beaten its heart for this long is dead; its running tasks are retried.
    stalled_after_seconds: float = Field(30.0, ge=2)
    heartbeat_seconds: float = Field(5.0, gt=0)
    # How often an idle worker looks for work when no notification arrives.
    poll_seconds: float = Field(2.0, gt=0)
    # A failing task is retried this many times (with backoff) before it is left failed.
    max_attempts: int = Field(5, ge=1)


class JobSettings(Section):
    enabled: bool = True
    interval_seconds: float = Field(gt=0)
    # A run still going after this long is stopped (at its next batch boundary, its blocking I/O
    # closed) and recorded as failed. Empty: the job's default.
    deadline_seconds: float | None = Field(None, gt=0)


def _job(seconds: float) -> Any:
    return Field(default_factory=lambda: JobSettings(interval_seconds=seconds))


# A job's deadline when its [jobs.<name>] sets none: generous for its normal work, far below "forever".
DEFAULT_DEADLINES: dict[str, float] = {
    "ct_poll": 600, "permutations": 3600, "intake": 900, "snapshot": 1800, "takedowns": 900,
    "inventory": 3600, "mailauth": 1800, "dmarc_reports": 900, "weekly_report": 900, "health": 300,
    "feeds": 900, "pivots": 900,
    "queue": 120,
}


class JobsSettings(Section):
    """One entry per job in ``watcher.schedule.JOBS`` (a meta-test keeps them in step)."""

    ct_poll: JobSettings = _job(30)
    permutations: JobSettings = _job(86400)
    intake: JobSettings = _job(300)
    snapshot: JobSettings = _job(120)
    takedowns: JobSettings = _job(300)
    blocklists: JobSettings = _job(300)
    takedown_replies: JobSettings = _job(300)
    inventory: JobSettings = _job(86400)
    mailauth: JobSettings = _job(86400)
    dmarc_reports: JobSettings = _job(3600)
    message_lint: JobSettings = _job(86400)
    # How often to check whether the weekly report is due (it goes out at report.weekday/time).
    weekly_report: JobSettings = _job(600)
    health: JobSettings = _job(300)
    queue: JobSettings = _job(30)
    alerts: JobSettings = _job(60)
    publish: JobSettings = _job(300)
    share: JobSettings = _job(600)
    feeds: JobSettings = _job(3600)
    pivots: JobSettings = _job(1800)
    failing_after: int = Field(3, ge=1, description="consecutive failures before a Finding opens")
    # After its deadline (or SIGTERM) a job gets this long to reach a batch boundary; a run still
    # blocked after that is abandoned, recorded as failed, and its next runs fail until it ends.
    stop_grace_seconds: float = Field(5.0, gt=0)

    def deadline(self, name: str) -> float:
        conf: JobSettings = getattr(self, name)
        return conf.deadline_seconds or DEFAULT_DEADLINES.get(name, 3600.0)


class Settings(Section):
    service: ServiceSettings = ServiceSettings()
    database: DatabaseSettings = DatabaseSettings()
    dns: DnsSettings = DnsSettings()
    rdap: RdapSettings = RdapSettings()
    ct: CtSettings = CtSettings()
    crawl: CrawlSettings = CrawlSettings()
    smtp: SmtpSettings = SmtpSettings()
    imap: ImapSettings = ImapSettings()
    takedown: TakedownSettings = TakedownSettings()
    blocklists: BlocklistSettings = BlocklistSettings()
    inventory: InventorySettings = InventorySettings()
    report: ReportSettings = ReportSettings()
    mail: MailSettings = MailSettings()
    lint: LintSettings = LintSettings()
    alerts: AlertsSettings = AlertsSettings()
    sharing: SharingSettings = SharingSettings()
    dashboard: DashboardSettings = DashboardSettings()
    jobs: JobsSettings = JobsSettings()
    tasks: TasksSettings = TasksSettings()
    # Phishing URL feeds ([[feeds]] entries); none by default.
    feeds: list[FeedSettings] = []

    # Where these settings came from (for messages); not a config key.
    source: Annotated[Path | None, Field(exclude=True)] = None

    def path(self, p: Path) -> Path:
        """Resolve a configured path: absolute as is, relative to the project root."""
        return p if p.is_absolute() else ROOT / p

    @property
    def state_dir(self) -> Path:
        return self.path(self.service.state_dir)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.state_dir / 'omamori.db'}"


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "OMAMORI_CONFIG" or "__" not in key:
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_env_value(value)
    return tree


def _parse_env_value(value: str) -> Any:
    # Lists and numbers in env vars are written as TOML values; anything else is a plain string.
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _describe(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key `{key}` (see data/config.example.toml for every key)"
    if first["type"] == "missing":
        return f"{where}: key `{key}` is required"
    value = first.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
    return f"{where}: key `{key}`: {first['msg']}{shown}"


# Written by `make demo` (lab/demo.py) while it runs: {"config": path, "pid": n}. With it, `omamori ...`
# in another terminal of the same checkout uses the running demo's config without --config.
RUNNING_DEMO = DATA / "state" / "demo.running"


def running_demo_config(marker: Path = RUNNING_DEMO) -> Path | None:
    """The config of the demo running from this checkout, if one is (its process still alive)."""
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        pid, config = int(info["pid"]), Path(info["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return config if config.exists() else None


def load_settings(
    path: Path | str | None = None,
    environ: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Read settings. ``path`` None means ``$OMAMORI_CONFIG`` or ``data/config.toml`` if it exists.

    Raises ConfigError with a one-line message naming the file and the key.
    """
    environ = dict(os.environ) if environ is None else environ
    if path is None and environ.get("OMAMORI_CONFIG"):
        path = environ["OMAMORI_CONFIG"]
    if path is None:
        path = running_demo_config()
    file_path = Path(path) if path is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    raw: dict[str, Any] = {}
    if file_path is not None:
        try:
            raw = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file_path}: config file not found (copy data/config.example.toml)") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"{file_path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
        except OSError as e:
            raise ConfigError(f"{file_path}: cannot read: {e.strerror or e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{file_path}: not valid TOML: {e}") from None
    env = _env_overrides(environ)
    merged = _merge(_merge(raw, env), overrides or {})
    where = str(file_path) if file_path else "defaults"
    if env:
        where += " + OMAMORI_* environment"
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as e:
        raise ConfigError(_describe(e, where)) from None
    settings.source = file_path
    return settings

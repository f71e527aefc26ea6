"""The tables: omamori's vocabulary (see docs/architecture.md).

Timestamps are timezone-aware UTC on every backend (``UTCDateTime``); enums are lowercase
``StrEnum`` stored as plain strings (so a new value needs no schema change); structured facts that
only the code reads are JSON. Evidence files are referenced by their sha256.

Schema changes need a migration in ``watcher/core/migrations/versions`` (``tests/test_migrations.py``
fails when models and migrations disagree).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out — SQLite stores naive text, PostgreSQL timestamptz."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as its lowercase value in a VARCHAR, read back as the enum."""

    impl = sa.String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__()
        self.impl = sa.String(length)  # the class-level impl is an instance: TypeDecorator would ignore length
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


def when(*, nullable: bool = True, index: bool = False, default_now: bool = False) -> Any:
    kw: dict[str, Any] = {"sa_type": UTCDateTime, "nullable": nullable, "index": index}
    if default_now:
        return Field(default_factory=utcnow, **kw)
    return Field(default=None, **kw)


def enum(cls: type[StrEnum], default: StrEnum, *, index: bool = False) -> Any:
    return Field(default=default, sa_type=EnumText(cls), nullable=False, index=index)


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------- enums


class FindingGroup(StrEnum):
    SELF = "self"  # omamori watching itself: jobs, feeds, CT logs
    OWNED = "owned"  # the firm's own domains: registration, DNS, takeover, certificates
    MAIL = "mail"  # mail authentication of the sending domains
    TAKEDOWN = "takedown"  # a takedown that needs a person


class FindingKind(StrEnum):
    """Every kind of Finding a check may open; the check that opens one also resolves it."""

    # self
    JOB_FAILING = "job_failing"
    FEED_SILENT = "feed_silent"
    CT_LOG_STALE = "ct_log_stale"
    CT_LOG_INVALID = "ct_log_invalid"
    CT_LOG_LAGGING = "ct_log_lagging"
    # owned
    REGISTRATION_MISSING = "registration_missing"
    REGISTRATION_RECREATED = "registration_recreated"
    REGISTRATION_HOLD = "registration_hold"
    EXPIRY = "expiry"
    LOCK_TRANSFER = "lock_transfer"
    LOCK_UPDATE = "lock_update"
    DNSSEC = "dnssec"
    NS_CHANGED = "ns_changed"
    DROPCATCH = "dropcatch"
    TAKEOVER_CNAME = "takeover_cname"
    TAKEOVER_NS = "takeover_ns"
    TAKEOVER_MX = "takeover_mx"
    SHORT_CODE = "short_code"
    ZONEFILE_UNREADABLE = "zonefile_unreadable"
    CERT_ISSUER = "cert_issuer"
    CERT_NEW_NAME = "cert_new_name"  # an allowed CA issued for a name of ours never seen before
    CERT_NEW_ISSUER = "cert_new_issuer"  # an allowed CA issued for our domain for the first time
    DANGLING_ADDRESS = "dangling_address"  # an A/AAAA in a cloud provider's range that is no longer ours
    CAA = "caa"  # CAA missing, or naming a CA the firm does not use
    LOCK_REGISTRY = "lock_registry"  # the registry offers a registry lock (server*Prohibited) and it is not set
    OFFICIAL_LIST_EXTRA = "official_list_extra"  # the published list names a domain the firm no longer has
    OFFICIAL_LIST_MISSING = "official_list_missing"  # the published list misses a domain the firm uses
    # mail
    SPF = "spf"
    DKIM = "dkim"
    DMARC = "dmarc"
    BIMI = "bimi"
    MTA_STS = "mta_sts"
    TLSRPT = "tlsrpt"
    TLS_DELIVERY = "tls_delivery"  # SMTP TLS reports show senders failing to deliver to us over TLS
    NONSENDING_AUTH = "nonsending_auth"
    MAIL_WARNING = "mail_warning"  # one checkdmarc warning about one aspect of one domain
    DMARC_REPORT_AUTH = "dmarc_report_auth"  # an outside rua/ruf destination has not authorised our reports
    BIMI_LOGO = "bimi_logo"  # the logo at l= is missing or not SVG Tiny PS
    BIMI_CERT = "bimi_cert"  # the mark certificate at a= is missing, invalid, or not for this logo
    SMIME = "smime"  # a sample customer notice is not signed by a valid certificate of the firm
    MESSAGE_LINK = "message_link"  # a mail or SMS template links where it must not (IV.4(5))
    # takedown
    TAKEDOWN_NO_RECIPIENT = "takedown_no_recipient"
    TAKEDOWN_SEND_UNCERTAIN = "takedown_send_uncertain"
    TAKEDOWN_SEND_FAILED = "takedown_send_failed"
    TAKEDOWN_STALLED = "takedown_stalled"
    TAKEDOWN_NO_REGISTRAR = "takedown_no_registrar"  # a .jp name whose designated registrar has no address
    TAKEDOWN_BOUNCED = "takedown_bounced"  # a delivery status notification: the request did not arrive

    @property
    def group(self) -> FindingGroup:
        return _FINDING_GROUPS[self]

    @classmethod
    def of_group(cls, group: FindingGroup) -> tuple[FindingKind, ...]:
        return tuple(k for k in cls if k.group == group)


_K = FindingKind
_FINDING_GROUPS: dict[FindingKind, FindingGroup] = {
    **{k: FindingGroup.SELF for k in (_K.JOB_FAILING, _K.FEED_SILENT, _K.CT_LOG_STALE, _K.CT_LOG_INVALID,
                                        _K.CT_LOG_LAGGING)},
    **{k: FindingGroup.MAIL for k in (_K.SPF, _K.DKIM, _K.DMARC, _K.BIMI, _K.MTA_STS, _K.TLSRPT, _K.TLS_DELIVERY,
                                       _K.NONSENDING_AUTH, _K.MAIL_WARNING, _K.DMARC_REPORT_AUTH, _K.BIMI_LOGO,
                                       _K.BIMI_CERT, _K.SMIME, _K.MESSAGE_LINK)},
    **{k: FindingGroup.TAKEDOWN for k in (_K.TAKEDOWN_NO_RECIPIENT, _K.TAKEDOWN_SEND_UNCERTAIN,
                                           _K.TAKEDOWN_SEND_FAILED, _K.TAKEDOWN_STALLED, _K.TAKEDOWN_NO_REGISTRAR,
                                           _K.TAKEDOWN_BOUNCED)},
}
_FINDING_GROUPS.update({k: FindingGroup.OWNED for k in FindingKind if k not in _FINDING_GROUPS})


class CandidateStatus(StrEnum):
    NEW = "new"  # discovered, not yet looked at
    CHECKED = "checked"  # captured and scored; waits for a person (or the auto rule)
    WATCHING = "watching"  # parked / for sale / not yet live: re-checked weekly
    CONFIRMED = "confirmed"  # phishing, decided; takedown requests are drafted
    REPORTED = "reported"  # requests sent; re-checked every few hours
    DOWN = "down"  # gone twice in a row; re-checked weekly
    DISMISSED = "dismissed"  # not a threat, with a reason


class Source(StrEnum):
    CT = "ct"  # read directly from a CT log
    CERTSTREAM = "certstream"
    PERMUTATION = "permutation"
    REPORT = "report"  # a person's report: mailbox, CLI, dashboard
    FEED = "feed"  # an imported phishing URL list
    DROPCATCH = "dropcatch"  # a lapsed owned domain re-registered by someone else
    PIVOT = "pivot"  # linked to a confirmed case: same certificate, domain, address, name servers or page
    MANUAL = "manual"


class CaseStatus(StrEnum):
    OPEN = "open"  # some hostname of the site may still be up
    CLOSED = "closed"  # every hostname of the site is down or dismissed
    MERGED = "merged"  # found to be the same site as another case (``merged_into_id``)


class Verdict(StrEnum):
    UNKNOWN = "unknown"
    PHISHING = "phishing"
    SUSPICIOUS = "suspicious"
    PARKED = "parked"
    SUSPENDED = "suspended"
    BENIGN = "benign"
    UNREACHABLE = "unreachable"


class OwnedSource(StrEnum):
    CONFIG = "config"
    DNS = "dns"
    CT = "ct"
    ZONEFILE = "zonefile"
    AXFR = "axfr"  # a zone transfer from the firm's own name server
    LAPSED = "lapsed"


class RequestStatus(StrEnum):
    DRAFT = "draft"  # written, waits for approval (or a web form to be filled by hand)
    QUEUED = "queued"  # approved; the outbox will send it
    SENDING = "sending"  # claimed by a sender; if the process dies here it is checked, not re-sent
    SENT = "sent"
    FAILED = "failed"  # permanent failure, with the reason
    ANSWERED = "answered"  # a reply was attached
    CLOSED = "closed"  # the site is down, or the request was withdrawn


class Channel(StrEnum):
    EMAIL = "email"
    WEBFORM = "webform"


class RecipientKind(StrEnum):
    REGISTRAR = "registrar"
    HOSTING = "hosting"
    CDN = "cdn"
    CERT = "cert"  # JPCERT/CC, anti-phishing council, other always-informed parties
    SHORTENER = "shortener"  # the URL shortener of a link in the lure
    OWNER = "owner"  # a hacked site's owner (asked to remove the content)
    OTHER = "other"


class TakedownMode(StrEnum):
    """What a case asks for (``takedown.policy.site_mode``)."""

    SUSPEND = "suspend"  # a phishing domain: the registrar suspends it, the host removes it
    REMOVE_CONTENT = "remove_content"  # a hacked site: the host and the owner remove the kit at its path


class BlocklistStatus(StrEnum):
    SUBMITTED = "submitted"  # accepted by the service, not listed yet
    LISTED = "listed"  # the service's lookup lists the URL
    FAILED = "failed"  # the service refused the submission (the answer says why)


class AlertStatus(StrEnum):
    PENDING = "pending"  # waits for its time (quiet hours, the next digest) or for a retry
    SENT = "sent"
    FAILED = "failed"  # gave up after alerts.max_attempts; the Event log says why


class ReportStatus(StrEnum):
    SENDING = "sending"  # claimed by one process; rendered and being mailed
    SENT = "sent"
    FAILED = "failed"  # the mail failed; tried again at the next run


class Severity(StrEnum):
    """Least to most severe, in this order (``SEVERITY_ORDER``; ``MOST_SEVERE_FIRST`` for lists)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)
MOST_SEVERE_FIRST: tuple[Severity, ...] = SEVERITY_ORDER[::-1]


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"  # a person accepted the risk; stays closed until the facts change


# ---------------------------------------------------------------- tables


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str
    name_ja: str = ""
    # The brand's entry of the brands file, as synced (watcher.core.brands.BrandSpec).
    spec: dict[str, Any] = json_dict()
    # Reference captures of the official pages: [{url, screenshot_sha256, phash, dhash, ...}]
    references: list[dict[str, Any]] = json_list()
    created_at: datetime = when(nullable=False, default_now=True)
    updated_at: datetime = when(nullable=False, default_now=True)


class OwnedDomain(SQLModel, table=True):
    __tablename__ = "owned_domain"
    id: int | None = Field(default=None, primary_key=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    name: str = Field(unique=True, index=True, max_length=253)
    apex: str = Field(index=True, max_length=253)
    is_apex: bool = False
    source: OwnedSource = enum(OwnedSource, OwnedSource.CONFIG)
    # A domain the firm let go; watched for re-registration by someone else (drop-catch).
    lapsed: bool = False
    registrar: str = ""
    registered_at: datetime | None = when()
    expires_at: datetime | None = when(index=True)
    statuses: list[str] = json_list()
    nameservers: list[str] = json_list()
    dnssec: bool | None = None
    # Last DNS profile seen: {"A": [...], "CNAME": [...], ...}
    dns: dict[str, Any] = json_dict()
    registration: dict[str, Any] = json_dict()
    first_seen_at: datetime = when(nullable=False, default_now=True)
    last_checked_at: datetime | None = when()
    # When each inventory source last saw this name ({"dns": iso, "zonefile": iso, ...}); a name no
    # source sees any more is marked gone (never deleted: its history and findings stay).
    seen_by: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, server_default=sa.text("'{}'")))
    gone_at: datetime | None = when()


class OwnedCertificate(SQLModel, table=True):
    """A certificate from a CT log that names one of our domains (any subdomain, any CA)."""

    __tablename__ = "owned_certificate"
    __table_args__ = (sa.UniqueConstraint("name", "fingerprint", name="uq_owned_certificate_name_fp"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=253)  # the name of ours it covers (wildcards as "*.x")
    apex: str = Field(index=True, max_length=253)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    issuer: str = ""
    issuer_org: str = Field(default="", index=True, max_length=255)
    allowed: bool = True  # the issuer is on the brand's allowed list
    serial: str = Field(default="", max_length=128)
    # serial+issuer when the log gives no hash: one row per certificate and name
    fingerprint: str = Field(default="", max_length=200)
    not_before: datetime | None = when()
    not_after: datetime | None = when()
    log: str = ""
    log_index: int | None = None
    precert: bool = False
    names: list[str] = json_list()
    first_seen_at: datetime = when(nullable=False, default_now=True)


class Case(SQLModel, table=True):
    """One phishing site, however many hostnames reach it (``www.`` and bare, or hostnames under one
    registrable domain that serve the same page): one set of takedown requests, one row in reports.
    The grouping rule is ``watcher.core.cases``."""

    __tablename__ = "site_case"  # CASE is an SQL keyword
    id: int | None = Field(default=None, primary_key=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    # The host without ``www.``: stable, so a later sighting of either name finds the same case.
    site_key: str = Field(unique=True, index=True, max_length=253)
    registrable: str = Field(index=True, max_length=253)
    status: CaseStatus = enum(CaseStatus, CaseStatus.OPEN, index=True)
    opened_at: datetime = when(nullable=False, default_now=True, index=True)
    closed_at: datetime | None = when()
    merged_into_id: int | None = Field(default=None, foreign_key="site_case.id")
    # Why hostnames joined it beyond www/bare: [{"domain", "why"}]
    joins: list[dict[str, Any]] = json_list()


class Candidate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(unique=True, index=True, max_length=253)
    registrable: str = Field(index=True, max_length=253)
    unicode: str = ""
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    status: CandidateStatus = enum(CandidateStatus, CandidateStatus.NEW, index=True)
    verdict: Verdict = enum(Verdict, Verdict.UNKNOWN, index=True)
    # The first source that found it; every later sighting is in ``sources`` and the Event log.
    source: Source = enum(Source, Source.MANUAL, index=True)
    sources: list[str] = json_list()
    # Discovery reasons: [{"kind": "keyword", "detail": "...", "points": 30, "source": "ct"}]
    reasons: list[dict[str, Any]] = json_list()
    match_points: int = 0
    score: int = Field(default=0, index=True)
    # Full URLs to capture (a report names a path; CT only a host).
    urls: list[str] = json_list()
    # Facts from discovery: certificate issuer, not_before, CT log and index, fuzzer, reporter...
    facts: dict[str, Any] = json_dict()
    first_seen_at: datetime = when(nullable=False, default_now=True, index=True)
    last_seen_at: datetime = when(nullable=False, default_now=True)
    status_changed_at: datetime = when(nullable=False, default_now=True)
    last_checked_at: datetime | None = when()
    next_check_at: datetime | None = when(index=True)
    registered_at: datetime | None = when()
    down_count: int = 0  # consecutive checks that found it gone
    confirmed_at: datetime | None = when()
    down_at: datetime | None = when()
    last_snapshot_id: int | None = None
    # The site it belongs to (``watcher.core.cases``); None only before it is stored.
    case_id: int | None = Field(default=None, foreign_key="site_case.id", index=True)


class Snapshot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    taken_at: datetime = when(nullable=False, default_now=True, index=True)
    dns: dict[str, Any] = json_dict()
    rdap: dict[str, Any] = json_dict()
    hosting: dict[str, Any] = json_dict()
    # The crawler's record: final_url, redirects, status, headers, tls, title, forms, text, links...
    capture: dict[str, Any] = json_dict()
    # Evidence files (sha256 of files in the evidence store)
    screenshot_sha256: str = ""
    fullpage_sha256: str = ""
    html_sha256: str = ""
    favicon_sha256: str = ""
    # Perceptual and fuzzy hashes for comparison
    hashes: dict[str, Any] = json_dict()
    reachable: bool = False
    gone: bool = False  # NXDOMAIN, hold status, refused, 404/410, suspension page
    score: int = 0
    verdict: Verdict = enum(Verdict, Verdict.UNKNOWN)
    reasons: list[dict[str, Any]] = json_list()
    error: str = ""


class TakedownRequest(SQLModel, table=True):
    __tablename__ = "takedown_request"
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")
    recipient: str = Field(index=True, max_length=320)  # an email address, or the form's URL
    recipient_name: str = ""
    recipient_kind: RecipientKind = enum(RecipientKind, RecipientKind.OTHER)
    channel: Channel = enum(Channel, Channel.EMAIL)
    language: str = "ja"
    subject: str = ""
    body: str = ""
    # Attachments as stored evidence: [{"filename", "sha256", "content_type"}]
    attachments: list[dict[str, Any]] = json_list()
    status: RequestStatus = enum(RequestStatus, RequestStatus.DRAFT, index=True)
    message_id: str = Field(default="", index=True, max_length=255)
    attempts: int = 0
    next_attempt_at: datetime | None = when(index=True)
    last_error: str = ""
    escalation_level: int = 0  # 0 registrar/host, 1 next recipient, 2 CERTs...
    auto: bool = False  # sent by the per-brand auto rule, not a person
    created_by: str = "system"
    created_at: datetime = when(nullable=False, default_now=True)
    sent_at: datetime | None = when()
    reminders_sent: int = 0
    last_reminder_at: datetime | None = when()
    closed_at: datetime | None = when()
    time_to_down_seconds: float | None = None
    replies: list[dict[str, Any]] = json_list()
    mode: TakedownMode = Field(default=TakedownMode.SUSPEND, sa_type=EnumText(TakedownMode), nullable=False,
                               sa_column_kwargs={"server_default": "suspend"})
    # The desk's ticket, from its auto-reply: kept so reminders thread to it and quote it.
    ticket: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    ticket_message_id: str = Field(default="", max_length=255, sa_column_kwargs={"server_default": ""})
    # A person's reply arrived: someone must read it (the dashboard flags it).
    needs_person: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class BlocklistSubmission(SQLModel, table=True):
    """One URL submitted to one browser blocklist, with the service's answer and when it was listed."""

    __tablename__ = "blocklist_submission"
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    service: str = Field(index=True, max_length=32)  # webrisk | netcraft | apwg
    url: str = Field(max_length=2048)
    status: BlocklistStatus = enum(BlocklistStatus, BlocklistStatus.SUBMITTED, index=True)
    external_id: str = ""  # the service's id: operation name, submission uuid, eCX id
    submitted_at: datetime = when(nullable=False, default_now=True)
    listed_at: datetime | None = when()
    last_checked_at: datetime | None = when()
    time_to_listed_seconds: float | None = None
    answer: dict[str, Any] = json_dict()  # the service's last answer, as it said it
    error: str = ""


class Finding(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # One open finding per (kind, subject); the check that opens it also resolves it.
    key: str = Field(unique=True, index=True, max_length=400)
    kind: FindingKind = Field(sa_type=EnumText(FindingKind, 64), nullable=False, index=True)
    subject: str = Field(index=True, max_length=253)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    severity: Severity = enum(Severity, Severity.MEDIUM, index=True)
    status: FindingStatus = enum(FindingStatus, FindingStatus.OPEN, index=True)
    title: str = ""  # English, for logs and old readers; people read title_text in their language
    detail: str = ""
    # The title and detail as catalogue texts (watcher.core.texts), rendered in the reader's language;
    # {} for a finding written before 0.2 (then title/detail are shown as they are).
    title_text: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, server_default=sa.text("'{}'")))
    detail_text: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, server_default=sa.text("'{}'")))
    data: dict[str, Any] = json_dict()
    opened_at: datetime = when(nullable=False, default_now=True)
    last_seen_at: datetime = when(nullable=False, default_now=True)
    resolved_at: datetime | None = when()
    times_opened: int = 1


class Event(SQLModel, table=True):
    """Append-only audit log: who did what to which record, when (guideline IV.5, IV.6(3))."""

    __table_args__ = (sa.Index("ix_event_object", "object_type", "object_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(nullable=False, default_now=True, index=True)
    actor: str = Field(max_length=128)
    action: str = Field(index=True, max_length=64)
    object_type: str = Field(max_length=32)
    object_id: int | None = None
    detail: dict[str, Any] = json_dict()


class AlertState(SQLModel, table=True):
    """What was last said about one subject of one rule (a case, a finding): the de-duplication memory.
    A new alert goes out when the state changes; a reminder when it stays open past the interval."""

    __tablename__ = "alert_state"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=400)  # rule:subject
    rule: str = Field(index=True, max_length=64)
    state: str = Field(default="", max_length=128)  # e.g. "confirmed", "open#2"
    open: bool = True
    first_alerted_at: datetime = when(nullable=False, default_now=True)
    last_alerted_at: datetime = when(nullable=False, default_now=True)
    reminders: int = 0
    closed_at: datetime | None = when()


class Alert(SQLModel, table=True):
    """One thing said to the team: a new state, a reminder or a resolution, in both languages."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=400)
    rule: str = Field(index=True, max_length=64)
    kind: str = Field(default="new", max_length=16)  # new | reminder | resolved | test
    severity: Severity = enum(Severity, Severity.MEDIUM, index=True)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    object_type: str = Field(default="", max_length=32)
    object_id: int | None = None
    title_text: dict[str, Any] = json_dict()  # catalogue texts (watcher.core.texts)
    detail_text: dict[str, Any] = json_dict()
    facts: dict[str, Any] = json_dict()  # what a machine reads: domain, case, score, finding kind...
    created_at: datetime = when(nullable=False, default_now=True, index=True)


class AlertDelivery(SQLModel, table=True):
    """One alert to one channel: when it may go, whether it went, and the channel's answer."""

    __tablename__ = "alert_delivery"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    channel: str = Field(index=True, max_length=64)
    status: AlertStatus = enum(AlertStatus, AlertStatus.PENDING, index=True)
    not_before: datetime = when(nullable=False, default_now=True, index=True)
    attempts: int = 0
    sent_at: datetime | None = when()
    receipt: str = ""  # the Message-ID, the HTTP status, the syslog line
    error: str = ""


class ReportRun(SQLModel, table=True):
    """One periodic report for one period: claimed once, so restarts and standbys never send it twice."""

    __tablename__ = "report_run"
    __table_args__ = (sa.UniqueConstraint("kind", "period", name="uq_report_run_kind_period"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # weekly
    period: str = Field(max_length=64)  # the scheduled slot, ISO local time: 2026-11-30T09:00+09:00
    period_start: datetime = when(nullable=False)
    period_end: datetime = when(nullable=False)
    status: ReportStatus = enum(ReportStatus, ReportStatus.SENDING, index=True)
    claimed_at: datetime = when(nullable=False, default_now=True)
    sent_at: datetime | None = when()
    attempts: int = 0
    late: bool = False  # sent after its slot had passed (the service was down then)
    message_id: str = ""
    files: dict[str, Any] = json_dict()  # kind -> path
    figures: dict[str, Any] = json_dict()  # the headline numbers, as sent
    error: str = ""


class LogPosition(SQLModel, table=True):
    """How far one CT log has been read and verified."""

    __tablename__ = "log_position"
    id: int | None = Field(default=None, primary_key=True)
    log_id: str = Field(unique=True, index=True, max_length=64)  # base64 SHA-256 of the log key
    url: str = Field(max_length=512)
    description: str = ""
    api: str = "rfc6962"  # or "static"
    next_index: int = 0  # the first entry not yet processed
    tree_size: int = 0  # of the last verified tree head
    root_hash: str = ""  # base64
    sth_timestamp: datetime | None = when()
    verified_at: datetime | None = when()
    last_growth_at: datetime | None = when()
    updated_at: datetime = when(nullable=False, default_now=True)
    state: str = "active"  # active, failing, retired (no longer listed: not watched); staleness is a Finding
    last_error: str = ""
    entries_processed: int = 0
    entries_failed: int = 0
    # RFC 6962: the complete subtrees of [0, range_size) (base64), committed with next_index, so every
    # entry read is verified against the signed tree head (certspotter's collapsed tree). Valid only
    # while range_size == next_index; otherwise rebuilt from one inclusion proof.
    compact_range: list[str] = json_list()
    range_size: int = -1
    # Since when the position has been behind the verified tree head (None: caught up); the watchdog
    # compares it with ct.lag_max_minutes whatever the reader did or raised.
    behind_since: datetime | None = when()


class JobState(SQLModel, table=True):
    """The scheduler's memory of each job: last run, last success, consecutive failures."""

    __tablename__ = "job_state"
    name: str = Field(primary_key=True, max_length=64)
    last_started_at: datetime | None = when()
    last_finished_at: datetime | None = when()
    last_ok_at: datetime | None = when()
    last_error: str = ""
    consecutive_failures: int = 0
    runs: int = 0
    last_summary: dict[str, Any] = json_dict()


class Lease(SQLModel, table=True):
    """One holder at a time for a named piece of work across processes (``watcher/core/lease.py``)."""

    name: str = Field(primary_key=True, max_length=128)
    holder: str = Field(max_length=200)
    token: int = 1  # grows each time the lease changes hands (a fencing token)
    acquired_at: datetime = when(nullable=False, default_now=True)
    renewed_at: datetime = when(nullable=False, default_now=True)
    expires_at: datetime = when(nullable=False, default_now=True)


class RateSlot(SQLModel, table=True):
    """When the next request to one server may go, shared by every host (``watcher/core/ratelimit.py``)."""

    __tablename__ = "rate_slot"
    key: str = Field(primary_key=True, max_length=200)  # e.g. "rdap:rdap.registrar.example"
    next_at: datetime = when(nullable=False, default_now=True)


class RdapAnswer(SQLModel, table=True):
    """An RDAP/WHOIS answer (its parsed facts) shared by every host: a name is asked once per
    ``rdap.cache_hours`` by the whole cluster (``watcher/core/rdapcache.py``)."""

    __tablename__ = "rdap_answer"
    kind: str = Field(primary_key=True, max_length=16)  # "domain" | "ip"
    key: str = Field(primary_key=True, max_length=253)  # the registrable domain or the address
    answer: dict[str, Any] = json_dict()  # Registration.as_dict / Network.as_dict, without "raw"
    fetched_at: datetime = when(nullable=False, index=True, default_now=True)


class PermutationState(SQLModel, table=True):
    """Each generated lookalike name and whether it existed at the last scan (to see new ones)."""

    __tablename__ = "permutation_state"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=253)
    brand_id: int | None = Field(default=None, foreign_key="brand.id", index=True)
    fuzzer: str = Field(max_length=64)
    exists: bool = False
    first_seen_existing_at: datetime | None = when()
    last_scanned_at: datetime | None = when()


class FeedState(SQLModel, table=True):
    """What omamori remembers of one phishing URL feed between pulls (conditional GET, silence)."""

    __tablename__ = "feed_state"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=128)
    url: str = Field(max_length=2048)
    etag: str = Field(default="", max_length=512)
    last_modified: str = Field(default="", max_length=128)  # the server's Last-Modified, as sent
    body_sha256: str = ""  # of the last body read (a server without validators: same body, nothing new)
    last_fetch_at: datetime | None = when()
    last_ok_at: datetime | None = when()  # the last answer (200 or 304)
    last_change_at: datetime | None = when()  # the last time the content changed
    last_status: int = 0
    rows_total: int = 0
    last_error: str = ""
    created_at: datetime = when(nullable=False, default_now=True)


class Report(SQLModel, table=True):
    """A report from a person or a feed (mail, CLI, dashboard, CSV): kept whole, deduplicated."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)  # imap, eml, feed, cli, dashboard
    fingerprint: str = Field(unique=True, index=True, max_length=64)  # sha256 of the raw report
    reporter: str = ""
    subject: str = ""
    received_at: datetime = when(nullable=False, default_now=True, index=True)
    raw_sha256: str = ""  # the raw message in the evidence store
    urls: list[dict[str, Any]] = json_list()
    error: str = ""


class DmarcReport(SQLModel, table=True):
    """One DMARC aggregate report (RFC 7489 appendix C; DMARCbis, RFC 9990)."""

    __tablename__ = "dmarc_report"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=400)  # org + report_id
    org_name: str = ""
    report_id: str = ""
    domain: str = Field(index=True, max_length=253)
    begin_at: datetime | None = when(index=True)
    end_at: datetime | None = when()
    policy: dict[str, Any] = json_dict()
    # [{"source_ip", "count", "disposition", "dkim", "spf", "header_from", "aligned", "sender", ...}]
    records: list[dict[str, Any]] = json_list()
    received_at: datetime = when(nullable=False, default_now=True)
    raw_sha256: str = ""
    # What had to be forgiven to read it (trailing bytes after gzip, recovered XML, ...): kept, not hidden.
    defects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False,
                                                                      server_default=sa.text("'[]'")))


class DmarcFailureReport(SQLModel, table=True):
    """One DMARC failure (forensic) report: a sample of one message that failed (RFC 6591 AFRF, RFC 9991)."""

    __tablename__ = "dmarc_failure_report"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=64)  # sha256 of the report as received
    domain: str = Field(index=True, max_length=253)  # the reported domain (ours)
    reporter: str = ""
    arrival_at: datetime | None = when(index=True)
    source_ip: str = ""
    feedback_type: str = ""  # auth-failure
    auth_failure: str = ""  # dmarc, dkim, spf
    delivery_result: str = ""
    header_from: str = ""
    envelope_from: str = ""
    subject: str = ""  # of the failing message (kept short: it may carry a customer's data)
    # Every field of the feedback part, and the sample message's headers.
    fields: dict[str, Any] = json_dict()
    received_at: datetime = when(nullable=False, default_now=True)
    raw_sha256: str = ""


class TlsReport(SQLModel, table=True):
    """One SMTP TLS report (RFC 8460): how sending servers fared when they delivered to us over TLS."""

    __tablename__ = "tls_report"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=400)  # organization + report-id
    org_name: str = ""
    report_id: str = ""
    domain: str = Field(index=True, max_length=253)  # the first policy domain
    begin_at: datetime | None = when(index=True)
    end_at: datetime | None = when()
    # [{"type", "domain", "success", "failure", "failures": [{"result_type", "count", ...}]}]
    policies: list[dict[str, Any]] = json_list()
    received_at: datetime = when(nullable=False, default_now=True)
    raw_sha256: str = ""


ALL_TABLES = (
    Brand,
    OwnedDomain,
    Case,
    Candidate,
    Snapshot,
    TakedownRequest,
    Finding,
    Event,
    AlertState,
    Alert,
    AlertDelivery,
    ReportRun,
    LogPosition,
    JobState,
    PermutationState,
    FeedState,
    Report,
    DmarcReport,
    DmarcFailureReport,
    TlsReport,
)

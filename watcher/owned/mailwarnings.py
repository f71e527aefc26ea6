"""checkdmarc's warnings, each a Finding that says what it means for the firm (in ja/en).

checkdmarc returns, beside its verdict, a list of English warnings (a CNAME beside a TXT record, a
record too long for UDP, a report address that never authorised our reports...). A warning is not
an error — the record still parses — but each is a way mail can fail or reports can be lost, so
each becomes its own Finding (kind ``mail_warning``, subject ``domain/aspect/code``) that opens while
checkdmarc says it and resolves when it stops saying it.

``RULES`` names every warning checkdmarc 6 writes for the aspects we check, by a pattern of its
text, with a severity and the catalogue key of its meaning. An unknown warning (a newer checkdmarc)
is still surfaced, as ``other`` with checkdmarc's own words. A few warnings repeat what an aspect's
own check already reports (``p=none``, no ``rua``, an unauthorised report address): they are
``COVERED`` and not opened twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from watcher.core.models import Brand, Finding, FindingKind, FindingStatus, Severity
from watcher.core.texts import text

if TYPE_CHECKING:
    from watcher.owned.checks import CheckRun


@dataclass(frozen=True)
class WarningRule:
    code: str
    pattern: re.Pattern[str]
    severity: Severity


def _r(code: str, pattern: str, severity: Severity = Severity.LOW) -> WarningRule:
    return WarningRule(code, re.compile(pattern, re.I | re.S), severity)


M, L, H = Severity.MEDIUM, Severity.LOW, Severity.HIGH

RULES: tuple[WarningRule, ...] = (
    # every TXT-based record
    _r("cname_conflict", r"has both a TXT record and .*CNAME|CNAME target of .* (?:publishes|failed)", M),
    _r("unrelated_txt", r"Unrelated TXT records were discovered", L),
    _r("whitespace_version", r"does not begin with the literal", M),
    _r("unknown_tag", r"Unknown (?:\w+ )*(?:tag|key|modifier) .*(?:ignored|was ignored)", L),
    _r("duplicate_tag", r"duplicate .*(?:tag|key)|more than one .* tag|Duplicate \w+ key", M),
    _r("record_at_root", r"record at the root of .* has no effect", M),
    # SPF (RFC 7208)
    _r("spf_undecodable", r"undecodable characters", M),
    _r("spf_sender_id", r"Sender ID record", L),
    _r("spf_lookalike", r"resembles an SPF record was discarded", H),
    _r("spf_string_too_long", r"character-string holds at most 255 bytes", H),
    _r("spf_over_512", r"over 512", M),
    _r("spf_over_450", r"under about 450 bytes", L),
    _r("spf_parked", r"SPF record for parked domains", M),
    _r("spf_not_fqdn", r"not a fully-qualified domain name", M),
    _r("spf_exp", r"exp value", L),
    _r("spf_modifier_repeated", r"appeared more than once", L),
    _r("spf_reporting_modifier", r"\bra modifier|\brp and rr modifiers", L),
    _r("spf_multiple_all", r"multiple all mechanisms", M),
    _r("spf_after_all", r"after the all mechanism", M),
    _r("spf_mx_no_address", r"MX host .* does not have any A/AAAA", M),
    _r("spf_redirect_ignored", r"redirect modifier was ignored", M),
    _r("spf_duplicate_include", r"Duplicate include", L),
    _r("spf_processing_error", r"Error when processing", H),
    # DMARC (RFC 7489, RFC 9989/9990)
    _r("dmarc_psd", r"Organizational Domain of", M),
    _r("dmarc_uri_scheme", r"uses the \w+ scheme", M),
    _r("dmarc_size_limit", r"size limit \(`!size`\)", L),
    _r("dmarc_report_unauthorized", r"does not indicate that it accepts DMARC reports", H),
    _r("dmarc_report_no_mx", r"has no MX records|Failed to retrieve MX records", H),
    _r("dmarc_too_many_uris", r"might not send to more than two", L),
    _r("dmarc_removed_tag", r"was removed in RFC 9989", L),
    _r("dmarc_missing_p", r"missing p tag", M),
    _r("dmarc_p_order", r"p tag does not immediately follow", L),
    _r("dmarc_p_none", r"p tag value of none", H),
    _r("dmarc_sp_none", r"sp tag value of none", M),
    _r("dmarc_alignment_value", r"is not a valid (?:adkim|aspf) tag value", M),
    _r("dmarc_fo_value", r"fo=.* is invalid", L),
    _r("dmarc_no_rua", r"rua tag .*not found", M),
    _r("dmarc_parked", r"should be reject for parked domains", M),
    # MTA-STS (RFC 8461)
    _r("mta_sts_content_type", r"Content-Type header", L),
)

# Said better by the aspect's own finding (dmarc, dmarc_report_auth): not opened a second time.
COVERED = frozenset({"dmarc_p_none", "dmarc_sp_none", "dmarc_no_rua", "dmarc_report_unauthorized"})


def classify(message: str) -> WarningRule:
    for rule in RULES:
        if rule.pattern.search(message):
            return rule
    return WarningRule("other", re.compile(""), Severity.LOW)


def _subject(domain: str, aspect: str, code: str, message: str) -> str:
    # "other" warnings are told apart by their text (two unknown warnings are two findings).
    suffix = code if code != "other" else "other-" + hashlib.sha256(message.encode()).hexdigest()[:10]
    return f"{domain}/{aspect}/{suffix}"[:253]


def report_warnings(run: CheckRun, brand: Brand | None, domain: str, aspect: str, warnings: list[Any]) -> None:
    """Open a finding per warning of ``aspect`` on ``domain``; resolve those checkdmarc no longer gives."""
    current: set[str] = set()
    for raw in warnings or []:
        message = str(raw).strip()
        if not message:
            continue
        rule = classify(message)
        if rule.code in COVERED:
            continue
        subject = _subject(domain, aspect, rule.code, message)
        if subject in current:
            continue
        current.add(subject)
        meaning = text(f"mail.warn.{rule.code}")
        run.fail(FindingKind.MAIL_WARNING, subject,
                 text("mail.warning_title", domain=domain, aspect=aspect.upper().replace("_", "-"), meaning=meaning),
                 severity=rule.severity, brand_id=brand.id if brand else None,
                 detail=text("mail.warning_detail", meaning=meaning, original=message[:1000]),
                 data={"domain": domain, "aspect": aspect, "code": rule.code, "warning": message[:2000]})
    prefix = f"{domain}/{aspect}/"
    stale = run.session.exec(select(Finding.subject).where(
        Finding.kind == FindingKind.MAIL_WARNING, Finding.status == FindingStatus.OPEN,
        col(Finding.subject).startswith(prefix, autoescape=True)))
    for subject in list(stale):
        if subject not in current:
            run.ok(FindingKind.MAIL_WARNING, subject)

"""The inventory of owned domains and the checks over it (guideline IV.4(4)① and ②).

Sources of owned names (``SOURCES``): the brands file (already synced into OwnedDomain by
``brands sync``), the firm's own CT certificates (rows the CT reader adds), BIND zone files
(``inventory.zone_files``) and DNS (apex, www, MX and NS hosts inside our own domains).

Checks (``CHECKS``) are plain functions ``(run: CheckRun) -> None``. Each opens a Finding when its
condition fails and resolves the same (kind, subject) when it passes; one failing domain or one
crashing check is recorded and the rest go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlmodel import Session, select

from watcher import dropcatch, registration, shortcode, takeover, zonefile
from watcher.brands import add_owned
from watcher.context import Context
from watcher.events import record
from watcher.findings import open_finding, resolve_finding
from watcher.models import Brand, OwnedDomain, OwnedSource, Severity
from watcher.names import is_within

log = logging.getLogger("omamori.inventory")


@dataclass
class CheckRun:
    """What one inventory (or mail-auth) run shares between its checks, and what it counted."""

    ctx: Context
    session: Session
    now: datetime
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    _hosts: list[OwnedDomain] | None = None
    _registrations: dict[str, Any] = field(default_factory=dict)
    # Results a check keeps for later checks of the same run or for the job's summary.
    cache: dict[str, Any] = field(default_factory=dict)
    _brands: dict[int, Brand] | None = None

    # --- what the checks look at ----------------------------------------------------------------

    def domains(self) -> list[OwnedDomain]:
        return list(self.session.exec(select(OwnedDomain).order_by(OwnedDomain.name)))

    def hosts(self) -> list[OwnedDomain]:
        """Owned names still ours (not lapsed)."""
        if self._hosts is None:
            self._hosts = [d for d in self.domains() if not d.lapsed]
        return self._hosts

    def forget_hosts(self) -> None:
        self._hosts = None

    def brands(self) -> dict[int, Brand]:
        if self._brands is None:
            self._brands = {b.id: b for b in self.session.exec(select(Brand)) if b.id is not None}
        return self._brands

    def brand_of(self, name: str) -> int | None:
        row = self.session.exec(select(OwnedDomain).where(OwnedDomain.name == name)).first()
        if row is not None:
            return row.brand_id
        for b in self.brands().values():
            if any(is_within(name, d) for d in b.spec.get("official_domains", [])):
                return b.id
        return None

    def registration(self, name: str) -> Any:
        """RDAP/WHOIS registration of ``name``, asked once per run."""
        if name not in self._registrations:
            self._registrations[name] = self.ctx.rdap.domain(name)
        return self._registrations[name]

    def gather(self, coros: dict[str, Awaitable[Any]]) -> dict[str, Any]:
        """Run coroutines concurrently; a failure is returned as its exception, not raised."""
        if not coros:
            return {}

        async def _all() -> list[Any]:
            return await asyncio.gather(*coros.values(), return_exceptions=True)

        # The resolver keeps UDP sockets per event loop; its own runner closes them before the loop
        # ends (a bare asyncio.run leaves them to break the next loop's queries).
        runner = getattr(self.ctx.resolver, "run", asyncio.run)
        return dict(zip(coros.keys(), runner(_all()), strict=True))

    def gather_each(self, kind: str, coros: dict[str, Awaitable[Any]]) -> Iterator[tuple[str, Any]]:
        """``gather``, then (subject, result) per subject; a failed lookup is recorded as ``kind``'s
        error for that subject (any open finding stays as it is) and skipped."""
        results = self.gather(coros)
        for subject in coros:
            result = results.get(subject)
            if isinstance(result, BaseException) or result is None:
                self.error(kind, subject, result)
                continue
            yield subject, result

    # --- what the checks report -----------------------------------------------------------------

    def fail(self, kind: str, subject: str, title: str, *, severity: Severity = Severity.MEDIUM, detail: str = "",
             data: dict[str, Any] | None = None, brand_id: int | None = None) -> None:
        open_finding(self.session, kind, subject, title, severity=severity, detail=detail, data=data,
                     brand_id=brand_id if brand_id is not None else self.brand_of(subject), now=self.now,
                     actor=self.ctx.actor)
        self.counts["failing"] += 1
        self.counts[f"failing.{kind}"] += 1

    def ok(self, kind: str, subject: str, note: str = "") -> None:
        if resolve_finding(self.session, kind, subject, now=self.now, actor=self.ctx.actor, note=note):
            self.counts["resolved"] += 1
        self.counts["passing"] += 1

    def error(self, kind: str, subject: str, exc: BaseException | str | None) -> None:
        """A check could not decide (network error): keep whatever finding is open, note why."""
        text = exc if isinstance(exc, str) else "no answer" if exc is None else f"{type(exc).__name__}: {exc}"
        self.note(kind, f"{subject}: {text}")

    def note(self, kind: str, text: str) -> None:
        self.counts["errors"] += 1
        self.notes.append(f"{kind}: {text}"[:500])
        log.warning("%s: %s", kind, text)


Check = Callable[[CheckRun], None]


# --- sources -------------------------------------------------------------------------------------


def _dns_profiles(run: CheckRun, rows: list[OwnedDomain]) -> None:
    profiles = run.gather({d.name: run.ctx.resolver.profile(d.name) for d in rows})
    for d in rows:
        prof = profiles.get(d.name)
        if isinstance(prof, BaseException) or prof is None:
            run.error("dns", d.name, prof)
            continue
        d.dns = prof.as_dict()
        d.last_checked_at = run.now
        run.session.add(d)


def source_dns(run: CheckRun) -> None:
    """Refresh each owned name's DNS profile; add www, MX and NS hosts that are inside our domains."""
    hosts = run.hosts()
    _dns_profiles(run, hosts)
    apexes = sorted({d.apex for d in hosts})
    brands = run.brands()
    added: list[OwnedDomain] = []
    by_apex = {d.apex: d.brand_id for d in hosts}
    candidates: set[str] = set()
    for d in hosts:
        recs = d.dns.get("records", {})
        if d.is_apex:
            candidates.add(f"www.{d.name}")
        for mx in recs.get("MX", []):
            candidates.add(mx.split()[-1].rstrip(".").lower())
        for ns in recs.get("NS", []):
            candidates.add(ns.rstrip(".").lower())
    known = {d.name for d in hosts}
    www = run.gather({n: run.ctx.resolver.profile(n) for n in sorted(candidates - known) if n.startswith("www.")})
    for name in sorted(candidates - known):
        apex = next((a for a in apexes if is_within(name, a)), None)
        if apex is None or by_apex.get(apex) not in brands:
            continue  # a provider's host (Google MX, a DNS host): not ours to inventory
        prof = www.get(name)
        if name.startswith("www.") and (isinstance(prof, BaseException) or prof is None or not prof.exists):
            continue
        row = add_owned(run.session, brands[by_apex[apex]], name, OwnedSource.DNS, actor=run.ctx.actor)
        if row is not None:
            added.append(row)
    if added:
        run.counts["owned_added_dns"] += len(added)
        _dns_profiles(run, added)
        run.forget_hosts()


SOURCES: tuple[Check, ...] = (zonefile.import_zone_files, source_dns)


# --- checks --------------------------------------------------------------------------------------


# Registration needs RDAP (issue of the RDAP client); the rest needs only DNS and HTTP.
CHECKS: tuple[Check, ...] = (
    registration.check_expiry,
    registration.check_locks,
    registration.check_dnssec,
    registration.check_nameservers,
    dropcatch.check_dropcatch,
    takeover.check_cname,
    takeover.check_ns,
    takeover.check_mx,
    shortcode.check_short_codes,
)


def run_checks(ctx: Context, checks: tuple[Check, ...], *, sources: tuple[Check, ...] = (),
               job: str = "inventory") -> dict[str, Any]:
    started = ctx.now()
    with ctx.session() as s:
        run = CheckRun(ctx, s, started)
        for step in (*sources, *checks):
            try:
                step(run)
                s.commit()
            except Exception as e:  # one broken check must not hide the others' results
                s.rollback()
                run.forget_hosts()
                run.note(step.__name__, f"crashed: {type(e).__name__}: {e}")
                log.exception("%s: %s crashed", job, step.__name__)
                record(s, ctx.actor, f"{job}.check_failed", None,
                       {"check": step.__name__, "error": f"{type(e).__name__}: {e}"[:1000]}, at=started)
                s.commit()
        summary: dict[str, Any] = {"owned": len(run.hosts()), **dict(sorted(run.counts.items()))}
        if run.notes:
            summary["notes"] = run.notes[:50]
    return summary


def run(ctx: Context) -> dict[str, Any]:
    """The daily inventory job: refresh the inventory, then every check in CHECKS."""
    return run_checks(ctx, CHECKS, sources=SOURCES)


# --- command line --------------------------------------------------------------------------------

cli = typer.Typer(help="Owned domains: inventory and checks (expiry, locks, drop-catch, takeover).",
                  no_args_is_help=True)


@cli.command("run")
def run_cmd() -> None:
    """Refresh the inventory and run every check now; print the summary."""
    from watcher.cli import console, context

    ctx = context()
    for k, v in run(ctx).items():
        console.print(f"[bold]{k}[/]: {v}", highlight=False)


@cli.command("list")
def list_cmd() -> None:
    """Show the owned domains with registrar, expiry and locks."""
    from rich.table import Table

    from watcher.cli import console, context

    ctx = context()
    t = Table("name", "source", "registrar", "expires", "locks", "dnssec", "lapsed")
    with ctx.session() as s:
        for d in s.exec(select(OwnedDomain).order_by(OwnedDomain.apex, OwnedDomain.name)):
            locks = ", ".join(x for x in d.statuses if "prohibited" in x)
            t.add_row(d.name, d.source.value, d.registrar or "-",
                      d.expires_at.strftime("%Y-%m-%d") if d.expires_at else "-", locks or "-",
                      {True: "yes", False: "no", None: "-"}[d.dnssec], "yes" if d.lapsed else "")
    console.print(t)


@cli.command("accept-ns")
def accept_ns_cmd(domain: Annotated[str, typer.Argument(help="owned domain whose current name servers are right")]) -> None:
    """Accept the current name servers of DOMAIN as its expected set (closes the ns-change finding)."""
    from watcher.cli import console, context, err
    from watcher.registration import accept_nameservers

    ctx = context()
    with ctx.session() as s:
        ok = accept_nameservers(s, domain, actor=ctx.actor, now=ctx.now())
        s.commit()
    if not ok:
        err.print(f"[red]{domain} is not an owned apex with known name servers[/]")
        raise typer.Exit(1)
    console.print(f"{domain}: name servers accepted")

"""The Context: built once at the edge (CLI, service, test) and passed to every job.

It carries settings, brands, the database engine, the clock and the clients of every external peer
(DNS resolver, RDAP, mailer, HTTP). Tests and the demo change the addresses in settings, never the code.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session

from watcher.clients.http import make_client
from watcher.clients.rdap import RdapClient
from watcher.clients.resolver import Resolver
from watcher.clients.smtp import Mailer
from watcher.core import ratelimit
from watcher.core.brands import BrandSpec, load_brands
from watcher.core.clock import Clock, SystemClock
from watcher.core.config import Settings, load_settings
from watcher.core.db import make_engine, session_scope, upgrade
from watcher.core.evidence import EvidenceStore
from watcher.core.rdapcache import AnswerStore
from watcher.core.runcontrol import UNBOUNDED, RunControl


class Nudge:
    """Tells the task queue that work appeared, so it starts now instead of at the next job run.

    The floors below the queue call these after they commit (a CT match made candidates, a check
    confirmed a phishing site); this base does nothing, which is right wherever no queue runs (a
    one-off command, a test): the periodic jobs still find the work. ``watcher.tasks`` installs the
    real one at the edge (``omamori run``, ``omamori worker``)."""

    def candidates(self, ids: Sequence[int]) -> None:
        """New or newly due candidates: check them (DNS, RDAP, capture, score) now."""

    def due(self) -> None:
        """Some candidates became due (a report, a feed): dispatch the due checks now."""

    def takedowns(self, candidate_ids: Sequence[int]) -> None:
        """Candidates that may now be confirmed: run the auto rule and send their requests now."""


@dataclass
class Context:
    settings: Settings
    engine: sa.Engine
    brands: list[BrandSpec] = field(default_factory=list)
    clock: Clock = field(default_factory=SystemClock)
    actor: str = "system"
    # The current job run's stop flag and deadline (``UNBOUNDED`` outside a job); see for_run.
    run: RunControl = field(default=UNBOUNDED)
    nudge: Nudge = field(default_factory=Nudge)
    # A long-running process (``omamori run``, ``omamori worker``) keeps its crawlers and their
    # browsers between batches (``crawl.keep_browser``); a one-off command starts one per batch.
    keep_crawler: bool = False

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    @cached_property
    def evidence(self) -> EvidenceStore:
        return EvidenceStore(self.state_dir / "evidence")

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.settings.dns)

    @cached_property
    def rdap(self) -> RdapClient:
        engine = self.engine
        def reserve(key: str, gap: float) -> float:
            return ratelimit.reserve(engine, key, gap)

        # SQLite is one file on one host: the process's own pacing is enough, and a slot written from
        # a second connection would wait out the busy timeout whenever the caller's session holds the
        # write lock (drafting a takedown asks RDAP inside its transaction): 15 s per lookup, then an
        # error instead of the registrar. Shared slots are for PostgreSQL, where workers are many hosts.
        shared = engine.dialect.name != "sqlite"
        # Answers likewise: on PostgreSQL every host reads what any host asked (one ask per name per
        # rdap.cache_hours for the cluster); SQLite's one process keeps them in its memory.
        return RdapClient(self.settings, clock=self.clock, reserve=reserve if shared else None,
                          answers=AnswerStore(engine) if shared else None)

    @cached_property
    def mailer(self) -> Mailer:
        return Mailer(self.settings.smtp)

    def http(self, *, timeout: float | None = None, follow_redirects: bool = True) -> httpx.Client:
        return make_client(self.settings, timeout=timeout, follow_redirects=follow_redirects)

    def for_run(self, control: RunControl) -> Context:
        """This Context for one job run: the same settings, engine and clients, its own RunControl."""
        for shared in ("evidence", "resolver", "rdap", "mailer"):
            getattr(self, shared)  # made once here so every run shares them (the RDAP cache and rate limits)
        child = copy.copy(self)
        child.run = control
        return child

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def transaction(self) -> AbstractContextManager[Session]:
        return session_scope(self.engine)

    def now(self) -> datetime:
        return self.clock.now()

    def brand(self, slug: str) -> BrandSpec:
        for b in self.brands:
            if b.slug == slug:
                return b
        raise KeyError(f"no brand {slug!r} in {self.settings.service.brands_file}")


def build_context(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    load_brand_file: bool = True,
) -> Context:
    settings = settings or load_settings()
    engine = make_engine(
        settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms, echo=settings.database.echo
    )
    if migrate:
        upgrade(engine)
    brands: list[BrandSpec] = []
    brands_path = settings.path(settings.service.brands_file)
    if load_brand_file and brands_path.exists():
        brands = load_brands(brands_path)
    return Context(settings=settings, engine=engine, brands=brands, clock=clock or SystemClock())

"""pytest plugin: lab servers as fixtures (the root conftest does `pytest_plugins = ["lab.testing"]`).

Every server fixture is function-scoped (started on free ports, stopped after the test) so tests
can mutate zones, sites and logs freely; each starts in milliseconds. `lab_pki` is session-scoped
(key generation and per-host TLS certificates are shared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.certstream import LabCertstream
from lab.ct import LabCTLog
from lab.dns import LabDNS
from lab.misp import LabMISP
from lab.pki import LabPKI
from lab.rdap import LabRDAP
from lab.smtp import LabSMTP
from lab.web import LabWeb
from lab.webhooks import LabSyslog, LabWebhooks
from lab.whois import LabWhois
from lab.world import DEFAULT_SCENARIO, World


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "the lab", *, every: float = 0.05,
             explain: Callable[[], str] | None = None) -> float:
    """Until background work (the lab's timer, sequencer or desk; a service under test) is done: returns
    as soon as ``predicate()`` holds, checking every ``every`` seconds, and fails after ``timeout``
    seconds, with ``explain()`` (a subprocess's log, say) appended to the message.

    Returns the seconds it waited, for a test to report as an observation (a wait, not a measurement:
    speed is measured by the benchmarks)."""
    start = time.monotonic()
    end = start + timeout
    while time.monotonic() < end:
        if predicate():
            return time.monotonic() - start
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} ({timeout} s)" + (f"\n{explain()}" if explain else ""))


@pytest.fixture(scope="session")
def lab_pki() -> Iterator[LabPKI]:
    pki = LabPKI()
    yield pki
    pki.close()


@pytest.fixture
def lab_dns() -> Iterator[LabDNS]:
    with LabDNS() as server:
        yield server


@pytest.fixture
def lab_rdap() -> Iterator[LabRDAP]:
    with LabRDAP() as server:
        yield server


@pytest.fixture
def lab_whois() -> Iterator[LabWhois]:
    with LabWhois() as server:
        yield server


@pytest.fixture
def lab_web(lab_pki: LabPKI) -> Iterator[LabWeb]:
    with LabWeb(lab_pki) as server:
        yield server


@pytest.fixture
def lab_smtp(lab_pki: LabPKI) -> Iterator[LabSMTP]:
    with LabSMTP(lab_pki) as server:
        yield server


@pytest.fixture
def lab_webhooks() -> Iterator[LabWebhooks]:
    """Incoming-webhook receiver (Slack, Teams, JSON alike): `lab_webhooks.url_for("slack")`."""
    with LabWebhooks() as server:
        yield server


@pytest.fixture
def lab_syslog() -> Iterator[LabSyslog]:
    with LabSyslog() as server:
        yield server


@pytest.fixture
def lab_misp() -> Iterator[LabMISP]:
    """MISP's REST API (what PyMISP asks at connect, and the events endpoint); key `lab_misp.key`."""
    with LabMISP() as server:
        yield server


@pytest.fixture
def lab_ct(lab_pki: LabPKI) -> Iterator[LabCTLog]:
    with LabCTLog(lab_pki, sequence_interval=0.05) as server:
        yield server


@pytest.fixture
def lab_certstream(lab_ct: LabCTLog) -> Iterator[LabCertstream]:
    """A certstream server fed by its own fresh CT log (`lab_certstream.log`)."""
    with LabCertstream(lab_ct, heartbeat_interval=1.0) as server:
        yield server


@pytest.fixture
def lab_world() -> Iterator[Callable[..., World]]:
    """Factory: `world = lab_world("data/lab/small.toml", **overrides)`; every world is stopped afterwards."""
    worlds: list[World] = []

    def make(scenario: str | Path = DEFAULT_SCENARIO, **overrides: Any) -> World:
        world = World.start(scenario, **overrides)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.stop()

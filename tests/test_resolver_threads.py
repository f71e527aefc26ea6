"""The resolver is shared by jobs that run at the same time in scheduler threads, each with its own loop."""

import threading

from watcher.clients.resolver import Resolver
from watcher.core.config import DnsSettings


def test_concurrent_jobs_in_threads_share_one_resolver(lab_dns):
    lab_dns.set("hoshizora-sec.co.jp", "A", ["203.0.113.10"])
    r = Resolver(DnsSettings(nameservers=[lab_dns.host], port=lab_dns.port, timeout=1.0))
    results, errors = [], []

    def job() -> None:
        try:
            for _ in range(5):
                results.append(r.profile_sync("hoshizora-sec.co.jp").records.get("A"))
        except Exception as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert results == [["203.0.113.10"]] * 20

"""The lab certstream server read by the PyPI `certstream` client (websocket-client based)."""

from __future__ import annotations

import threading
import time
from typing import Any

from certstream.core import CertStreamClient

from lab.certstream import LabCertstream


def _listen(url: str, want: int, skip_heartbeats: bool = True) -> tuple[list[dict[str, Any]], threading.Thread,
                                                                         CertStreamClient]:
    got: list[dict[str, Any]] = []

    def on_message(message: dict[str, Any], _context: Any) -> None:
        got.append(message)
        if len(got) >= want:
            client.close()

    client = CertStreamClient(on_message, url, skip_heartbeats=skip_heartbeats)
    thread = threading.Thread(target=client.run_forever, daemon=True)
    thread.start()
    return got, thread, client


def _wait_clients(server: LabCertstream, n: int) -> None:
    deadline = time.monotonic() + 3
    while server.client_count() < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.client_count() >= n


def test_certificate_updates_reach_the_certstream_client(lab_certstream: LabCertstream) -> None:
    got, thread, _ = _listen(lab_certstream.url, 2)
    _wait_clients(lab_certstream, 1)
    log = lab_certstream.log
    log.add_certificate(["hoshizora-sec-login.top", "www.hoshizora-sec-login.top"], precert=True)
    log.add_certificate(["xn--hoshizora-se-khk.com"])
    thread.join(5)
    assert not thread.is_alive()
    first, second = (m["data"] for m in got)
    assert got[0]["message_type"] == "certificate_update"
    assert first["update_type"] == "PrecertLogEntry" and second["update_type"] == "X509LogEntry"
    assert first["leaf_cert"]["all_domains"] == ["hoshizora-sec-login.top", "www.hoshizora-sec-login.top"]
    assert first["leaf_cert"]["subject"]["CN"] == "hoshizora-sec-login.top"
    assert first["leaf_cert"]["issuer"]["CN"] == "Lab Trusted CA"
    assert first["cert_index"] == 0 and first["cert_link"].endswith("get-entries?start=0&end=0")
    assert first["source"]["url"] and isinstance(first["seen"], float)
    assert "as_der" not in first["leaf_cert"]


def test_heartbeats_full_stream_and_reconnection(lab_certstream: LabCertstream) -> None:
    lab_certstream.heartbeat_interval = 0.1
    got, thread, _ = _listen(lab_certstream.url + "full-stream", 3, skip_heartbeats=False)
    _wait_clients(lab_certstream, 1)
    lab_certstream.log.add_certificate(["hoshizora-sec.co.jp.login-check.cn"])
    thread.join(5)
    kinds = {m["message_type"] for m in got}
    assert "heartbeat" in kinds
    updates = [m for m in got if m["message_type"] == "certificate_update"]
    if updates:
        assert "as_der" in updates[0]["data"]["leaf_cert"]
    # drop_clients(): the client's run_forever() returns and it must reconnect on its own
    deadline = time.monotonic() + 3
    while lab_certstream.client_count() and time.monotonic() < deadline:
        time.sleep(0.01)
    client = CertStreamClient(lambda m, c: None, lab_certstream.url, skip_heartbeats=True)
    t = threading.Thread(target=client.run_forever, daemon=True)
    t.start()
    _wait_clients(lab_certstream, 1)
    lab_certstream.drop_clients()
    t.join(3)
    assert not t.is_alive()
    got2, thread2, _ = _listen(lab_certstream.url, 1)
    _wait_clients(lab_certstream, 1)
    lab_certstream.log.add_certificate(["again.hoshizora-sec-login.top"])
    thread2.join(5)
    assert got2[0]["data"]["leaf_cert"]["all_domains"] == ["again.hoshizora-sec-login.top"]

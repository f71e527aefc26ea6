"""The lab CT log read by a client written here from RFC 6962 and the C2SP static-ct-api spec.

Signatures are checked with `cryptography`, proofs with the RFC 9162 verifiers in rfc6962.py.
"""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lab.ct import LabCTLog
from lab.pki import UNEXPECTED_CA
from lab.testing import wait_for
from tests.lab import rfc6962 as ref

POISON = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")


def _verify_sth(log: LabCTLog, sth: dict) -> None:
    ds = base64.b64decode(sth["tree_head_signature"])
    assert ds[:2] == b"\x04\x03"  # sha256, ecdsa
    sig = ds[4:4 + int.from_bytes(ds[2:4], "big")]
    key = serialization.load_der_public_key(log.public_key_der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(sig, ref.sth_input(sth["timestamp"], sth["tree_size"], base64.b64decode(sth["sha256_root_hash"])),
               ec.ECDSA(hashes.SHA256()))


@pytest.fixture
def client(lab_ct: LabCTLog) -> httpx.Client:
    with httpx.Client(base_url=lab_ct.url, timeout=5) as c:
        yield c


def test_sth_is_signed_by_the_log_key(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_certificate(["hoshizora-sec-login.top"])
    lab_ct.integrate()
    sth = client.get("ct/v1/get-sth").json()
    assert sth["tree_size"] == 1
    _verify_sth(lab_ct, sth)
    assert lab_ct.log_id == hashlib.sha256(lab_ct.public_key_der).digest()


def test_entries_are_real_certificates_with_proofs(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_noise(10)
    idx = lab_ct.add_certificate(["www-hoshizora-sec-co-jp.k7x2.top", "*.k7x2.top"])
    pre = lab_ct.add_certificate(["xn--hoshizora-se-khk.com"], precert=True, issuer=UNEXPECTED_CA)
    lab_ct.integrate()
    sth = client.get("ct/v1/get-sth").json()
    root, size = base64.b64decode(sth["sha256_root_hash"]), sth["tree_size"]
    entries = client.get("ct/v1/get-entries", params={"start": idx, "end": pre}).json()["entries"]
    assert len(entries) == 2
    cas = {ca.name: ca for ca in lab_ct.pki.cas.values()}

    leaf_input = base64.b64decode(entries[0]["leaf_input"])
    leaf = ref.parse_leaf(leaf_input)
    cert = x509.load_der_x509_certificate(leaf["cert"])  # type: ignore[arg-type]
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["www-hoshizora-sec-co-jp.k7x2.top", "*.k7x2.top"]
    cas["Lab Trusted CA"].cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                                   ec.ECDSA(hashes.SHA256()))
    chain = ref.Reader(base64.b64decode(entries[0]["extra_data"]))
    inner = ref.Reader(chain.opaque(3))
    assert inner.opaque(3) == cas["Lab Trusted CA"].der
    # static-ct-api leaf_index extension: type 0, length 5, the index
    assert leaf["extensions"] == b"\x00\x00\x05" + idx.to_bytes(5, "big")

    proof = client.get("ct/v1/get-proof-by-hash", params={
        "hash": base64.b64encode(ref.leaf_hash(leaf_input)).decode(), "tree_size": size}).json()
    assert proof["leaf_index"] == idx
    assert ref.verify_inclusion(ref.leaf_hash(leaf_input), idx, size,
                                [base64.b64decode(h) for h in proof["audit_path"]], root)

    # The precert entry: issuer_key_hash + TBS without poison; the precert itself carries the poison.
    pleaf = ref.parse_leaf(base64.b64decode(entries[1]["leaf_input"]))
    assert pleaf["entry_type"] == 1
    assert pleaf["issuer_key_hash"] == hashlib.sha256(cas[UNEXPECTED_CA].spki_der).digest()
    extra = ref.Reader(base64.b64decode(entries[1]["extra_data"]))
    precert = x509.load_der_x509_certificate(extra.opaque(3))
    assert precert.extensions.get_extension_for_oid(POISON).critical
    assert ref.Reader(extra.opaque(3)).opaque(3) == cas[UNEXPECTED_CA].der
    tbs = pleaf["tbs"]
    assert b"\x06\x0a\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x03" not in tbs  # type: ignore[operator]
    assert precert.tbs_certificate_bytes != tbs and len(precert.tbs_certificate_bytes) > len(tbs)  # type: ignore[arg-type]


def test_consistency_between_tree_heads(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_noise(37)
    first = client.get("ct/v1/get-sth").json()
    lab_ct.add_noise(300)
    second = client.get("ct/v1/get-sth").json()
    proof = client.get("ct/v1/get-sth-consistency",
                       params={"first": first["tree_size"], "second": second["tree_size"]}).json()["consistency"]
    assert ref.verify_consistency(first["tree_size"], second["tree_size"], base64.b64decode(first["sha256_root_hash"]),
                                  base64.b64decode(second["sha256_root_hash"]), [base64.b64decode(h) for h in proof])


def test_get_entries_honours_the_batch_limit(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_noise(600)
    got = client.get("ct/v1/get-entries", params={"start": 0, "end": 599}).json()["entries"]
    assert len(got) == lab_ct.max_batch == 256
    assert client.get("ct/v1/get-entries", params={"start": 600, "end": 700}).status_code == 400
    roots = client.get("ct/v1/get-roots").json()["certificates"]
    assert len(roots) == len(lab_ct.pki.web_cas()) == 3  # the trusted CA, a second allowed one, an unexpected one


def test_static_api_checkpoint_tiles_and_data(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_noise(300)
    lab_ct.add_certificate(["hoshizora-sec.co.jp.login-check.cn"], precert=True)
    lab_ct.integrate()
    note = client.get("static/checkpoint").text
    body, sigs = note.split("\n\n", 1)
    origin, size_s, root_b64 = body.split("\n")
    assert origin == lab_ct.origin and int(size_s) == 301
    name, sig_b64 = sigs.strip().removeprefix("\u2014 ").split(" ")
    assert name == origin
    raw = base64.b64decode(sig_b64)
    key_id = hashlib.sha256(origin.encode() + b"\n\x05" + lab_ct.log_id).digest()[:4]
    assert raw[:4] == key_id
    ts = int.from_bytes(raw[4:12], "big")
    ds = raw[12:]
    key = serialization.load_der_public_key(lab_ct.public_key_der)
    key.verify(ds[4:], ref.sth_input(ts, 301, base64.b64decode(root_b64)), ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg,union-attr]

    full = client.get("static/tile/0/000").content
    partial = client.get("static/tile/0/001.p/45").content
    assert len(full) == 8192 and len(partial) == 45 * 32
    assert client.get("static/tile/0/001").status_code == 404
    level1 = client.get("static/tile/1/000.p/1").content
    hashes_ = [full[i:i + 32] for i in range(0, 8192, 32)] + [partial[i:i + 32] for i in range(0, len(partial), 32)]
    # root from tiles: the level-1 hash is MTH of the first 256 leaves
    assert level1 == lab_ct.tree.subtree(0, 256)
    assert lab_ct.tree.root(301) == base64.b64decode(root_b64)
    resp = client.get("static/tile/data/001.p/45")
    assert resp.headers["content-encoding"] == "gzip"  # httpx sent Accept-Encoding: gzip and decoded it
    data = resp.content
    r = ref.Reader(data)
    leaves = []
    for _ in range(45):
        start = r.pos
        entry = ref.parse_timestamped_entry(r)
        leaves.append(b"\x00\x00" + data[start:r.pos])
        if entry["entry_type"] == 1:
            x509.load_der_x509_certificate(r.opaque(3))
        fps = r.opaque(2)
        assert client.get(f"static/issuer/{fps[:32].hex()}").status_code == 200
    assert r.done()
    assert [ref.leaf_hash(leaf) for leaf in leaves] == hashes_[256:]
    assert client.get("static/tile/0/x001/000").status_code in (400, 404)


def test_fault_injection(lab_ct: LabCTLog, client: httpx.Client) -> None:
    lab_ct.add_noise(5)
    lab_ct.fail_next(2, 429, retry_after=3)
    r = client.get("ct/v1/get-sth")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert client.get("ct/v1/get-sth").status_code == 429
    assert client.get("ct/v1/get-sth").status_code == 200
    lab_ct.fail_next(1, 500)
    assert client.get("static/checkpoint").status_code == 500
    lab_ct.forge_sth(True)
    with pytest.raises(InvalidSignature):
        _verify_sth(lab_ct, client.get("ct/v1/get-sth").json())
    lab_ct.forge_sth(False)
    _verify_sth(lab_ct, client.get("ct/v1/get-sth").json())
    lab_ct.malform_entry(2)
    bad = client.get("ct/v1/get-entries", params={"start": 2, "end": 2}).json()["entries"][0]
    with pytest.raises(ValueError):
        ref.parse_leaf(base64.b64decode(bad["leaf_input"]))


def test_log_list_describes_both_apis(lab_ct: LabCTLog, client: httpx.Client) -> None:
    ll = client.get("log_list.json").json()
    op = ll["operators"][0]
    log, tiled = op["logs"][0], op["tiled_logs"][0]
    assert log["url"] == lab_ct.rfc6962_url and tiled["monitoring_url"] == lab_ct.static_url
    assert base64.b64decode(log["key"]) == lab_ct.public_key_der
    assert base64.b64decode(log["log_id"]) == lab_ct.log_id
    assert "usable" in log["state"] and log["mmd"] == lab_ct.mmd
    assert lab_ct.log_list()["operators"][0]["tiled_logs"][0]["submission_url"] == lab_ct.rfc6962_url


def test_sequencer_grows_the_log_with_noise(lab_ct: LabCTLog) -> None:
    lab_ct.noise_rate = 200
    wait_for(lambda: lab_ct.sth.size >= 20, timeout=30)
    assert lab_ct.sth.size >= 20
    lab_ct.noise_rate = 0


def test_bulk_noise_is_real_certificates(lab_ct: LabCTLog) -> None:
    # Its speed is measured by `make bench` (ct_read), not asserted here: this machine is shared.
    lab_ct.add_noise(20_000)
    assert lab_ct.sth.size == 20_000
    cert = x509.load_der_x509_certificate(lab_ct.entry(19_999).cert_der)
    lab_ct.pki.ca.cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))


@pytest.mark.slow
def test_benchmark_log_of_200k_entries(lab_ct: LabCTLog) -> None:
    lab_ct.add_noise(200_000)
    assert lab_ct.sth.size == 200_000
    with httpx.Client(base_url=lab_ct.url) as c:
        assert len(c.get("static/tile/data/x001/000").content) > 0  # tile 1000
        assert len(c.get("static/tile/2/000.p/3").content) == 96


def test_add_chain_and_add_pre_chain_return_verifiable_scts(lab_ct: LabCTLog, client: httpx.Client) -> None:
    key = serialization.load_der_public_key(lab_ct.public_key_der)
    ca = lab_ct.pki.ca
    for path, precert in (("ct/v1/add-chain", False), ("ct/v1/add-pre-chain", True)):
        issued = lab_ct.pki.issue(["submitted.hoshizora-sec-login.top"], precert=precert)
        chain = [base64.b64encode(d).decode() for d in (issued.cert_der, ca.der)]
        sct = client.post(path, json={"chain": chain}).json()
        assert base64.b64decode(sct["id"]) == lab_ct.log_id
        index = int.from_bytes(base64.b64decode(sct["extensions"])[3:], "big")
        entry = lab_ct.entry(index)
        if precert:  # the log took the poison out itself, exactly as the CA's final TBS
            assert entry.tbs_der == issued.tbs_der
        leaf_input = base64.b64decode(client.get("ct/v1/get-entries", params={"start": index, "end": index})
                                      .json()["entries"][0]["leaf_input"])
        assert ref.parse_leaf(leaf_input)["timestamp"] == sct["timestamp"]
        # RFC 6962 3.2: sct_version, signature_type, then the same fields as the TimestampedEntry
        signed = b"\x00\x00" + leaf_input[2:]
        ds = base64.b64decode(sct["signature"])
        key.verify(ds[4:], signed, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg,union-attr]
    wrong = lab_ct.pki.issue(["x.test"], precert=True)
    r = client.post("ct/v1/add-chain", json={"chain": [base64.b64encode(wrong.cert_der).decode()]})
    assert r.status_code == 400

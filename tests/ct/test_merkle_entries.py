"""Merkle proofs, tree-head signatures, checkpoints and entry parsing: pure functions, hostile input."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlmodel import Session, select

from lab import ctformat as F
from lab.merkle import MerkleTree
from tests.ct.labhelp import log_infos
from watcher.core.models import Finding, FindingStatus
from watcher.discovery.ct.entries import EntryError, details, names, parse_leaf, parse_tile
from watcher.discovery.ct.merkle import (
    TreeHead,
    VerificationError,
    load_key,
    root_from_subtrees,
    subtree_ranges,
    tree_head_input,
    verify_consistency,
    verify_tree_head,
)
from watcher.discovery.ct.reader import LogReader, check_stale
from watcher.discovery.ct.static import parse_checkpoint, tile_path


def _tree(n: int) -> MerkleTree:
    t = MerkleTree()
    for i in range(n):
        t.append(b"leaf %d" % i)
    return t


def test_consistency_proofs_of_every_size_pair() -> None:
    t = _tree(70)
    for second in range(1, 71):
        for first in range(0, second + 1):
            proof = t.consistency_proof(first, second)
            verify_consistency(first, second, t.root(first), t.root(second), proof)
            if 0 < first < second:
                bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                with pytest.raises(VerificationError):
                    verify_consistency(first, second, t.root(first), t.root(second), bad)
                with pytest.raises(VerificationError):
                    verify_consistency(first, second, t.root(first - 1) if first > 1 else b"\0" * 32,
                                       t.root(second), proof)
    with pytest.raises(VerificationError):
        verify_consistency(5, 4, t.root(5), t.root(4), [])


def test_root_from_complete_subtrees() -> None:
    t = _tree(300)
    for n in (1, 2, 3, 255, 256, 257, 300):
        subtrees = [t.subtree(idx << k, (idx + 1) << k) for k, idx in subtree_ranges(n)]
        assert root_from_subtrees(subtrees) == t.root(n)


def _signed(key, data: bytes, alg: int) -> bytes:  # type: ignore[no-untyped-def]
    if alg == 3:
        sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return bytes([4, alg]) + len(sig).to_bytes(2, "big") + sig


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_tree_head_signatures(kind: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ecdsa" else rsa.generate_private_key(65537, 2048)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    alg = 3 if kind == "ecdsa" else 1
    root = hashlib.sha256(b"r").digest()
    head = TreeHead(10, 1700000000000, root, _signed(key, tree_head_input(1700000000000, 10, root), alg))
    verify_tree_head(load_key(der), head)
    for bad in (TreeHead(11, head.timestamp, root, head.signature), TreeHead(10, head.timestamp, root, b"\x04"),
                TreeHead(10, head.timestamp, root, bytes([2]) + head.signature[1:])):
        with pytest.raises(VerificationError):
            verify_tree_head(load_key(der), bad)


def test_checkpoint_parsing_rejects_what_is_not_signed_by_the_log(lab_ct) -> None:  # type: ignore[no-untyped-def]
    lab_ct.add_noise(5)
    text = lab_ct.checkpoint()
    head = parse_checkpoint(text, lab_ct.origin, lab_ct.public_key_der)
    assert head.size == 5 and head.root == lab_ct.sth.root
    for bad, origin in ((text.replace("\n5\n", "\n6\n", 1), lab_ct.origin), (text, "other.example/log"),
                        (text.split("\n\n")[0], lab_ct.origin), ("garbage", lab_ct.origin)):
        with pytest.raises(VerificationError):
            parse_checkpoint(bad, origin, lab_ct.public_key_der)
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(VerificationError):
        parse_checkpoint(text, lab_ct.origin, other)


def test_tile_paths() -> None:
    assert tile_path(0) == "000" and tile_path(1234067) == "x001/x234/067" and tile_path(1000) == "x001/000"


def test_entries_x509_and_precert(lab_ct) -> None:  # type: ignore[no-untyped-def]
    lab_ct.add_certificate(["a.hoshizora-login.top", "b.example.com"])
    lab_ct.add_certificate(["pre.example.org"], precert=True, issuer="Unexpected CA")
    lab_ct.integrate()
    x, p = lab_ct.entry(0), lab_ct.entry(1)
    ex = parse_leaf(0, F.merkle_tree_leaf(x), F.extra_data(x), want_hash=True)
    ep = parse_leaf(1, F.merkle_tree_leaf(p), F.extra_data(p))
    assert names(ex) == ["a.hoshizora-login.top", "b.example.com"] and not ex.precert
    assert names(ep) == ["pre.example.org"] and ep.precert
    dp = details(ep)
    assert dp["poison"] is True and dp["issuer"] == "Unexpected CA" and dp["precert"] is True
    assert details(ex)["poison"] is False
    tile = parse_tile(F.tile_leaf(x) + F.tile_leaf(p), 0, 2, want_hash=True)
    assert [names(e) for e in tile] == [names(ex), names(ep)]  # type: ignore[arg-type]
    assert tile[0].leaf_hash == ex.leaf_hash  # type: ignore[union-attr]


@pytest.mark.parametrize("leaf", [b"", b"\x00", b"\x01\x00" + b"\x00" * 20, b"\x00\x00" + b"\xff" * 12,
                                  b"\x00\x00" + b"\x00" * 8 + b"\x00\x00" + b"\xff\xff\xff"])
def test_hostile_leaves_raise_entry_error(leaf: bytes) -> None:
    with pytest.raises(EntryError):
        parse_leaf(7, leaf, b"")


def test_garbage_certificate_is_an_entry_error() -> None:
    leaf = b"\x00\x00" + b"\x00" * 8 + b"\x00\x00" + (4).to_bytes(3, "big") + b"\x30\x02\x01\x01" + b"\x00\x00"
    entry = parse_leaf(1, leaf, b"")
    with pytest.raises(EntryError):
        names(entry)


def test_truncated_tile_raises() -> None:
    with pytest.raises(EntryError):
        parse_tile(b"\x00" * 30, 0, 2)


def test_a_log_that_stops_growing_opens_a_finding(lab_ct, ct_ctx, matcher) -> None:  # type: ignore[no-untyped-def]
    lab_ct.add_noise(3)
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()
    with Session(ct_ctx.engine) as s:
        assert check_stale(ct_ctx, s) == 0
    ct_ctx.clock.advance(minutes=ct_ctx.settings.ct.stale_after_minutes + 1)
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()  # no growth
    with Session(ct_ctx.engine) as s:
        assert check_stale(ct_ctx, s) == 1
        assert s.exec(select(Finding).where(Finding.kind == "ct_log_stale")).one().status == FindingStatus.OPEN
    lab_ct.add_noise(1)
    LogReader(ct_ctx, log_infos(lab_ct, "static")[0], matcher=matcher).run()
    with Session(ct_ctx.engine) as s:
        assert check_stale(ct_ctx, s) == 0
        assert s.exec(select(Finding).where(Finding.kind == "ct_log_stale")).one().status == FindingStatus.RESOLVED

"""The lab's Merkle tree against the RFC 6962 reference vectors (as used by transparency-dev/merkle and
certificate-transparency-go) and against verifiers written from RFC 9162 in tests/lab/rfc6962.py."""

from __future__ import annotations

import hashlib

import pytest

from lab.merkle import MerkleTree
from tests.lab import rfc6962 as ref

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CONSISTENCY = [
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


@pytest.fixture
def tree() -> MerkleTree:
    t = MerkleTree()
    for leaf in LEAVES:
        t.append(leaf)
    return t


def test_roots_match_reference_vectors(tree: MerkleTree) -> None:
    assert [tree.root(n).hex() for n in range(9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_reference_vectors(tree: MerkleTree, index: int, size: int, proof: list[str]) -> None:
    assert [h.hex() for h in tree.inclusion_proof(index, size)] == proof


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_reference_vectors(tree: MerkleTree, first: int, second: int,
                                                    proof: list[str]) -> None:
    assert [h.hex() for h in tree.consistency_proof(first, second)] == proof


def test_every_proof_verifies_with_the_rfc_algorithm() -> None:
    t = MerkleTree()
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]
    for leaf in leaves:
        t.append(leaf)
    for size in range(1, 71):
        root = t.root(size)
        for index in range(size):
            path = t.inclusion_proof(index, size)
            assert ref.verify_inclusion(ref.leaf_hash(leaves[index]), index, size, path, root)
            if path:
                bad = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
                assert not ref.verify_inclusion(ref.leaf_hash(leaves[index]), index, size, bad, root)
        for first in range(1, size + 1):
            proof = t.consistency_proof(first, size)
            assert ref.verify_consistency(first, size, t.root(first), root, proof), (first, size)
            if first < size:
                assert not ref.verify_consistency(first, size, t.root(first), t.root(first - 1) if first > 1
                                                  else b"\x00" * 32, proof)


def test_tiles_are_slices_of_the_levels() -> None:
    t = MerkleTree()
    for i in range(256 * 3 + 5):
        t.append(i.to_bytes(4, "big"))
    level0 = t.tile(0, 1)
    assert len(level0) == 256 * 32
    assert level0[:32] == ref.leaf_hash((256).to_bytes(4, "big"))
    level1 = t.tile(1, 0, 3)  # three full level-0 tiles below
    assert level1[32:64] == t.subtree(256, 512)
    with pytest.raises(KeyError):
        t.tile(0, 3)  # only 5 leaves in the fourth tile

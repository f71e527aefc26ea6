"""RFC 6962 entries are verified one by one against the signed tree: the compact range kept with the
position (certspotter's collapsed tree), rebuilt from one inclusion proof when it is missing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from lab.merkle import MerkleTree, leaf_hash
from tests.ct.labhelp import log_infos
from watcher.context import Context
from watcher.core.models import Candidate, Finding, LogPosition
from watcher.discovery.ct.ingest import Ingest
from watcher.discovery.ct.merkle import CompactRange, VerificationError
from watcher.discovery.ct.reader import LogReader


def _tree(n: int) -> tuple[MerkleTree, list[bytes]]:
    t = MerkleTree()
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    for lh in leaves:
        t.append_hash(lh)
    return t, leaves


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=700), st.data())
def test_the_range_gives_every_prefix_root_and_rebuilds_from_a_proof(n: int, data: st.DataObject) -> None:
    t, leaves = _tree(n)
    r = CompactRange()
    for lh in leaves:
        r.append(lh)
    assert r.size == n and len(r.hashes) == n.bit_count() and r.root() == t.root(n)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    rebuilt = CompactRange.from_inclusion_proof(m, n, leaves[m], t.inclusion_proof(m, n), t.root(n))
    assert rebuilt.size == m + 1 and rebuilt.root() == t.root(m + 1)
    again = CompactRange.from_json(rebuilt.size, rebuilt.to_json())
    assert again.hashes == rebuilt.hashes


def test_a_wrong_proof_or_a_damaged_stored_range_is_refused() -> None:
    t, leaves = _tree(37)
    proof = t.inclusion_proof(20, 37)
    with pytest.raises(VerificationError):
        CompactRange.from_inclusion_proof(20, 37, leaves[21], proof, t.root(37))
    with pytest.raises(VerificationError):
        CompactRange.from_inclusion_proof(20, 37, leaves[20], proof[:-1], t.root(37))
    with pytest.raises(VerificationError):
        CompactRange.from_json(5, ["AAAA"])


def test_a_new_log_read_from_now_is_verified_from_its_first_entry(lab_ct, ctx: Context, matcher) -> None:
    lab_ct.add_noise(300)
    info = log_infos(lab_ct, "rfc6962")[0]
    assert LogReader(ctx, info, matcher=matcher).run().read == 0  # start_at = "now"
    lab_ct.add_certificate("hoshizora-login.top")
    lab_ct.add_noise(5)
    lab_ct.integrate()
    res = LogReader(ctx, info, matcher=matcher).run()
    assert res.error == "" and res.read == 6
    with Session(ctx.engine) as s:
        pos = s.exec(select(LogPosition)).one()
        assert pos.range_size == pos.next_index == lab_ct.sth.size
        assert CompactRange.from_json(pos.range_size, pos.compact_range).root() == lab_ct.tree.root()


def test_a_position_from_before_the_range_is_rebuilt_and_read_on(lab_ct, ct_ctx: Context, matcher) -> None:
    lab_ct.add_noise(600)
    info = log_infos(lab_ct, "rfc6962")[0]
    LogReader(ct_ctx, info, matcher=matcher).run(max_batches=1)
    with Session(ct_ctx.engine) as s:  # as the migration leaves an existing position
        pos = s.exec(select(LogPosition)).one()
        pos.compact_range, pos.range_size = [], -1
        s.add(pos)
        s.commit()
    res = LogReader(ct_ctx, info, matcher=matcher).run()
    assert res.error == "" and res.read == 600 - 256


def test_a_log_that_rewrites_an_entry_after_the_first_batch(lab_ct, ct_ctx: Context, matcher) -> None:
    """The first batch verifies and is committed; the batch holding the rewritten entry is not."""
    lab_ct.add_noise(300)
    lab_ct.add_certificate("hoshizora-sec-second-batch.top")
    lab_ct.add_noise(10)
    lab_ct.integrate()
    lab_ct.malform_entry(280)
    res = LogReader(ct_ctx, log_infos(lab_ct, "rfc6962")[0], matcher=matcher).run()
    assert "verification" in res.error and res.read == 256
    with Session(ct_ctx.engine) as s:
        assert s.exec(select(LogPosition)).one().next_index == 256
        assert s.exec(select(Finding).where(Finding.kind == "ct_log_invalid")).one()
        assert not s.exec(select(Candidate)).all()


class _RefusingIngest(Ingest):
    """A database write that fails for one name. Test double: SQLite accepts anything the matcher
    passes, so the refusal a stricter database would give is injected here."""

    def apply(self, session, hits, now):  # type: ignore[no-untyped-def]
        if any(m.name == "hoshizora-refused.top" for h in hits for m in h.matches):
            raise ValueError("value too long for type character varying(253)")
        return super().apply(session, hits, now)


def test_a_match_the_database_refuses_is_a_bad_entry_and_the_batch_goes_on(lab_ct, ct_ctx: Context, matcher) -> None:
    lab_ct.add_certificate("hoshizora-before.top")
    refused = lab_ct.add_certificate("hoshizora-refused.top")
    lab_ct.add_certificate("hoshizora-after.top")
    lab_ct.integrate()
    reader = LogReader(ct_ctx, log_infos(lab_ct, "rfc6962")[0], matcher=matcher)
    reader.ingest = _RefusingIngest(reader.ingest.matcher, reader.ingest.source)
    res = reader.run()
    assert res.error == "" and res.read == 3 and res.failed == 1
    with Session(ct_ctx.engine) as s:
        domains = set(s.exec(select(Candidate.domain)))
        pos = s.exec(select(LogPosition)).one()
    assert domains == {"hoshizora-before.top", "hoshizora-after.top"} and pos.next_index == 3
    assert pos.entries_failed == 1 and refused == 1

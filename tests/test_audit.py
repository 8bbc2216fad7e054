"""The pure audit core: record building, canonical JSON, seals and every tamper kind."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from werker_proxy import audit
from werker_proxy.audit import (
    GENESIS, Head, build_record, build_seal, canonical, encode_line, evolve_key, new_key,
    parse_key_file, format_key_file, record_hash, verify_files, verify_lines,
)

T0 = datetime(2026, 11, 29, 14, 0, 0, 123456, tzinfo=timezone.utc)
KEY = new_key(bytes(range(32)))


def chain(n: int, *, start: int = 1, prev: str = GENESIS, key=None, seal_every: int = 0):
    """``n`` records as lines; with ``key`` a seal after every ``seal_every`` records."""
    lines, k = [], key
    for i in range(n):
        seq = start + i
        now = T0 + timedelta(seconds=seq)
        if k is not None and seal_every and i % seal_every == 0:
            rec = build_seal(k, seq=seq, prev=prev, now=now)
            k = evolve_key(k)
        else:
            rec = build_record({"event": "request", "flow_id": f"f{seq}", "status": 200},
                               seq=seq, prev=prev, now=now)
        lines.append(encode_line(rec))
        prev = rec["hash"]
    return lines


def rehash(line: bytes, **changes) -> bytes:
    """The line with ``changes`` applied and a freshly computed (valid) hash."""
    rec = orjson.loads(line)
    rec.update(changes)
    rec["hash"] = record_hash(rec)
    return encode_line(rec)


def problem(lines, **kw):
    result = verify_lines(lines, name="a.jsonl", **kw)
    assert not result.ok
    return result.problem


def test_record_has_added_fields_and_hash_of_canonical_json():
    """build_record adds v, seq, ts (UTC, Z), prev and a hash over sorted, spaceless JSON."""
    rec = build_record({"event": "request", "b": 1, "a": "é"}, seq=1, prev=GENESIS, now=T0)
    assert rec["v"] == 1 and rec["seq"] == 1 and rec["prev"] == GENESIS
    assert rec["ts"] == "2026-11-29T14:00:00.123456Z"
    body = {k: v for k, v in rec.items() if k != "hash"}
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(rec) == expected.encode()
    assert rec["hash"] == hashlib.sha256(expected.encode()).hexdigest()


def test_timestamp_is_converted_to_utc():
    """A non-UTC aware time is written as UTC."""
    cet = timezone(timedelta(hours=1))
    rec = build_record({}, seq=1, prev=GENESIS, now=datetime(2026, 1, 1, 1, 0, tzinfo=cet))
    assert rec["ts"] == "2026-01-01T00:00:00.000000Z"


def test_naive_time_and_reserved_fields_are_refused():
    """Naive datetimes, writer-owned field names and non-JSON values raise ValueError."""
    with pytest.raises(ValueError):
        build_record({}, seq=1, prev=GENESIS, now=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        build_record({"hash": "x"}, seq=1, prev=GENESIS, now=T0)
    with pytest.raises(ValueError):
        build_record({"x": object()}, seq=1, prev=GENESIS, now=T0)


def test_record_is_what_json_round_trip_gives():
    """Tuples become lists, so the returned record equals the parsed line."""
    rec = build_record({"usage": (1, 2)}, seq=1, prev=GENESIS, now=T0)
    assert rec == orjson.loads(encode_line(rec))


def test_intact_chain_verifies():
    """An untouched chain verifies and is counted."""
    result = verify_lines(chain(10))
    assert result.ok and result.records == 10 and result.last_seq == 10
    assert result.summary() == "OK: 10 records, 0 seals, 1 files"


def test_empty_input_verifies():
    """An empty file is a valid (empty) log."""
    assert verify_lines([]).ok


def test_edited_record_is_named():
    """A changed field without a new hash is an edit at that line."""
    lines = chain(6)
    lines[3] = lines[3].replace(b'"status":200', b'"status":201')
    p = problem(lines)
    assert (p.line, p.kind) == (4, audit.EDITED) and "hash" in p.message


def test_edited_record_with_recomputed_hash_breaks_the_next_link():
    """An edit with a recomputed hash is caught at the next line's prev."""
    lines = chain(6)
    lines[3] = rehash(lines[3], status=500)
    p = problem(lines)
    assert (p.line, p.kind) == (5, audit.BROKEN_LINK)


def test_reserialized_line_is_an_edit():
    """Whitespace added to a line (same content) is reported as an edit."""
    lines = chain(4)
    lines[1] = lines[1].replace(b'","', b'", "', 1)
    p = problem(lines)
    assert (p.line, p.kind) == (2, audit.EDITED) and "canonical" in p.message


def test_inserted_copy_is_named():
    """A record copied right after itself is an inserted record."""
    lines = chain(6)
    lines.insert(3, lines[2])
    p = problem(lines)
    assert (p.line, p.kind) == (4, audit.INSERTED)


def test_inserted_forged_record_is_named():
    """A forged record with a valid hash and the next seq is found at the duplicate seq."""
    lines = chain(6)
    prev = orjson.loads(lines[2])["hash"]
    forged = build_record({"event": "request", "flow_id": "evil"}, seq=4, prev=prev, now=T0)
    lines.insert(3, encode_line(forged))
    p = problem(lines)
    assert (p.line, p.kind) == (5, audit.INSERTED)


def test_inserted_record_with_wrong_prev_is_named():
    """A record with the right seq but a wrong prev breaks the link at its own line."""
    lines = chain(6)
    lines[3] = rehash(lines[3], prev="1" * 64)
    p = problem(lines)
    assert (p.line, p.kind) == (4, audit.BROKEN_LINK)


def test_deleted_record_is_named():
    """A missing record is a seq gap at the line where it should be."""
    lines = chain(8)
    del lines[4]
    p = problem(lines)
    assert (p.line, p.kind) == (5, audit.DELETED) and "1 record" in p.message


def test_deleted_last_records_before_gap_at_end():
    """Deleting records before the very last line is still a deletion."""
    lines = chain(8)
    del lines[5:7]
    p = problem(lines)
    assert (p.line, p.kind) == (6, audit.DELETED)


def test_reordered_records_are_named():
    """Two swapped records are reported as out of order at the first of them."""
    lines = chain(8)
    lines[3], lines[4] = lines[4], lines[3]
    p = problem(lines)
    assert (p.line, p.kind) == (4, audit.REORDERED)


def test_record_moved_down_is_a_gap_where_it_was_taken():
    """A record moved further down shows first as a deletion where it was taken out."""
    lines = chain(8)
    lines.insert(5, lines.pop(1))  # seq 2 now sits between seq 6 and seq 7
    p = problem(lines)
    assert (p.line, p.kind) == (2, audit.DELETED)


def test_truncated_tail_is_caught_by_the_head():
    """Records cut from the end are found via the head file."""
    lines = chain(10)
    last = orjson.loads(lines[-1])
    p = problem(lines[:8], head=Head(last["seq"], last["hash"]))
    assert (p.line, p.kind) == (9, audit.TRUNCATED) and "2 record(s)" in p.message


def test_head_behind_the_log_is_fine_but_must_match():
    """A head that lags verifies; one whose hash differs from that record fails there."""
    lines = chain(10)
    rec5 = orjson.loads(lines[4])
    assert verify_lines(lines, head=Head(5, rec5["hash"])).ok
    p = problem(lines, head=Head(5, "f" * 64))
    assert (p.line, p.kind) == (5, audit.TRUNCATED)


def test_half_written_last_line_is_reported_as_such():
    """A last line without a newline is a half-written line."""
    lines = chain(5)
    lines.append(lines.pop()[:30])
    p = problem(lines)
    assert (p.line, p.kind) == (5, audit.PARTIAL) and "half-written" in p.message


def test_recovered_partial_line_verifies():
    """A partial line closed by the writer and followed by a matching `recovered` verifies."""
    lines = chain(5)
    partial = b'{"event":"requ'
    prev = orjson.loads(lines[-1])["hash"]
    rec = build_record({"event": "recovered", "partial_bytes": len(partial)},
                       seq=6, prev=prev, now=T0)
    lines += [partial + b"\n", encode_line(rec)]
    assert verify_lines(lines).ok


def test_garbage_line_is_named():
    """A non-JSON line (not excused by a `recovered` record) is garbage at its line."""
    lines = chain(5)
    lines.insert(2, b"hello world\n")
    p = problem(lines)
    assert (p.line, p.kind) == (3, audit.GARBAGE)


def test_json_that_is_not_a_record_is_malformed():
    """A JSON line lacking seq/prev/hash is malformed."""
    lines = chain(3)
    lines.insert(1, b'{"event":"request"}\n')
    p = problem(lines)
    assert (p.line, p.kind) == (2, audit.MALFORMED)


def test_first_record_must_start_at_genesis():
    """Seq 1 with a non-zero prev is a broken link."""
    lines = chain(3, prev="a" * 64)
    assert problem(lines).kind == audit.BROKEN_LINK


def test_series_verifies_in_any_order_and_counts_files():
    """Files of a series given out of order are sorted by their first seq."""
    lines = chain(30)
    files = [("c", lines[20:]), ("a", lines[:10]), ("b", lines[10:20])]
    result = verify_files(files)
    assert result.ok and (result.records, result.files) == (30, 3)


def test_missing_middle_file_is_named():
    """A gap between files names the file after the hole."""
    lines = chain(30)
    result = verify_files([("c", lines[20:]), ("a", lines[:10])])
    assert not result.ok
    assert (result.problem.file, result.problem.line, result.problem.kind) == \
        ("c", 1, audit.MISSING_FILE)


def test_same_file_twice_is_an_overlap():
    """Giving the same file twice is reported, not silently merged."""
    lines = chain(10)
    result = verify_files([("a", lines), ("b", lines)])
    assert result.problem is not None and result.problem.kind == audit.OVERLAP


def test_mid_series_start_fails_unless_declared():
    """A series that does not start at seq 1 is a deletion at its first line, unless the caller
    declares the start (start=11) or accepts any (start=None); a note says where it starts."""
    lines = chain(30)[10:]
    result = verify_lines(lines)
    assert not result.ok and (result.problem.line, result.problem.kind) == (1, audit.DELETED)
    for start in (11, None):
        result = verify_lines(lines, start=start)
        assert result.ok and any("seq 11" in n for n in result.notes)


def test_seals_verify_with_the_initial_key():
    """Seals made with evolving keys verify with key 0."""
    lines = chain(40, key=KEY, seal_every=10)
    result = verify_lines(lines, key=KEY)
    assert result.ok and result.seals == 4


def test_seals_fail_with_a_wrong_key():
    """Another key (different key id) fails at the first seal."""
    lines = chain(40, key=KEY, seal_every=10)
    p = problem(lines, key=new_key(b"\x01" * 32))
    assert (p.line, p.kind) == (1, audit.SEAL) and "wrong key" in p.message


def test_seal_key_with_forged_bytes_but_same_id_fails():
    """A key with the right id but other bytes does not verify the MAC."""
    lines = chain(20, key=KEY, seal_every=10)
    fake = audit.SealKey(0, b"\x02" * 32, KEY.key_id)
    assert problem(lines, key=fake).kind == audit.SEAL


def test_forged_seal_fails():
    """A seal whose MAC was replaced (hash recomputed) does not verify."""
    lines = chain(30, key=KEY, seal_every=10)
    lines[10] = rehash(lines[10], mac="0" * 64)
    lines[11:] = chain(19, start=12, prev=orjson.loads(lines[10])["hash"])
    p = problem(lines, key=KEY)
    assert (p.line, p.kind) == (11, audit.SEAL) and "MAC" in p.message
    assert verify_lines(lines).ok  # without the key only the chain is checked


def test_rewritten_history_fails_at_the_old_seal():
    """Rewriting records before a seal (and re-hashing all) breaks that seal's MAC."""
    lines = chain(30, key=KEY, seal_every=10)
    prev = GENESIS
    for i, line in enumerate(lines):
        lines[i] = rehash(line, prev=prev, **({"status": 500} if i == 3 else {}))
        prev = orjson.loads(lines[i])["hash"]
    assert verify_lines(lines).ok
    p = problem(lines, key=KEY)
    assert (p.line, p.kind) == (11, audit.SEAL)


def test_stripped_seals_fail_with_key():
    """With --key, a log without any seal fails."""
    assert problem(chain(5), key=KEY).kind == audit.UNSEALED


def test_seal_index_must_grow():
    """A seal that repeats an earlier key index is refused."""
    lines = chain(21, key=KEY, seal_every=10)
    lines[20] = rehash(lines[20], key_index=0)
    p = problem(lines)
    assert (p.line, p.kind) == (21, audit.SEAL)


def test_later_key_cannot_check_older_seals():
    """Verifying with a later key (the host's current one) says to use the initial key."""
    lines = chain(30, key=KEY, seal_every=10)
    p = problem(lines, key=evolve_key(KEY, 2))
    assert p.kind == audit.SEAL and "initial" in p.message


def test_key_file_round_trip_and_evolution():
    """A key file parses back; evolving is deterministic and changes the key."""
    k1 = evolve_key(KEY)
    assert parse_key_file(format_key_file(k1)) == k1
    assert k1.key != KEY.key and k1.key_id == KEY.key_id and evolve_key(KEY, 3) == \
        evolve_key(evolve_key(k1, 1), 1)
    with pytest.raises(ValueError):
        parse_key_file(b'{"v":1}')


def test_last_record_finds_partial_tail():
    """The tail reader returns the last full record and the partial byte count."""
    lines = chain(3)
    rec, partial, found = audit.last_record(b"".join(lines) + b"xyz", at_start=True)
    assert found and partial == 3 and rec["seq"] == 3
    assert audit.last_record(lines[2][5:], at_start=False)[2] is False


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_detected(data):
    """Changing any one byte anywhere in a log makes verification fail."""
    blob = bytearray(b"".join(chain(6)))
    i = data.draw(st.integers(0, len(blob) - 1))
    b = data.draw(st.integers(0, 255).filter(lambda b: b != blob[i]))
    blob[i] = b
    assert not verify_lines(bytes(blob).splitlines(keepends=True)).ok


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(min_size=1).filter(lambda k: k not in audit.ADDED_FIELDS),
                       st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53)
                                    | st.text(), lambda c: st.lists(c, max_size=3)
                                    | st.dictionaries(st.text(), c, max_size=3), max_leaves=8),
                       max_size=6))
def test_any_fields_round_trip_through_a_valid_chain(fields):
    """Whatever JSON fields the caller gives, the written line verifies."""
    rec = build_record(fields, seq=1, prev=GENESIS, now=T0)
    assert verify_lines([encode_line(rec)]).ok

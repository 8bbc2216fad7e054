"""The audit writer: continuity, recovery, rotation, seals, concurrency and failures."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import threading
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from werker_proxy import audit
from werker_proxy.audit import encode_line, evolve_key, new_key, parse_key_file, verify_files
from werker_proxy.auditlog import AuditLog, rotated_files
from werker_proxy.errors import AuditError


class Clock:
    """A settable UTC clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 14, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def verify(path, key=None, drop=()):
    """Verify ``path`` and its rotated files (minus ``drop``) with the head file."""
    files = [f for f in [*rotated_files(str(path)), str(path)] if f not in drop]
    heads = {}
    if os.path.exists(f"{path}.head"):
        heads[str(path)] = audit.parse_head(open(f"{path}.head", "rb").read())
    return verify_files([(f, open(f, "rb").readlines()) for f in files], key=key, heads=heads)


def records(path):
    return [orjson.loads(line) for line in open(path, "rb")]


def fields(i: int = 0) -> dict:
    return {"event": "request", "flow_id": f"flow-{i}", "method": "POST",
            "host": "api.werker.health", "path": "/v1/responses", "status": 200}


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "audit.jsonl")


@pytest.fixture
def keys(tmp_path):
    """(initial key, seal key file path) as `audit keygen` leaves them."""
    key = new_key(os.urandom(32))
    seal = tmp_path / "seal.key"
    seal.write_bytes(audit.format_key_file(key))
    return key, str(seal)


def test_append_writes_one_canonical_line_and_returns_it(path):
    """append returns the record it wrote, as one canonical line, in a 0600 file."""
    with AuditLog(path, fsync="never") as log:
        rec = log.append(fields())
    assert open(path, "rb").read() == encode_line(rec)
    assert rec["seq"] == 1 and rec["prev"] == "0" * 64 and rec["flow_id"] == "flow-0"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert verify(path).ok


def test_restart_continues_the_chain(path):
    """Closing and reopening continues seq and prev; the whole file verifies."""
    for round_ in range(3):
        with AuditLog(path, fsync="never") as log:
            for i in range(5):
                log.append(fields(i))
    assert [r["seq"] for r in records(path)] == list(range(1, 16))
    assert verify(path).records == 15


def test_restart_after_a_record_larger_than_the_tail_chunk(path):
    """A last record bigger than the tail read size is still found."""
    with AuditLog(path, fsync="never") as log:
        log.append(fields())
        log.append({**fields(), "metadata": {"note": "x" * 300_000}})
    with AuditLog(path, fsync="never") as log:
        assert log.append(fields())["seq"] == 3
    assert verify(path).ok


def test_half_written_last_line_is_recovered(path):
    """A crash mid-line is closed and noted by a `recovered` record; the chain verifies."""
    with AuditLog(path, fsync="never") as log:
        log.append(fields())
    with open(path, "ab") as f:
        f.write(b'{"event":"request","flo')
    assert verify(path).problem.kind == audit.PARTIAL
    with AuditLog(path, fsync="never") as log:
        log.append(fields(2))
    lines = open(path, "rb").read().splitlines()
    recovered = orjson.loads(lines[2])
    assert recovered["event"] == "recovered" and recovered["partial_bytes"] == 23
    assert recovered["prev"] == orjson.loads(lines[0])["hash"]
    assert verify(path).ok


def test_size_rotation_links_files_and_a_missing_middle_file_fails(path):
    """Size rotation makes 3+ files that verify as one chain; without the middle one it fails."""
    with AuditLog(path, fsync="never", rotate_bytes=1500) as log:
        for i in range(40):
            log.append(fields(i))
    olds = rotated_files(path)
    assert len(olds) >= 3 and olds == sorted(olds)
    first = records(path)[0]
    assert first["event"] == "rotated" and first["previous_file"] == os.path.basename(olds[-1])
    result = verify(path)
    assert result.ok and result.files == len(olds) + 1 and result.records == 40 + len(olds)
    bad = verify(path, drop=[olds[1]])
    assert bad.problem.kind == audit.MISSING_FILE and bad.problem.file == olds[2]


def test_daily_rotation_names_files_by_their_first_day(path):
    """A new UTC day starts a new file named after the old file's first record time."""
    clock = Clock()
    with AuditLog(path, fsync="never", rotate_daily=True, clock=clock) as log:
        log.append(fields(1))
        clock.tick(hours=12)
        log.append(fields(2))
    assert [os.path.basename(p) for p in rotated_files(path)] == \
        ["audit.jsonl.20261129T140000Z-000000000001"]
    assert verify(path).ok


def test_restart_after_rotation_continues_from_rotated_file(path):
    """If the current file is gone right after a rotation, the chain continues from the old file."""
    with AuditLog(path, fsync="never") as log:
        log.append(fields())
    os.rename(path, path + ".20261129T140000Z-000000000001")
    os.unlink(path + ".head")
    with AuditLog(path, fsync="never") as log:
        assert log.append(fields())["seq"] == 2
    assert verify(path).ok


def test_seals_verify_with_the_initial_key_only(path, keys):
    """Seals written every N records verify with key 0 and fail with another key."""
    key, seal_file = keys
    with AuditLog(path, fsync="never", seal_key_file=seal_file, seal_every_records=10) as log:
        for i in range(35):
            log.append(fields(i))
    result = verify(path, key=key)
    assert result.ok and result.seals >= 4
    assert verify(path, key=new_key(os.urandom(32))).problem.kind == audit.SEAL


def test_forged_seal_fails(path, keys):
    """A seal rewritten by someone without the key fails verification."""
    key, seal_file = keys
    with AuditLog(path, fsync="never", seal_key_file=seal_file, seal_every_records=5) as log:
        for i in range(12):
            log.append(fields(i))
    lines = open(path, "rb").read().splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if b'"seal"' in line and i > 0)
    forged = orjson.loads(lines[n])
    forged["mac"] = "ab" * 32
    forged["hash"] = audit.record_hash(forged)
    open(path, "wb").write(b"".join(lines[:n]) + encode_line(forged))
    os.unlink(path + ".head")
    problem = verify(path, key=key).problem
    assert (problem.line, problem.kind) == (n + 1, audit.SEAL)


def test_key_file_forgets_old_keys(path, keys):
    """After a seal the key file holds only the next key; no old key is left on disk."""
    key, seal_file = keys
    with AuditLog(path, fsync="never", seal_key_file=seal_file, seal_every_records=3) as log:
        for i in range(10):
            log.append(fields(i))
    on_disk = parse_key_file(open(seal_file, "rb").read())
    seals = [r for r in records(path) if r["event"] == "seal"]
    assert on_disk.index == seals[-1]["key_index"] + 1 == len(seals)
    assert on_disk == evolve_key(key, on_disk.index)
    dir_bytes = b"".join(open(os.path.join(os.path.dirname(seal_file), f), "rb").read()
                         for f in os.listdir(os.path.dirname(seal_file)))
    for i in range(on_disk.index):
        old = evolve_key(key, i).key
        assert old.hex().encode() not in dir_bytes and old not in dir_bytes
    assert stat.S_IMODE(os.stat(seal_file).st_mode) == 0o600


def test_seal_on_timer(path, keys):
    """maybe_seal seals once the seal interval has passed and there is something to seal."""
    key, seal_file = keys
    clock = Clock()
    with AuditLog(path, fsync="never", seal_key_file=seal_file, seal_every_seconds=60,
                  clock=clock) as log:
        log.append(fields())
        assert log.maybe_seal() is None
        clock.tick(seconds=61)
        assert log.maybe_seal()["event"] == "seal"
        assert log.maybe_seal() is None
    assert verify(path, key=key).ok


def test_truncated_tail_is_detected_and_blocks_restart(path):
    """Records cut from the end fail verify (head file) and the writer refuses to continue."""
    with AuditLog(path, fsync="always") as log:
        for i in range(10):
            log.append(fields(i))
    lines = open(path, "rb").read().splitlines(keepends=True)
    open(path, "wb").write(b"".join(lines[:7]))
    problem = verify(path).problem
    assert (problem.line, problem.kind) == (8, audit.TRUNCATED)
    with pytest.raises(AuditError, match="head"):
        AuditLog(path, fsync="never")


def test_concurrent_appends_keep_file_order_equal_to_seq(path):
    """8 threads x 200 appends with fsync=always: all written, seq increases line by line."""
    with AuditLog(path, fsync="always") as log:
        def work(t: int) -> None:
            for i in range(200):
                log.append(fields(t * 1000 + i))
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    recs = records(path)
    assert [r["seq"] for r in recs] == list(range(1, 1601))
    assert {r["flow_id"] for r in recs} == {f"flow-{t * 1000 + i}" for t in range(8)
                                            for i in range(200)}
    assert verify(path).ok


def test_path_that_is_a_directory_raises(path):
    """An audit path that cannot be opened raises AuditError."""
    os.mkdir(path)
    with pytest.raises(AuditError):
        AuditLog(path)


def test_disk_full_raises_and_the_next_append_recovers(path, monkeypatch):
    """ENOSPC mid-line raises AuditError; once space is back the chain continues and verifies."""
    log = AuditLog(path, fsync="never")
    log.append(fields(1))
    real_write = os.write

    def half_then_full(fd, data):
        if fd == log._fd and len(data) > 10:
            real_write(fd, bytes(data[:10]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(AuditError, match="No space"):
        log.append(fields(2))
    monkeypatch.setattr(os, "write", real_write)
    rec = log.append(fields(3))
    log.close()
    assert rec["seq"] == 3  # seq 2 is the `recovered` record
    lines = open(path, "rb").read().splitlines()
    assert len(lines[1]) == 10 and orjson.loads(lines[2])["partial_bytes"] == 10
    assert verify(path).ok


def test_removed_or_replaced_file_raises(path, tmp_path):
    """A log unlinked or replaced underneath the writer makes every append fail."""
    log = AuditLog(path, fsync="never")
    log.append(fields())
    os.unlink(path)
    with pytest.raises(AuditError, match="gone"):
        log.append(fields())
    log.close()
    log = AuditLog(str(tmp_path / "b.jsonl"), fsync="never")
    os.rename(tmp_path / "b.jsonl", tmp_path / "old")
    (tmp_path / "b.jsonl").write_bytes(b"")
    with pytest.raises(AuditError, match="replaced"):
        log.append(fields())
    log.close()


def test_missing_directory_raises(tmp_path):
    """A removed log directory makes append fail."""
    d = tmp_path / "logs"
    d.mkdir()
    log = AuditLog(str(d / "audit.jsonl"), fsync="never")
    shutil.rmtree(d)
    with pytest.raises(AuditError):
        log.append(fields())
    log.close()


def test_failed_fsync_poisons_the_writer(path, monkeypatch):
    """An fsync error fails this append and every later one."""
    log = AuditLog(path, fsync="always")

    def eio(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(AuditError, match="fsync"):
        log.append(fields())
    monkeypatch.undo()
    with pytest.raises(AuditError):
        log.append(fields())
    log.close()


def test_caller_cannot_write_writer_events_or_non_json(path):
    """Reserved events, reserved fields and non-JSON values raise AuditError."""
    with AuditLog(path, fsync="never") as log:
        for bad in ({"event": "seal"}, {"seq": 5}, {"x": {1, 2}}):
            with pytest.raises(AuditError):
                log.append(bad)
        log.append(fields())
    assert verify(path).records == 1


def test_writer_adds_no_strings_of_its_own_beyond_chain_fields(path, keys):
    """Every string in the log is the caller's or a chain value (ts, hash, mac, names)."""
    key, seal_file = keys
    given = fields(7)
    with AuditLog(path, fsync="never", seal_key_file=seal_file, seal_every_records=2,
                  rotate_bytes=800) as log:
        for _ in range(6):
            log.append(given)
    allowed_keys = set(given) | {"v", "seq", "ts", "prev", "hash", "key_index", "key_id",
                                 "mac", "previous_file"}
    blob = b"".join(open(f, "rb").read() for f in [*rotated_files(path), path])
    for i in range(20):
        assert evolve_key(key, i).key.hex().encode() not in blob
    for f in [*rotated_files(path), path]:
        for rec in records(f):
            assert set(rec) <= allowed_keys
            if rec["event"] == "request":
                assert {k: rec[k] for k in given} == given


def test_interval_mode_updates_head_on_interval(path):
    """fsync=interval writes the head file once the interval has passed."""
    clock = Clock()
    with AuditLog(path, fsync="interval", fsync_interval=1.0, clock=clock) as log:
        log.append(fields())
        clock.tick(seconds=2)
        log.append(fields())
        assert audit.parse_head(open(path + ".head", "rb").read()).seq == 2


def test_second_writer_on_the_same_log_is_refused(path):
    """Two writers would fork the chain, so the second open raises AuditError."""
    with AuditLog(path, fsync="never", rotate_bytes=300) as log:
        for i in range(5):
            log.append(fields(i))  # rotates: the new file is locked too
        with pytest.raises(AuditError, match="another audit writer"):
            AuditLog(path, fsync="never")
    with AuditLog(path, fsync="never") as log:
        log.append(fields())
    assert verify(path).ok

"""The audit writer: the only code that touches the audit files.

``AuditLog(path, ...)`` appends one record per ``append(fields)`` as one ``os.write`` to a file
opened ``O_APPEND``, under a lock, so ``seq`` order is file order; an exclusive ``flock`` keeps a
second writer (process or instance) off the same log. Seals are checked on each append; call
``maybe_seal()`` from a timer so a quiet proxy still seals. Files next to ``path``:

* ``<path>.head`` — ``{"hash","seq","v"}`` of the last record known to be written; replaced
  atomically after each fsync batch (``always``), each interval (``interval``/``never``), at
  rotation and on close. ``audit verify`` fails if the log ends before it. It can lag behind
  the log (records after it could be cut undetected by the head; seals bound that too).
* ``<path>.<YYYYmmddTHHMMSSZ>-<first seq, 12 digits>`` — a rotated file; the stamp is the time
  of its first record, so names sort in order and ``audit.jsonl.20261129T*`` is one day.
  The new file starts with a ``rotated`` record that links to the last record of the old one.
* the seal key file (``seal_key_file``), replaced atomically by the next key after each seal.

On open the writer continues the chain from the last record (of this file, or of the newest
rotated file / head file when this file is new). A half-written last line is closed with a
newline and followed by a ``recovered`` record. If the head file is ahead of the log, records
were removed while the proxy was down: the writer refuses to start (``AuditError``) until an
operator has looked (``audit verify``) and removed the head file.

``scrub`` (a ``str -> str`` redactor, settable later as ``log.scrub``) runs over every string
a record copies from the call before it is hashed (see ``audit.scrub_fields``); if it raises,
``append`` raises ``AuditError`` and writes nothing.

A failed ``fsync`` (or a file replaced underneath) poisons the writer: every later ``append``
raises ``AuditError`` until a new ``AuditLog`` is opened. ``fsync="always"`` does group commit:
callers whose records were written while an fsync ran share the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, Literal

from werker_proxy.audit import (
    GENESIS, WRITER_EVENTS, Head, SealKey, build_record, build_seal, encode_line, evolve_key,
    format_head, format_key_file, last_record, parse_head, parse_key_file, scrub_fields,
)
from werker_proxy.errors import AuditError

FsyncPolicy = Literal["always", "interval", "never"]
_TAIL_CHUNK = 64 * 1024
_ROTATED = re.compile(r"\.\d{8}T\d{6}Z-\d{12}$")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def rotated_files(path: str) -> list[str]:
    """The rotated files of ``path``, oldest first."""
    return sorted(p for p in glob.glob(glob.escape(path) + ".*") if _ROTATED.search(p))


def write_atomically(path: str, data: bytes, *, sync: bool = True) -> None:
    """Replace ``path`` by ``data`` (mode 0600): temp file, fsync, rename, fsync directory."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync:
        _fsync_dir(path)


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    done = 0
    while done < len(data):
        done += os.write(fd, view[done:])
    return done


def _open_locked(path: str, flags: int) -> int:
    """Open with mode 0600 and take an exclusive ``flock``: one writer per log, or AuditError."""
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AuditError(f"{path} is already open by another audit writer") from None
    return fd


def _fsync_dir(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_tail(path: str) -> tuple[dict[str, Any] | None, int, int]:
    """``(last record, partial bytes, file size)`` without reading the whole file."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        chunk = _TAIL_CHUNK
        while True:
            start = max(0, size - chunk)
            f.seek(start)
            rec, partial, found = last_record(f.read(size - start), at_start=start == 0)
            if found:
                return rec, partial, size
            chunk *= 4


def _read_first(path: str) -> dict[str, Any] | None:
    """The first record of ``path`` (among its first three lines), or None."""
    with open(path, "rb") as f:
        for _ in range(3):
            line = f.readline(16 * 1024 * 1024)
            try:
                rec, _, _ = last_record(line, at_start=True)
            except ValueError:
                continue
            if rec is not None:
                return rec
    return None


class AuditLog:
    """Append-only, hash-chained, optionally sealed audit log (thread-safe)."""

    def __init__(self, path: str, *, fsync: FsyncPolicy = "always", fsync_interval: float = 1.0,
                 rotate_bytes: int | None = None, rotate_daily: bool = False,
                 seal_key_file: str | None = None, seal_every_records: int = 1000,
                 seal_every_seconds: float = 60.0,
                 clock: Callable[[], datetime] = _utcnow,
                 scrub: Callable[[str], str] | None = None) -> None:
        if fsync not in ("always", "interval", "never"):
            raise ValueError(f"fsync must be always, interval or never, not {fsync!r}")
        self.path = os.path.abspath(path)
        self.head_path = self.path + ".head"
        self._fsync = fsync
        self._interval = fsync_interval
        self._rotate_bytes = rotate_bytes
        self._rotate_daily = rotate_daily
        self._key_file = seal_key_file
        self._seal_records = seal_every_records
        self._seal_seconds = seal_every_seconds
        self._clock = clock
        self.scrub = scrub  # the addon replaces it when a new config (new rules) loads
        self._lock = threading.Lock()  # order of writes; taken before _cond
        self._cond = threading.Condition(threading.Lock())  # group commit state
        self._syncing = False
        self._written = Head(0, GENESIS)  # last record written (guarded by _cond)
        self._synced = 0  # last seq made durable
        self._failed: str | None = None
        self._partial = 0  # bytes of a line a failed write left behind
        self._closed = False
        self._key: SealKey | None = None
        self._fd = -1
        self._seq, self._hash, self._size = 0, GENESIS, 0
        self._file_first: tuple[int, str] | None = None  # (seq, ts) of this file's first record
        self._since_seal = 0
        self._sealed_at = self._last_sync = clock()
        try:
            self._open(clock())
        except OSError as e:
            self._close_fd()
            where = f"{e.filename}: " if e.filename else ""
            raise AuditError(f"cannot open audit log {self.path}: {where}{e.strerror or e}") from e
        except (AuditError, ValueError) as e:
            self._close_fd()
            raise AuditError(f"cannot open audit log {self.path}: {e}") from e

    # --- public -----------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The seq of the last record written (0 before the first record ever)."""
        return self._seq

    def append(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Write one record for ``fields`` and return it; ``AuditError`` if it cannot be written."""
        if fields.get("event") in WRITER_EVENTS:
            raise AuditError(f"event {fields['event']!r} is reserved for the audit writer")
        scrub = self.scrub
        if scrub is not None:
            try:
                fields = scrub_fields(fields, scrub)
            except Exception as e:  # noqa: BLE001 - any scrub failure: write nothing
                # the type only: an error message could quote the very value being scrubbed
                raise AuditError(f"cannot scrub an audit record ({type(e).__name__})") from None
        with self._lock:
            self._check()
            now = self._clock()
            try:
                self._before_write(now)
                record = self._write(fields, now)
                self._after_write(now)
            except OSError as e:
                raise AuditError(f"cannot write audit log {self.path}: {e.strerror or e}") from e
            target = self._seq
        self._sync_upto(target)
        return record

    def maybe_seal(self) -> dict[str, Any] | None:
        """Seal now if a seal key is set, records were added and the seal interval passed."""
        with self._lock:
            self._check()
            if self._key is None or self._since_seal == 0:
                return None
            now = self._clock()
            if (now - self._sealed_at).total_seconds() < self._seal_seconds:
                return None
            try:
                record = self._seal(now)
            except OSError as e:
                raise AuditError(f"cannot seal audit log {self.path}: {e.strerror or e}") from e
            target = self._seq
        self._sync_upto(target)
        return record

    def close(self) -> None:
        """Seal (with a key), make everything durable, update the head file, close."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._failed is None:
                    if self._key is not None and self._since_seal:
                        self._seal(self._clock())
                    self._quiesce(sync=True)
                    self._write_head()
            except OSError as e:
                raise AuditError(f"cannot close audit log {self.path}: {e.strerror or e}") from e
            finally:
                self._close_fd()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- open / recover ---------------------------------------------------------------

    def _open(self, now: datetime) -> None:
        if self._key_file is not None:
            try:
                with open(self._key_file, "rb") as f:
                    self._key = parse_key_file(f.read())
            except ValueError as e:
                raise AuditError(f"seal key file {self._key_file}: {e}") from e
        self._fd = _open_locked(self.path, os.O_APPEND | os.O_CREAT | os.O_WRONLY)
        last, partial, size = _read_tail(self.path) if os.fstat(self._fd).st_size else (None, 0, 0)
        head = self._read_head()
        if last is None:  # a new file: continue from the rotated files or the head file
            olds = rotated_files(self.path)
            last = _read_tail(olds[-1])[0] if olds else None
        tail = Head(last["seq"], last["hash"]) if last else Head(0, GENESIS)
        if head is not None and (head.seq > tail.seq or (head.seq == tail.seq
                                                         and head.hash != tail.hash)):
            raise AuditError(
                f"the log ends at seq {tail.seq} but {self.head_path} says seq {head.seq} was "
                "written: records were removed (or lost in a crash with fsync=never); "
                "run `werker-proxy audit verify`, then remove the head file to go on")
        self._seq, self._hash = tail.seq, tail.hash
        self._written = tail
        self._synced = tail.seq
        self._size = size
        first = _read_first(self.path) if size else None
        self._file_first = (first["seq"], first["ts"]) if first else None
        self._since_seal = 0
        self._sealed_at = now
        self._last_sync = now
        if partial:
            self._partial = partial
            self._recover(now)
        if self._key is not None:
            self._seal(now)
        if self._fsync != "never" and (partial or self._key is not None):
            os.fsync(self._fd)
            self._synced = self._seq

    def _read_head(self) -> Head | None:
        try:
            with open(self.head_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        if not data:
            return None  # a crash before the first head update landed
        try:
            return parse_head(data)
        except ValueError as e:
            raise AuditError(f"{self.head_path}: {e}; remove it after checking the log") from e

    def _recover(self, now: datetime) -> None:
        """Close the half-written line and say so in a ``recovered`` record."""
        record = build_record({"event": "recovered", "partial_bytes": self._partial},
                              seq=self._seq + 1, prev=self._hash, now=now)
        self._emit(record, b"\n" + encode_line(record))
        self._partial = 0

    # --- writing ----------------------------------------------------------------------

    def _check(self) -> None:
        if self._closed:
            raise AuditError(f"audit log {self.path} is closed")
        if self._failed is not None:
            raise AuditError(self._failed)
        try:
            st, cur = os.fstat(self._fd), os.stat(self.path)
        except OSError as e:
            self._failed = f"audit log {self.path} is gone: {e.strerror or e}"
            raise AuditError(self._failed) from e
        if (st.st_dev, st.st_ino) != (cur.st_dev, cur.st_ino):
            self._failed = f"audit log {self.path} was replaced underneath the writer"
            raise AuditError(self._failed)

    def _before_write(self, now: datetime) -> None:
        if self._partial:
            self._recover(now)
        if self._size and (
            (self._rotate_bytes is not None and self._size >= self._rotate_bytes)
            or (self._rotate_daily and self._file_day() != now.astimezone(timezone.utc).date())
        ):
            self._rotate(now)

    def _write(self, fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        try:
            record = build_record(fields, seq=self._seq + 1, prev=self._hash, now=now)
        except ValueError as e:
            raise AuditError(str(e)) from e
        self._emit(record, encode_line(record))
        return record

    def _after_write(self, now: datetime) -> None:
        if self._key is not None and (
            self._since_seal >= self._seal_records
            or (now - self._sealed_at).total_seconds() >= self._seal_seconds
        ):
            self._seal(now)
        if self._fsync != "always" and (now - self._last_sync).total_seconds() >= self._interval:
            if self._fsync == "interval":
                os.fsync(self._fd)
                self._synced = self._seq
            self._write_head()
            self._last_sync = now

    def _emit(self, record: dict[str, Any], data: bytes) -> None:
        """One ``os.write`` (more only on a short write); on failure remember the partial line."""
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError:
            with contextlib.suppress(OSError):  # the file size knows best what landed
                done = max(done, os.fstat(self._fd).st_size - self._size)
            if done:  # a leading "\n" closed the earlier partial line
                self._partial = done - 1 if data[:1] == b"\n" else done
                self._size += done
            raise
        self._seq, self._hash = record["seq"], record["hash"]
        self._size += len(data)
        self._since_seal += 1
        if self._file_first is None:
            self._file_first = (record["seq"], record["ts"])
        with self._cond:
            self._written = Head(record["seq"], record["hash"])

    def _seal(self, now: datetime) -> dict[str, Any]:
        """Write a seal with the current key after replacing the key file by the next key."""
        assert self._key is not None and self._key_file is not None
        key = self._key
        record = build_seal(key, seq=self._seq + 1, prev=self._hash, now=now)
        write_atomically(self._key_file, format_key_file(evolve_key(key)))
        self._key = evolve_key(key)  # the key that made `record` is now only in `record`'s mac
        self._emit(record, encode_line(record))
        self._since_seal = 0
        self._sealed_at = now
        return record

    # --- durability -------------------------------------------------------------------

    def _sync_upto(self, seq: int) -> None:
        """``always``: return once ``seq`` is on disk, sharing fsyncs with concurrent callers."""
        if self._fsync != "always":
            return
        with self._cond:
            while self._synced < seq:
                if self._failed is not None:
                    raise AuditError(self._failed)
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                fd, target = self._fd, self._written
                self._cond.release()
                try:
                    os.fsync(fd)
                    # the head file may lag (it is rewritten at the next sync and on close);
                    # failing to update it must not fail a record that is already durable
                    with contextlib.suppress(OSError):
                        self._write_head(target)
                except OSError as e:
                    self._failed = f"cannot fsync audit log {self.path}: {e.strerror or e}"
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                if self._failed is None:
                    self._synced = max(self._synced, target.seq)

    def _quiesce(self, *, sync: bool) -> None:
        """Under ``_lock``: wait for a running group fsync, then fsync if asked."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if sync and self._fsync != "never":
                os.fsync(self._fd)
                self._synced = self._seq

    def _write_head(self, head: Head | None = None) -> None:
        write_atomically(self.head_path, format_head(head or Head(self._seq, self._hash)),
                         sync=False)

    # --- rotation ---------------------------------------------------------------------

    def _file_day(self) -> date:
        assert self._file_first is not None
        return datetime.strptime(self._file_first[1], "%Y-%m-%dT%H:%M:%S.%fZ").date()

    def _rotate(self, now: datetime) -> None:
        assert self._file_first is not None
        seq, ts = self._file_first
        stamp = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").strftime("%Y%m%dT%H%M%SZ")
        target = f"{self.path}.{stamp}-{seq:012d}"
        with self._cond:
            while self._syncing:
                self._cond.wait()
            os.fsync(self._fd)
            self._synced = self._seq
            if os.path.exists(target):
                raise FileExistsError(17, f"{target} exists")
            self._write_head()
            os.rename(self.path, target)
            fd = _open_locked(self.path, os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(self._fd)
            self._fd = fd
            _fsync_dir(self.path)
        self._size = 0
        self._file_first = None
        record = build_record({"event": "rotated", "previous_file": os.path.basename(target)},
                              seq=self._seq + 1, prev=self._hash, now=now)
        self._emit(record, encode_line(record))
        if self._key is not None:
            self._seal(now)

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

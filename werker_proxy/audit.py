"""The audit hash chain and its seals: build records, verify lines (pure: no I/O, no clock).

Record format (one JSON object per line, UTF-8, keys sorted, no spaces, ``\\n`` at the end)::

    {"event":"request","flow_id":"f1",...,"hash":"<64 hex>","prev":"<64 hex>","seq":42,
     "ts":"2026-11-29T14:00:00.123456Z","v":1}

* ``v`` is 1; ``seq`` counts from 1 and never restarts (not per file, not per process);
* ``ts`` is UTC with microseconds and a ``Z``;
* ``prev`` is the ``hash`` of the record before it; the first record ever has 64 zeros;
* ``hash`` = SHA-256 hex of ``canonical(record without "hash")`` where
  ``canonical(r) = orjson.dumps(r, option=orjson.OPT_SORT_KEYS)``.

Events the writer adds itself: ``recovered`` (``partial_bytes``: a half-written line left by a
crash precedes it), ``rotated`` (``previous_file``: the file this one continues) and ``seal``
(``key_index``, ``key_id``, ``mac``). A seal's ``mac`` is
``HMAC-SHA256(key_i, SEAL_DOMAIN + canonical(seal without "hash" and "mac"))``; after each seal
the writer replaces its key by ``key_{i+1} = SHA-256(EVOLVE_DOMAIN + key_i)`` (forward security:
a thief of today's key cannot forge yesterday's seals).

Anyone can re-check the chain without this package::

    import hashlib, orjson
    prev = "0" * 64                                  # or the prev of your first record
    for n, line in enumerate(open("audit.jsonl", "rb"), 1):
        r = orjson.loads(line)
        body = {k: v for k, v in r.items() if k != "hash"}
        h = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
        assert r["prev"] == prev and r["hash"] == h, f"line {n} is bad"
        prev = h

``verify_files`` does this across a rotated series and also names the first bad line and why.
It also requires each line to be byte for byte the canonical serialization of its record, and
the series to start at seq 1 unless the caller declares where a pruned series starts.

``scrub_fields`` runs every string a record copies from a call (model, response id, method,
path, metadata, usage keys, ...) through the configured redactor before it is hashed: the
log never holds a matched value, even in fields the body scrubber treats as structure.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import chain
from typing import Any

import orjson

VERSION = 1
GENESIS = "0" * 64
ADDED_FIELDS = frozenset({"v", "seq", "ts", "prev", "hash"})
WRITER_EVENTS = frozenset({"seal", "recovered", "rotated"})
SEAL_DOMAIN = b"werker-proxy audit seal v1\x00"
EVOLVE_DOMAIN = b"werker-proxy audit key evolve v1\x00"
KEY_ID_DOMAIN = b"werker-proxy audit key id v1\x00"
KEY_TYPE = "werker-proxy-audit-key"

# Problem kinds, as printed by ``audit verify``.
GARBAGE = "garbage"  # a line that is not a JSON object
PARTIAL = "partial"  # the last line has no newline: a write was cut off
MALFORMED = "malformed"  # JSON, but not a record (fields missing or of the wrong type)
EDITED = "edited"  # the content no longer matches its hash
INSERTED = "inserted"  # a seq appears twice
DELETED = "deleted"  # seq jumps forward (or the series starts after the declared start)
BAD_START = "bad-start"  # the series starts before the seq the caller declared
REORDERED = "reordered"  # seq goes backwards
BROKEN_LINK = "broken-link"  # prev is not the hash of the record before
MISSING_FILE = "missing-file"  # a gap between two files of a rotated series
OVERLAP = "overlap"  # two files start at the same seq
TRUNCATED = "truncated"  # the head file names records that are gone
SEAL = "seal"  # a seal does not verify
UNSEALED = "unsealed"  # --key given but no seal at all


def format_ts(now: datetime) -> str:
    """``2026-11-29T14:00:00.123456Z`` for an aware datetime (naive ones are refused)."""
    if now.tzinfo is None:
        raise ValueError("audit timestamps need an aware datetime")
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(record: Mapping[str, Any], *, without: Iterable[str] = ("hash",)) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are hashed (``without`` keys left out)."""
    drop = frozenset(without)
    return orjson.dumps({k: v for k, v in record.items() if k not in drop},
                        option=orjson.OPT_SORT_KEYS)


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``record`` without its ``hash``."""
    return hashlib.sha256(canonical(record)).hexdigest()


def encode_line(record: Mapping[str, Any]) -> bytes:
    """The exact line the writer appends for ``record`` (``hash`` included), newline-terminated."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def build_record(fields: Mapping[str, Any], *, seq: int, prev: str,
                 now: datetime) -> dict[str, Any]:
    """The full record for ``fields``: adds ``v``, ``seq``, ``ts``, ``prev`` and ``hash``.

    ``fields`` goes through a JSON round trip, so the returned record is exactly what is
    written (tuples become lists, ...). Raises ``ValueError`` if a field is not JSON or uses a
    name the writer adds.
    """
    clash = ADDED_FIELDS.intersection(fields)
    if clash:
        raise ValueError(f"audit fields may not set {sorted(clash)}")
    try:
        body: dict[str, Any] = orjson.loads(orjson.dumps(dict(fields)))
    except (TypeError, orjson.JSONEncodeError) as e:
        raise ValueError(f"audit fields are not JSON-serializable: {e}") from e
    body.update(v=VERSION, seq=seq, ts=format_ts(now), prev=prev)
    body["hash"] = record_hash(body)
    return body


# --- scrubbing copied strings ------------------------------------------------------------

# Fields the proxy itself fills with codes, ids or digests; every other string is scrubbed.
KEPT_FIELDS = frozenset({"event", "flow_id", "outcome", "reason", "redactions",
                         "request_sha256", "response_sha256",
                         "host"})  # the configured target the call matched, not the client's text


_SEPARATOR = re.compile(r"[-_.:/]")
_MAX_SUFFIXES = 32


def scrub_text(text: str, redact: Callable[[str], str]) -> str:
    """``redact(text)``, then each ``_``-joined part on its own, then what follows each separator.

    Rules are word-bounded and ``_`` is a word character, so ``resp_123-45-6789`` hides the
    SSN from a rule that finds it in ``resp-123-45-6789``; and the default SSN rule does not
    read one right after a hyphen (``chatcmpl-123-45-6789``), where it could end a longer
    number. Copied ids and model names are built exactly like that.
    """
    out = redact(text)
    if "_" in out:
        out = "_".join(redact(part) if part else part for part in out.split("_"))
    pos = 0
    for _ in range(_MAX_SUFFIXES):
        m = _SEPARATOR.search(out, pos)
        if m is None:
            break
        tail = out[m.end():]
        if tail:
            scrubbed = redact(tail)
            if scrubbed != tail:
                out = out[:m.end()] + scrubbed
        pos = m.end()
    return out


def _scrub_node(node: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(node, str):
        return scrub_text(node, redact)
    if isinstance(node, Mapping):
        return {scrub_text(k, redact) if isinstance(k, str) else k: _scrub_node(v, redact)
                for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_scrub_node(v, redact) for v in node]
    return node


def scrub_fields(fields: Mapping[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``fields`` with every string (and mapping key) below a field scrubbed.

    Deny by default: only the fields in ``KEPT_FIELDS`` (codes, ids and digests the proxy
    makes) are copied as they are. Field names themselves are the proxy's and stay.
    """
    return {k: v if k in KEPT_FIELDS else _scrub_node(v, redact) for k, v in fields.items()}


# --- seal keys ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealKey:
    """Key number ``index`` of the one-way chain that starts at the key with id ``key_id``."""

    index: int
    key: bytes = field(repr=False)
    key_id: str


def new_key(secret: bytes) -> SealKey:
    """Key 0 from 32 random bytes (the caller reads ``os.urandom``)."""
    if len(secret) != 32:
        raise ValueError("a seal key is 32 bytes")
    return SealKey(0, secret, hashlib.sha256(KEY_ID_DOMAIN + secret).hexdigest()[:16])


def evolve_key(key: SealKey, steps: int = 1) -> SealKey:
    """Key ``index + steps``: ``key_{i+1} = SHA-256(EVOLVE_DOMAIN + key_i)``; no way back."""
    k = key.key
    for _ in range(steps):
        k = hashlib.sha256(EVOLVE_DOMAIN + k).digest()
    return SealKey(key.index + steps, k, key.key_id)


def format_key_file(key: SealKey) -> bytes:
    """The key file: one JSON line ``{"index", "key" (hex), "key_id", "type", "v"}``."""
    return orjson.dumps({"v": VERSION, "type": KEY_TYPE, "index": key.index,
                         "key": key.key.hex(), "key_id": key.key_id},
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def parse_key_file(data: bytes) -> SealKey:
    """Read a key file written by :func:`format_key_file`; ``ValueError`` says what is wrong."""
    try:
        d = orjson.loads(data)
        ok = (isinstance(d, dict) and d.get("type") == KEY_TYPE and d.get("v") == VERSION
              and isinstance(d.get("index"), int) and d["index"] >= 0
              and isinstance(d.get("key_id"), str))
        key = bytes.fromhex(d["key"]) if ok and isinstance(d.get("key"), str) else b""
    except (orjson.JSONDecodeError, ValueError):
        ok, key = False, b""
    if not ok or len(key) != 32:
        raise ValueError("not a werker-proxy audit key file")
    return SealKey(d["index"], key, d["key_id"])


def seal_mac(key: SealKey, seal: Mapping[str, Any]) -> str:
    """HMAC-SHA256 hex over a seal record without ``hash`` and ``mac``."""
    msg = SEAL_DOMAIN + canonical(seal, without=("hash", "mac"))
    return hmac.new(key.key, msg, hashlib.sha256).hexdigest()


def build_seal(key: SealKey, *, seq: int, prev: str, now: datetime) -> dict[str, Any]:
    """A ``seal`` record that binds ``prev`` (the chain head) and ``seq`` to key ``key.index``."""
    body: dict[str, Any] = {"event": "seal", "key_index": key.index, "key_id": key.key_id,
                            "v": VERSION, "seq": seq, "ts": format_ts(now), "prev": prev}
    body["mac"] = seal_mac(key, body)
    body["hash"] = record_hash(body)
    return body


# --- head file ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Head:
    """The last record the writer knows it wrote: its ``seq`` and ``hash``."""

    seq: int
    hash: str


def format_head(head: Head) -> bytes:
    return orjson.dumps({"v": VERSION, "seq": head.seq, "hash": head.hash},
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def parse_head(data: bytes) -> Head:
    """Read a head file; ``ValueError`` if it is not one."""
    try:
        d = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise ValueError("not an audit head file") from e
    if not (isinstance(d, dict) and isinstance(d.get("seq"), int)
            and isinstance(d.get("hash"), str) and len(d["hash"]) == 64):
        raise ValueError("not an audit head file")
    return Head(d["seq"], d["hash"])


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad place: ``file:line: kind: message``."""

    file: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``ok`` unless ``problem``; counts cover the records read before the problem."""

    ok: bool
    records: int
    seals: int
    files: int
    problem: Problem | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.problem is not None:
            return str(self.problem)
        return f"OK: {self.records} records, {self.seals} seals, {self.files} files"


class _Stop(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return rec if isinstance(rec, dict) else None


def _is_record(rec: dict[str, Any]) -> bool:
    return (type(rec.get("seq")) is int and rec["seq"] >= 1
            and isinstance(rec.get("prev"), str) and isinstance(rec.get("hash"), str)
            and isinstance(rec.get("ts"), str) and rec.get("v") == VERSION)


@dataclass(slots=True)
class _Checker:
    """Feeds records one by one; raises ``_Stop`` at the first problem."""

    key: SealKey | None
    start: int | None = 1  # the seq the series must start at; None: any (a pruned log)
    records: int = 0
    seals: int = 0
    first_seq: int | None = None
    first_prev: str | None = None
    seq: int | None = None  # last good seq
    hash: str | None = None  # last good hash
    seal_index: int | None = None
    since_seal: int = 0
    # a forward seq jump is "deleted" unless the next record shows it was a swap
    gap: tuple[str, int, int] | None = None  # (file, line, seq)

    def feed(self, name: str, n: int, rec: dict[str, Any], line: bytes) -> None:
        seq, prev = rec["seq"], rec["prev"]
        if record_hash(rec) != rec["hash"]:
            raise _Stop(Problem(name, n, EDITED, f"seq {seq}: hash does not match the content "
                                "(the record was changed after it was written)"))
        if line != encode_line(rec):
            raise _Stop(Problem(name, n, EDITED, f"seq {seq}: the line is not in canonical form "
                                "(re-serialized or edited by hand)"))
        if self.gap is not None:
            gname, gline, gseq = self.gap
            assert self.seq is not None
            if self.seq < seq < gseq:
                raise _Stop(Problem(gname, gline, REORDERED,
                                    f"seq {gseq} comes before seq {seq} ({name}:{n}): "
                                    "records are out of order"))
            raise _Stop(self._deleted(gname, gline, gseq))
        if self.seq is None:
            self.first_seq, self.first_prev = seq, prev
            if self.start is not None and seq != self.start:
                raise _Stop(self._bad_start(name, n, rec))
            if seq == 1 and prev != GENESIS:
                raise _Stop(Problem(name, n, BROKEN_LINK, "seq 1 must have prev = 64 zeros"))
        elif seq == self.seq:
            raise _Stop(Problem(name, n, INSERTED, f"seq {seq} appears twice "
                                "(a record was inserted or copied)"))
        elif seq < self.seq:
            raise _Stop(Problem(name, n, REORDERED, f"seq {seq} comes after seq {self.seq} "
                                "(records moved, or an old record inserted)"))
        elif seq > self.seq + 1:
            self.gap = (name, n, seq)
            return
        elif prev != self.hash:
            raise _Stop(Problem(name, n, BROKEN_LINK, f"seq {seq}: prev is not the hash of "
                                f"seq {self.seq} (a record was replaced or inserted)"))
        if rec.get("event") == "seal":
            self._check_seal(name, n, rec)
        else:
            self.since_seal += 1
        self.records += 1
        self.seq, self.hash = seq, rec["hash"]

    def _bad_start(self, name: str, n: int, rec: dict[str, Any]) -> Problem:
        assert self.start is not None
        seq, before = rec["seq"], rec.get("previous_file")
        if seq < self.start:
            return Problem(name, n, BAD_START, f"the series starts at seq {seq}, but it was "
                           f"declared to start at seq {self.start} (--from-seq)")
        declared = "" if self.start == 1 else " (--from-seq)"
        return Problem(name, n, DELETED, f"the series starts at seq {seq}, not {self.start}"
                       f"{declared}: {seq - self.start} record(s) before this line are missing "
                       + (f"(it continues {before}, which is not given); " if rec.get("event")
                          == "rotated" and isinstance(before, str) else
                          "(deleted, or earlier files not given); ")
                       + "if they were archived on purpose, "
                       f"verify with --from-seq {seq}")

    def _deleted(self, name: str, n: int, seq: int) -> Problem:
        missing = seq - (self.seq or 0) - 1
        return Problem(name, n, DELETED, f"seq jumps from {self.seq} to {seq}: "
                       f"{missing} record(s) deleted before this line")

    def _check_seal(self, name: str, n: int, rec: dict[str, Any]) -> None:
        self.seals += 1
        self.since_seal = 0
        index, mac = rec.get("key_index"), rec.get("mac")
        if type(index) is not int or not isinstance(mac, str):
            raise _Stop(Problem(name, n, SEAL, f"seq {rec['seq']}: seal lacks key_index or mac"))
        if self.seal_index is not None and index <= self.seal_index:
            raise _Stop(Problem(name, n, SEAL, f"seq {rec['seq']}: key index {index} follows "
                                f"{self.seal_index}; it must only grow (forged or replayed seal)"))
        self.seal_index = index
        if self.key is None:
            return
        if rec.get("key_id") != self.key.key_id:
            raise _Stop(Problem(name, n, SEAL, f"seq {rec['seq']}: sealed with key id "
                                f"{rec.get('key_id')}, but --key has key id {self.key.key_id} "
                                "(wrong key, or a forged seal)"))
        if index < self.key.index:
            raise _Stop(Problem(name, n, SEAL, f"seq {rec['seq']}: seal uses key {index}, older "
                                f"than the given key ({self.key.index}); verify with the initial "
                                "key from `audit keygen`"))
        if not hmac.compare_digest(seal_mac(evolve_key(self.key, index - self.key.index), rec),
                                   mac):
            raise _Stop(Problem(name, n, SEAL, f"seq {rec['seq']}: seal MAC does not verify with "
                                f"key {index} (forged seal, or the sealed records were rewritten)"))
        # Later seals derive from here: checking n seals costs O(last index), not O(n * index).
        self.key = evolve_key(self.key, index - self.key.index)


def _lines(name: str, lines: Iterable[bytes], checker: _Checker,
           heads: Mapping[str, Head]) -> tuple[int, dict[str, Any] | None]:
    """Check one file; returns its line count and its first record."""
    garbage: tuple[int, bytes] | None = None  # a bad line that a `recovered` record may excuse
    first: dict[str, Any] | None = None
    n = 0
    head = heads.get(name)
    for n, line in enumerate(lines, 1):
        if not line.endswith(b"\n"):
            raise _Stop(Problem(name, n, PARTIAL, f"the last line is half-written ({len(line)} "
                                "bytes, no newline); the writer recovers it on its next start"))
        rec = _parse(line)
        if garbage is not None:
            gn, gline = garbage
            if not (rec is not None and rec.get("event") == "recovered"
                    and rec.get("partial_bytes") == len(gline) - 1):
                raise _Stop(Problem(name, gn, GARBAGE, "not a JSON record"))
            garbage = None
        if rec is None:
            garbage = (n, line)
            continue
        if not _is_record(rec):
            raise _Stop(Problem(name, n, MALFORMED, "JSON, but not an audit record "
                                "(v, seq, ts, prev or hash missing or of the wrong type)"))
        if first is None:
            first = rec
            if head is not None and head.seq == rec["seq"] - 1 and head.hash != rec["prev"]:
                raise _Stop(Problem(name, n, TRUNCATED, "the head file's hash does not match "
                                    "this file's prev (the log was replaced)"))
        checker.feed(name, n, rec, line)
        if head is not None and rec["seq"] == head.seq and rec["hash"] != head.hash:
            raise _Stop(Problem(name, n, TRUNCATED, f"seq {head.seq} differs from the head file "
                                "(records were replaced after it)"))
    if garbage is not None:
        raise _Stop(Problem(name, garbage[0], GARBAGE, "not a JSON record"))
    if checker.gap is not None:
        gname, gline, gseq = checker.gap
        raise _Stop(checker._deleted(gname, gline, gseq))
    if head is not None and head.seq > (checker.seq or 0):
        raise _Stop(Problem(name, n + 1, TRUNCATED, f"the log ends at seq {checker.seq} but the "
                            f"head file says seq {head.seq} was written: "
                            f"{head.seq - (checker.seq or 0)} record(s) removed from the end"))
    return n, first


def _first_seq(it: Iterator[bytes], peeked: list[bytes]) -> int:
    """The seq of the first record among the first few lines (-1 if none): the sort key."""
    for line in it:
        peeked.append(line)
        rec = _parse(line)
        if rec is not None and type(rec.get("seq")) is int:
            return int(rec["seq"])
        if len(peeked) >= 3:
            break
    return -1 if peeked else 1 << 62


def verify_files(files: Sequence[tuple[str, Iterable[bytes]]], *, key: SealKey | None = None,
                 heads: Mapping[str, Head] | None = None,
                 start: int | None = 1) -> VerifyResult:
    """Check a rotated series given as ``(name, lines)`` pairs in any order.

    Files are put in order by their first ``seq``; a gap between two files is a missing file.
    ``heads`` maps a file name to its head file (its last record must not be gone). With
    ``key`` (the initial key from ``audit keygen``, or any later one) every seal's MAC is
    checked and a log without any seal fails. The series must start at seq ``start``: 1 (the
    whole log), the first seq kept after older files were archived, or None to accept any
    start (the notes then say where it starts, so the link can be checked by hand).
    """
    heads = heads or {}
    order: list[tuple[int, int, str, Iterator[bytes]]] = []
    for i, (name, lines) in enumerate(files):
        it = iter(lines)
        peeked: list[bytes] = []
        order.append((_first_seq(it, peeked), i, name, chain(peeked, it)))
    order.sort(key=lambda t: (t[0], t[1]))
    checker = _Checker(key, start)
    notes: list[str] = []
    try:
        prev_name: str | None = None
        prev_first = -2
        for first_seq, _i, name, lines in order:
            if prev_name is not None and first_seq == prev_first and 0 < first_seq < 1 << 62:
                raise _Stop(Problem(name, 1, OVERLAP, f"starts at seq {first_seq} like "
                                    f"{prev_name} (the same file given twice?)"))
            seq_before = checker.seq
            if prev_name is not None and seq_before is not None and first_seq > seq_before + 1 \
                    and first_seq < 1 << 62:
                raise _Stop(Problem(name, 1, MISSING_FILE,
                                    f"starts at seq {first_seq} but {prev_name} ends at seq "
                                    f"{seq_before}: {first_seq - seq_before - 1} record(s) missing "
                                    "(a file of the series is missing or was cut short)"))
            _lines(name, lines, checker, heads)
            prev_name, prev_first = name, first_seq
        if key is not None and checker.records and not checker.seals:
            raise _Stop(Problem(prev_name or "-", 1, UNSEALED, "no seal record at all, but a "
                                "writer with a seal key seals every file (seals were stripped?)"))
    except _Stop as stop:
        return VerifyResult(False, checker.records, checker.seals, len(order), stop.problem,
                            checker.first_seq, checker.seq, checker.hash)
    if checker.first_seq is not None and checker.first_seq != 1:
        notes.append(f"the series starts at seq {checker.first_seq} with prev {checker.first_prev}"
                     f": seq {checker.first_seq - 1} (archived, not checked here) must have that "
                     "hash")
    if key is None and checker.seals:
        notes.append("seals not checked (no --key)")
    elif key is not None and checker.since_seal:
        notes.append(f"{checker.since_seal} record(s) after the last seal")
    return VerifyResult(True, checker.records, checker.seals, len(order), None,
                        checker.first_seq, checker.seq, checker.hash, tuple(notes))


def verify_lines(lines: Iterable[bytes], *, name: str = "-", key: SealKey | None = None,
                 head: Head | None = None, start: int | None = 1) -> VerifyResult:
    """Check one file's lines (bytes, each ending in ``\\n``)."""
    return verify_files([(name, lines)], key=key, heads={name: head} if head else None,
                        start=start)


def last_record(tail: bytes, *, at_start: bool) -> tuple[dict[str, Any] | None, int, bool]:
    """Look at the end of a log: ``(last complete record or None, partial bytes, found)``.

    ``tail`` is the last bytes of the file (the whole file if ``at_start``). ``found`` is False
    when ``tail`` holds no complete line and does not reach the start: read more. A complete
    last line that is not a record raises ``ValueError``.
    """
    end = tail.rfind(b"\n")
    partial = len(tail) - end - 1
    if end < 0:
        return None, partial, at_start
    start = tail.rfind(b"\n", 0, end) + 1
    if start == 0 and not at_start:
        return None, partial, False
    rec = _parse(tail[start:end])
    if rec is None or not _is_record(rec):
        raise ValueError("the last complete line is not an audit record")
    return rec, partial, True

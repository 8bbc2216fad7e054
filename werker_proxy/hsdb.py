"""Hyperscan databases for the prefilter: built in the background, cached on disk.

The pure part (widening patterns, windows) lives in ``prefilter``; this module owns what is
native, threaded or on disk. Building both databases for the default rules takes about 9 s
of CPU, so the proxy starts it in a background thread (``start``); until it is done ``scan``
answers None and the redactor uses the plain scan, which decides exactly the same. The result is kept in the
config's ``cache_dir`` (one file per rule set, 0600, checked by owner and SHA-256).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import regex

from .prefilter import (Lines, Reach, Scan, Shape, Unsupported, analyse, outside_alphabet, partial_starts,
                        scan_input,
                        stand_in_ends, unusual_windows)

try:  # optional accelerator: the plain engine is used without it
    import hyperscan
except Exception:  # noqa: BLE001 - ImportError or a broken native library
    hyperscan = None

Expr = tuple[int, bytes, int]  # pattern index, expression, Hyperscan flags
CACHE_FORMAT = 3  # bump when the way databases are built changes: old cache files are ignored


def _compile(exprs: list[Expr]) -> Any:
    db = hyperscan.Database()
    db.compile(expressions=[e for _, e, _ in exprs], ids=[i for i, _, _ in exprs], flags=[f for _, _, f in exprs])
    return db


class _Bank:
    """One Hyperscan database: the patterns it could compile, and a scratch per thread."""

    def __init__(self, db: Any, covered: list[bool]):
        self.db = db
        self.covered = covered
        self._local = threading.local()

    @classmethod
    def compile(cls, exprs: list[Expr], size: int) -> "_Bank":
        """A pattern Hyperscan refuses (too large) is left to the plain scan. (Hyperscan's
        prefilter mode would report a superset of its ends, all ``window_matches`` needs, but for
        name_labeled it now matches at nearly every "Label: Word": 95 % of all ends on
        identifier-free text, and windows there were slower than its plain scan with its gate:
        3.9 vs 5.2 MB/s.)"""
        try:
            db = _compile(exprs)
        except Exception:  # noqa: BLE001 - some pattern is too large: keep the ones that compile
            kept = [x for x in exprs if _compiles(x)]
            exprs = kept
            db = _compile(exprs) if exprs else None
        covered = [False] * size
        for i, _, _ in exprs:
            covered[i] = True
        return cls(db, covered)

    def scan(self, data: bytes) -> dict[int, list[int]]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.db)
        found: dict[int, list[int]] = {}

        def on_match(pid: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
            lst = found.get(pid)
            if lst is None:
                found[pid] = [end]
            else:
                lst.append(end)

        self.db.scan(data, match_event_handler=on_match, scratch=scratch)
        for ends in found.values():  # Hyperscan does not promise to report matches in order
            ends.sort()  # (and window_matches needs them ascending); nearly free when they are
        return found


def _compiles(x: Expr) -> bool:
    """Whether Hyperscan takes this expression."""
    try:
        _compile([x])
        return True
    except Exception:  # noqa: BLE001 - hyperscan.error: only that rule loses its speed-up
        return False


class Prefilter:
    """Hyperscan databases over a list of patterns: one for safe texts, one for the others."""

    def __init__(self, patterns: Sequence[Any], cache_dir: str | None = None, *, background: bool = True):
        self.shapes: list[Shape | None] = [None] * len(patterns)
        self.outside: list[Any | None] = [None] * len(patterns)  # see prefilter.outside_alphabet
        self.starts: list[Any | None] = [None] * len(patterns)  # see prefilter.partial_starts
        self.error: str | None = None
        self._size = len(patterns)
        self._cache_dir = cache_dir
        self._banks: tuple[_Bank, _Bank] | None = None  # safe texts, texts with the wild byte
        self._ready = threading.Event()
        self._pending: tuple[list[Expr], list[Expr]] | None = None  # what start() will build
        self._start_lock = threading.Lock()
        self._exact_only: list[int] | None = None  # shaped, covered by the exact database only
        self._windowed: list[bool] = []  # what a windowed scan speaks for
        self._reach = Reach(0, -1)  # of those patterns
        if hyperscan is None:
            self.error = "hyperscan is not installed"
            self._ready.set()
            return
        exact: list[Expr] = []
        widened: list[Expr] = []
        for i, p in enumerate(patterns):
            try:
                e, w, self.shapes[i] = analyse(p.pattern, p.flags)
            except Unsupported:
                continue
            self.outside[i] = outside_alphabet(p.pattern, p.flags)
            self.starts[i] = partial_starts(p.pattern, p.flags)
            f = _hs_flags(p.flags)
            exact.append((i, e.encode(), f))
            widened.append((i, w.encode(), f))
        if background:
            self._pending = (exact, widened)
        else:  # tests: build now, in this thread
            self._build(exact, widened)

    def start(self) -> None:
        """Begin building (or loading) the databases in a background thread; idempotent.

        Not done on construction: `check` and `redact` load settings too, and a one-off command
        should not spend 9 s of CPU or write a cache file it never uses.
        """
        with self._start_lock:
            if self._pending is None:
                return
            exact, widened = self._pending
            self._pending = None
        threading.Thread(target=self._build, args=(exact, widened), name="werker-prefilter", daemon=True).start()

    def _build(self, exact: list[Expr], widened: list[Expr]) -> None:
        try:
            key = hashlib.sha256(repr((CACHE_FORMAT, exact, widened, self._size, _hs_version())).encode()).hexdigest()
            banks = _load_cached(self._cache_dir, key)
            if banks is None:
                banks = (_Bank.compile(exact, self._size), _Bank.compile(widened, self._size))
                _store_cached(self._cache_dir, key, banks)
            exact_bank, wild_bank = banks
            if exact_bank.db is not None and wild_bank.db is not None:
                # the windowed scan speaks only for patterns with a shape: the stretches around
                # unusual characters are sized from the shapes
                shaped = [c and s is not None for c, s in zip(exact_bank.covered, self.shapes)]
                self._reach = Reach.of(s for s, c in zip(self.shapes, shaped) if c)
                self._windowed = shaped
                self._exact_only = [i for i, (a, b) in enumerate(zip(shaped, wild_bank.covered)) if a and not b]
            self._banks = banks  # last: a scan in another thread sees all of the above or nothing
        except Exception as e:  # noqa: BLE001 - the plain scan stays in use
            self.error = f"{type(e).__name__}: {e}"
        finally:
            _release_free_memory()
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Start if needed, block until the databases are built (or failed); True when in use."""
        self.start()
        self._ready.wait(timeout)
        return self.active

    @property
    def ready(self) -> bool:
        """Built, loaded or failed: nothing more will change."""
        return self._ready.is_set()

    @property
    def active(self) -> bool:
        return self._banks is not None and self._banks[0].db is not None

    def scan(self, text: str) -> Scan | None:
        """Where each covered pattern could match ``text``; None while no database is ready."""
        if self._banks is None:
            return None
        data, safe = scan_input(text)
        exact, wild = self._banks
        lines = Lines(text)
        if safe:
            return Scan(exact.scan(data), exact.covered, lines) if exact.db is not None else None
        windows = unusual_windows(text, lines, self._reach) if self._exact_only is not None else None
        if windows is None:  # unusual characters all over: the wild database reads it all
            return Scan(wild.scan(data), wild.covered, lines) if wild.db is not None else None
        # few unusual characters: the exact database everywhere, the wild one around them
        ends = exact.scan(data)
        grown: set[int] = set()
        for lo, hi in windows:
            for pid, found in wild.scan(data[lo:hi]).items():
                if self._windowed[pid]:
                    ends.setdefault(pid, []).extend(e + lo for e in found)
                    grown.add(pid)
        for pid in self._exact_only:  # no wild database for it: search its windows in full
            ends.setdefault(pid, []).extend(stand_in_ends(windows, self.shapes[pid], lines))
            grown.add(pid)
        for pid in grown:
            ends[pid] = sorted(set(ends[pid]))
        return Scan(ends, self._windowed, lines)


_SHARED: "weakref.WeakValueDictionary[tuple[tuple[str, int], ...], Prefilter]" = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


def shared_prefilter(patterns: Sequence[Any], cache_dir: str | None = None) -> Prefilter:
    """One Prefilter per distinct pattern list in use in this process: reloads that keep the
    rules reuse it, and one no redactor holds any more is dropped."""
    key = tuple((p.pattern, p.flags) for p in patterns)
    with _SHARED_LOCK:
        pf = _SHARED.get(key)
        if pf is None:
            pf = Prefilter(patterns, cache_dir)
            _SHARED[key] = pf
        return pf


def _release_free_memory() -> None:
    """Hand the build's and the load's freed megabytes back to the system (glibc keeps them
    otherwise: a compile peaks at ~50 MB). Nothing happens elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _hs_flags(flags: int) -> int:
    f = 0
    if flags & regex.IGNORECASE:
        f |= hyperscan.HS_FLAG_CASELESS
    if flags & regex.MULTILINE:
        f |= hyperscan.HS_FLAG_MULTILINE
    if flags & regex.DOTALL:
        f |= hyperscan.HS_FLAG_DOTALL
    return f


def _hs_version() -> str:
    return getattr(hyperscan, "__version__", "?") + "/" + platform.machine()


def _cache_file(cache_dir: str | None, key: str) -> Path | None:
    return Path(cache_dir) / f"prefilter-{key[:32]}.hsdb" if cache_dir else None


def _load_cached(cache_dir: str | None, key: str) -> tuple[_Bank, _Bank] | None:
    path = _cache_file(cache_dir, key)
    try:
        if path is None or not path.is_file():
            return None
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None  # only a file we wrote and nobody else can change
        # read blob by blob (not the whole file, then copies of it): every transient copy of
        # these megabytes would stay in the process's resident memory
        with open(path, "rb") as f:
            meta = json.loads(f.readline())
            if meta.get("key") != key:
                return None
            blobs = [f.read(part["bytes"]) for part in meta["banks"]]
        digest = hashlib.sha256()
        for blob in blobs:
            digest.update(blob)
        if meta.get("sha256") != digest.hexdigest():
            return None
        banks = []
        while blobs:
            blob = blobs.pop(0)
            part = meta["banks"][len(banks)]
            db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK) if blob else None
            del blob
            banks.append(_Bank(db, [bool(c) for c in part["covered"]]))
        os.utime(path)  # recently used: eviction keeps it
        return banks[0], banks[1]
    except Exception:  # noqa: BLE001 - a bad cache entry only costs a compile
        return None


def _store_cached(cache_dir: str | None, key: str, banks: tuple[_Bank, _Bank]) -> None:
    path = _cache_file(cache_dir, key)
    if path is None:
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        blobs = [hyperscan.dumpb(b.db) if b.db is not None else b"" for b in banks]
        payload = b"".join(blobs)
        meta = {"key": key, "sha256": hashlib.sha256(payload).hexdigest(),
                "banks": [{"bytes": len(blob), "covered": [int(c) for c in b.covered]}
                          for blob, b in zip(blobs, banks)]}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(meta).encode() + b"\n" + payload)
        os.replace(tmp, path)
        _evict(path.parent, keep=path)
    except Exception:  # noqa: BLE001 - read-only directory, full disk: just compile next time
        pass


KEEP_CACHED = 4  # rule sets kept on disk: the one just built and the three used most recently


def _evict(directory: Path, keep: Path) -> None:
    """Each edit of the rules leaves a ~9 MB file behind: keep only the newest few (ours,
    by owner), and drop temporary files a killed build left."""
    mine = [p for p in directory.glob("prefilter-*") if p.is_file() and p.stat().st_uid == os.getuid()]
    stale = [p for p in mine if p.suffix == ".tmp" and time.time() - p.stat().st_mtime > 3600]
    old = sorted((p for p in mine if p.suffix == ".hsdb" and p != keep), key=lambda p: p.stat().st_mtime,
                 reverse=True)[KEEP_CACHED - 1:]
    for p in stale + old:
        try:
            p.unlink()
        except OSError:
            pass

"""The redaction engine: find hits (detection), then replace them (transformation).

``Redactor.redact(text, direction)`` runs every rule of that direction over a normalized copy
of the text (Unicode lookalikes folded), drops hits that fail their validators, lack a
required cue word, or lie inside an allow pattern or one of our own replacement tokens, adds
the *known values* (found by propagating rules in the same body, or passed in by the caller,
e.g. what the request of the same call contained) and merges overlapping hits into one span.

Overlap policy: overlapping hits become one redacted span; its replacement and count come from
the longest hit (ties: the rule listed first). A rule that exceeds its time budget raises
``RedactionFailed``: the caller blocks, it never forwards text it could not scrub.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import regex

from .errors import RedactionFailed
from .normalize import normalize
from .prefilter import Prefiltering, Scan, partial_start_bound, window_matches
from .rules import Rule, RuleSet
from .sharing import has_variable_lookbehind
from .tablecontext import table_hits
from .validators import VALIDATORS

KNOWN_RULE = "known_phi"
LOOKBEHIND_GATE = 512
_TRAILING = regex.compile(r"\S*\Z")
_NAME_PARTS = regex.compile(r"[\s,^]+")
_WORD_START = regex.compile(r"(?<![^\W_])[^\W_]")  # where a known value may begin (see _is_word)
# Parts of a found name that are not worth scrubbing on their own elsewhere.
_NAME_STOPWORDS = frozenset(
    """mr mrs ms miss dr prof md do rn np pa phd jr sr ii iii iv the and of de la del van von
    da di le du st mx dds dmd pharmd nurse doctor patient pt rev father sister brother mother
    daughter son wife husband mom dad aunt uncle cousin friend caregiver guardian""".split()
)


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    label: str
    start: int  # in the text given to redact()
    end: int
    replacement: str
    order: int = 0  # rule position, for tie-breaking


@dataclass(frozen=True, slots=True)
class KnownValue:
    """A value to scrub literally wherever it appears (found elsewhere in this call)."""

    value: str
    rule: str = KNOWN_RULE
    label: str = "PHI"
    replacement: str = "[PHI]"


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    hits: tuple[Hit, ...]
    counts: dict[str, int]
    found: tuple[KnownValue, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.hits)


def _literal_alternation(values: tuple[str, ...]) -> Any:
    parts = "|".join(regex.escape(v) for v in values)
    return regex.compile(rf"(?<![^\W_])(?:{parts})(?![^\W_])", regex.IGNORECASE)


_compile_literals = lru_cache(maxsize=256)(_literal_alternation)


def known_values_from(value: str, rule: Rule) -> list[KnownValue]:
    """The whole value and, for multi-word names, each meaningful part of it.

    Only names are split: a person is named by a part ("Grace"), but a word of a place is no
    place ("Green Bay" found must not take "Bay 2" or "Green tea")."""
    value = value.strip()
    out = [KnownValue(value, rule.name, rule.label, rule.replacement)] if len(value) >= 2 else []
    if rule.label != "NAME" or any(c.isdigit() for c in value):
        return out
    for part in _NAME_PARTS.split(value):
        part = part.strip(".'’-")
        if len(part) >= 2 and part.lower() not in _NAME_STOPWORDS and part != value:
            out.append(KnownValue(part, rule.name, rule.label, rule.replacement))
    return out


class Redactor:
    """Compiled rules for both directions; cheap to call, safe to share between flows."""

    def __init__(self, ruleset: RuleSet, *, rule_timeout_s: float = 0.5, gates: bool = True,
                 prefilter: Prefiltering | None = None):
        self.ruleset = ruleset
        self.gates = gates  # off only to compare against the plain engine
        self.open_word_skip = True  # off only to compare rule by rule against the plain engine
        self.rule_timeout_s = rule_timeout_s
        self._order = {r.name: i for i, r in enumerate(ruleset.rules)}
        self.prefilter = prefilter  # built over ruleset.rules, in order (see hsdb.shared_prefilter)
        self._partial_info = _partial_info(prefilter) if prefilter is not None else []
        self._min_widths = [s.min_width if s is not None else 0 for s in prefilter.shapes] if prefilter else []
        self._unreadable: dict[str, frozenset[int]] = {}  # see _cannot_end_with
        self._gates: dict[str, tuple[Any, tuple[Rule, ...]]] = {}  # built on first use (~18 MB)
        self._gate_lock = threading.Lock()
        self._gate_building = False
        tokens = sorted({r.replacement for r in ruleset.rules} | {KnownValue("").replacement}, key=len, reverse=True)
        self._own_tokens = regex.compile("|".join(regex.escape(t) for t in tokens))

    def _budget(self, text: str) -> float:
        """Time budget of one rule scan: ``rule_timeout_ms`` per started 64 KB of text."""
        return self.rule_timeout_s * max(1.0, len(text) / 65536)

    # -- detection -------------------------------------------------------------------------
    def _matches(self, rule: Rule, text: str, pos: int, partial: bool, scan: Scan | None) -> Any:
        """``rule.pattern.finditer(text, pos)``, or the same matches found through the prefilter."""
        budget = self._budget(text)
        if scan is not None and not partial:
            index = self._order[rule.name]
            if scan.covered[index]:
                ends = scan.ends.get(index)
                if ends is None:
                    return ()  # not even the widened pattern matches anywhere
                shape = self.prefilter.shapes[index] if self.prefilter is not None else None
                if shape is not None:
                    return window_matches(rule.pattern, text, pos, ends, shape, scan.lines, budget)
        if self.gates and not partial and not rule.may_match(text, max(0, pos - LOOKBEHIND_GATE)):
            return ()
        return rule.pattern.finditer(text, pos, partial=partial, timeout=budget)

    def _rule_hits(self, rule: Rule, text: str, pos: int = 0, partial: bool = False,
                   tail: int = 0, scan: Scan | None = None) -> tuple[list[Hit], int]:
        """Hits of one rule from ``pos`` on; with ``partial``, also where text must be held back.

        Held back: a partial match (could still grow into a match with more text) and any match
        ending within ``tail`` characters of the end (a greedy or optional part might extend it).
        ``scan``: the prefilter's answer for this text, if it has one.
        """
        hits: list[Hit] = []
        hold = len(text)
        order = self._order[rule.name]
        horizon = len(text) - tail
        try:
            for m in self._matches(rule, text, pos, partial, scan):
                if partial and (m.partial or m.end() > horizon):
                    hold = min(hold, m.start())
                    if m.partial:
                        break
                s, e = m.span("phi") if rule.phi_group else m.span()
                if s < 0 or s == e:
                    continue
                if rule.validators and not all(VALIDATORS[v](text[s:e]) for v in rule.validators):
                    continue
                ctx = rule.context
                if ctx is not None and ctx.required and ctx.pattern.search(text, max(0, s - ctx.window), s) is None:
                    continue
                hits.append(Hit(rule.name, rule.label, s, e, rule.replacement, order))
        except TimeoutError:
            raise RedactionFailed(
                f"rule {rule.name!r} exceeded its time budget ({self._budget(text):g}s for {len(text)} characters)",
                code="rule_timeout",
            ) from None
        return hits, hold

    def _cannot_end_with(self, last: str) -> frozenset[int]:
        """Rules (by index) with a shape that cannot read ``last``: a partial match reads up to
        the end of the text, so a text ending with it has none for them.

        (Only this test: starting the search at the last such character instead of the bound
        is not safe: the regex module may then report a different partial match, e.g. skip one
        that a lookahead made partial.)"""
        found = self._unreadable.get(last)
        if found is None:
            found = frozenset(i for i, info in enumerate(self._partial_info)
                              if info is not None and info[1] is not None and info[1].match(last) is not None)
            if len(self._unreadable) < 4096:  # distinct last characters: few in practice
                self._unreadable[last] = found
        return found

    def _partial_only(self, rule: Rule, index: int, text: str, pos: int, scan: Scan,
                      memo: dict[int, Any], open_word: int | None = None) -> int | None:
        """Hold point of a rule the prefilter finds no complete match for from ``pos``, or None
        when it may have one (then the rule runs in full).

        Such a rule can only have a partial match, and only near the end of the text: one search
        from ``partial_start_bound`` answers it. (``collect`` does not ask when the text ends
        with a character the rule cannot read, see ``_cannot_end_with``. This replaces the stream
        gate, one alternation of all rules, which costs ~18 MB of memory.) ``memo``: per text,
        bounds by shape and the budget.
        ``open_word``: where the text's last open word starts, when a
        partial match from there on cannot change the outcome (see ``collect``).
        """
        info = self._partial_info[index]
        if info is None:
            return None
        shape, outside, starts = info
        ends = scan.ends.get(index)
        if ends and ends[-1] - shape.min_width >= pos:
            return None  # a widened match may start at or after pos
        n = len(text)
        if open_word is not None and (open_word == pos or (
                outside is not None and outside.search(text, open_word - 1) is not None)):
            # finalize() holds the last open word anyway: only a partial match starting before
            # it could matter, and it would read the whole word and the whitespace before it
            return n
        start = memo.get(id(shape))
        if start is None:
            start = memo[id(shape)] = partial_start_bound(shape, scan.lines, pos)
        if open_word is not None and starts is not None:
            # the earliest place a partial match could begin (a character it may read first,
            # readable characters from there to the end): none before the open word, no search
            m = starts.search(text, start)
            if m is None or m.start() >= open_word:
                return n
        budget = memo.get(-1)
        if budget is None:
            budget = memo[-1] = self._budget(text)
        try:
            m = rule.pattern.search(text, start, partial=True, timeout=budget)
        except TimeoutError:
            return None  # the full scan reports the time-out
        if m is None:
            return n
        return m.start() if m.partial else None

    def _known_hits(self, text: str, known: Iterable[KnownValue], pos: int = 0, partial: bool = False,
                    tail: int = 0) -> tuple[list[Hit], int]:
        """Whole-word occurrences of known values, found with ``str.find`` (C speed).

        Values with digits match case-insensitively; names match as found, in UPPER case and in
        Title Case only, so a surname "Ng" does not eat the unit in "ng/mL".
        """
        by_value: dict[str, KnownValue] = {}
        for k in known:
            key = _normalized_lower(k.value)
            if len(key) >= 2 and key not in by_value:
                by_value[key] = k
        n = len(text)
        hold = n
        if not by_value:
            return [], hold
        lower = text.lower()
        if len(lower) != n:  # a few Unicode letters change length when lowered: use the regex path
            return self._known_hits_regex(text, by_value, pos, partial)
        hits = []
        # many values in a long text: one find per value would make the cost grow with the
        # square of the size; look a value up among the words of the text instead
        indexed = len(by_value) * n > KNOWN_INDEX_WORK
        words: dict[bool, dict[str, list[int]]] = {}
        for key, k in by_value.items():
            order = self._order.get(k.rule, 10**6)
            for needle, folded, word_start, word_end, spaced, head in _needles(k.value):
                hay = lower if folded else text
                if indexed and word_start:
                    if folded not in words:
                        words[folded] = word_starts(hay)
                    starts = [i for i in words[folded].get(head, ()) if i >= pos and hay.startswith(needle, i)]
                else:
                    i = hay.find(needle, pos)
                    if i < 0 and not (partial and spaced):
                        continue  # the usual case: not in this text at all
                    starts = []
                    while i >= 0:
                        starts.append(i)
                        i = hay.find(needle, i + 1)
                for i in starts:
                    e = i + len(needle)
                    if not (word_start and i > 0 and _is_word(hay[i - 1])):
                        if partial and e == n and word_end:
                            hold = min(hold, i)  # "Grace" might continue as "Graceful"
                        elif not (word_end and e < n and _is_word(hay[e])):
                            hits.append(Hit(k.rule, k.label, i, e, k.replacement, order))
                if partial and spaced:
                    # the text may end with the beginning of a known value: try each word start
                    # in the last len(needle)-1 characters. A value without whitespace can only
                    # begin inside the text's last open word, which finalize() holds anyway.
                    s = hay.find(needle[0], max(pos, n - len(needle) + 1))
                    while s >= 0:  # only where the needle's first character is
                        if (not word_start or _WORD_START.match(hay, s)) and needle.startswith(hay[s:]):
                            hold = min(hold, s)
                            break
                        s = hay.find(needle[0], s + 1)
        return hits, hold

    def _known_hits_regex(self, text: str, by_value: dict[str, KnownValue], pos: int,
                          partial: bool) -> tuple[list[Hit], int]:
        values = tuple(sorted(by_value, key=lambda v: (-len(v), v)))
        pattern = _compile_literals(values)
        hits, hold = [], len(text)
        try:
            for m in pattern.finditer(text, pos, partial=partial, timeout=self._budget(text)):
                if partial and (m.partial or m.end() == len(text)):
                    hold = min(hold, m.start())
                    if m.partial:
                        break
                k = by_value.get(m.group().lower())
                if k is not None:
                    hits.append(Hit(k.rule, k.label, m.start(), m.end(), k.replacement,
                                    self._order.get(k.rule, 10**6)))
        except TimeoutError:
            raise RedactionFailed("known-value scan exceeded its time budget", code="rule_timeout") from None
        return hits, hold

    def _protected_spans(self, text: str, pos: int = 0, partial: bool = False,
                         tail: int = 0) -> tuple[list[tuple[int, int]], int]:
        hold = len(text)
        horizon = len(text) - tail
        spans: list[tuple[int, int]] = []
        patterns = [("own tokens", self._own_tokens)] + [(a.name, a.pattern) for a in self.ruleset.allow]
        for name, pattern in patterns:
            try:
                for m in pattern.finditer(text, pos, partial=partial, timeout=self._budget(text)):
                    if partial and (m.partial or m.end() > horizon):
                        hold = min(hold, m.start())
                        if m.partial:
                            break
                    spans.append(m.span())
            except TimeoutError:
                raise RedactionFailed(f"allow pattern {name!r} exceeded its time budget", code="rule_timeout") from None
        spans.sort()
        return spans, hold

    def collect(
        self,
        text: str,
        direction: str = "request",
        rules: Iterable[Rule] | None = None,
        *,
        pos: int = 0,
        partial: bool = False,
        tail: int = 0,
    ) -> tuple[list[Hit], int, list[KnownValue], list[tuple[int, int]] | None]:
        """Raw (unmerged) rule hits in normalized ``text`` from ``pos``, hold point, found values,
        and the protected spans when they had to be computed (``finalize`` reuses them)."""
        raw: list[Hit] = []
        found: list[KnownValue] = []
        hold = len(text)
        whole_text = rules is None
        scan = self.prefilter.scan(text) if self.prefilter is not None else None
        if rules is None:
            rules = self.ruleset.by_direction[direction]
            gate = self._usable_gate(direction) if partial and scan is None else None
            if gate is not None:
                verdict = self._gate(gate[0], text, pos)
                if verdict is not None:
                    hold = verdict
                    rules = gate[1]  # only the rules the gate cannot speak for
        propagating: list[tuple[Rule, Hit]] = []
        protected: list[tuple[int, int]] | None = None
        if whole_text and not partial and pos == 0:
            # cells of CSV/TSV columns read with their header as cue (see tablecontext)
            raw.extend(table_hits(text, lambda cell: self.scan(cell, direction)[0]))
        memo: dict[int, Any] = {}  # for _partial_only
        open_word = None
        if partial and scan is not None and self.open_word_skip:
            # A partial match inside the open word cannot lower the hold point below it
            # (finalize holds that word anyway). Used only when the word lies within ``tail`` of
            # the end: then a complete hit ending inside it holds from its start, so no rule
            # skipped this way could have kept such a hit out of the found values either.
            w = held_word_start(text, pos)
            if len(text) - w <= tail:
                open_word = w
        settled: frozenset[int] | set[int] = frozenset()
        if partial and scan is not None and text:
            # rules that can neither match from pos nor match partially: no call needed
            settled = self._cannot_end_with(text[-1])
            widths = self._min_widths
            maybe = {i for i, ends in scan.ends.items() if ends[-1] - widths[i] >= pos}
            if maybe:
                settled = settled - maybe
        gate_from = max(0, pos - LOOKBEHIND_GATE)
        for rule in rules:
            if scan is not None:
                index = self._order[rule.name]
                covered = scan.covered[index]
                # no complete match from pos: the prefilter says so, or the rule's own gate does
                if partial and (covered or (self.gates and not rule.may_match(text, gate_from))):
                    if index in settled:
                        continue
                    h = self._partial_only(rule, index, text, pos, scan, memo, open_word)
                    if h is not None:
                        hold = min(hold, h)
                        continue
                elif covered and not partial and index not in scan.ends:
                    continue  # not even its widened form matches anywhere
            hits, h = self._rule_hits(rule, text, pos, partial, tail, scan)
            hold = min(hold, h)
            raw.extend(hits)
            if rule.propagate:
                propagating.extend((rule, hit) for hit in hits)
        if propagating:
            # a value inside one of our own tokens ("[NAME]") or an allow match is not PHI
            protected, _ = self._protected_spans(text, pos)
            inside = covering(protected)
            for rule, hit in propagating:
                if hit.end <= hold and not inside(hit.start, hit.end):
                    found.extend(known_values_from(text[hit.start:hit.end], rule))
        return raw, hold, found, protected

    def finalize(
        self,
        text: str,
        raw: list[Hit],
        hold: int,
        known: Iterable[KnownValue] = (),
        *,
        pos: int = 0,
        partial: bool = False,
        tail: int = 0,
        protected: list[tuple[int, int]] | None = None,
    ) -> tuple[list[Hit], int]:
        """Add known-value hits, drop protected ones, merge; with ``partial``, cut at the hold point.

        ``protected``: the spans ``collect`` computed for the same text and ``pos`` (not partial)."""
        known = list(known)
        if known:
            hits, h = self._known_hits(text, known, pos, partial, tail)
            hold = min(hold, h)
            raw = raw + hits
        if raw or partial:
            if protected is None or partial:
                protected, h = self._protected_spans(text, pos, partial, tail)
                hold = min(hold, h)
            if protected:
                inside = covering(protected)
                raw = [h for h in raw if not inside(h.start, h.end)]
        merged = merge_hits(raw) if raw else []
        if partial:
            # `\b` at the end of the text counts as a real end in partial matching, so a rule like
            # `\(?\b\d{3}` would not claim the "(" of "call (": never release the last open word
            # (of a long run without spaces, its last OPEN_WORD_HOLD characters)
            hold = min(hold, held_word_start(text, pos))
            # a merged span crossing the hold point may still grow: hold from its start
            for h in reversed(merged):
                if h.start < hold < h.end:
                    hold = h.start
            merged = [h for h in merged if h.end <= hold]
        return merged, hold

    def scan(
        self,
        text: str,
        direction: str = "request",
        known: Iterable[KnownValue] = (),
        rules: Iterable[Rule] | None = None,
        *,
        pos: int = 0,
        partial: bool = False,
        tail: int = 0,
    ) -> tuple[list[Hit], int, list[KnownValue]]:
        """Merged hits in ``text`` (already normalized) from ``pos``, the hold point, found values.

        Without ``partial`` the hold point is ``len(text)``. With it, hits at or after the hold
        point are not final (more text may change them) and are left out.
        """
        raw, hold, found, protected = self.collect(text, direction, rules, pos=pos, partial=partial, tail=tail)
        merged, hold = self.finalize(text, raw, hold, list(known) + found, pos=pos, partial=partial, tail=tail,
                                     protected=protected)
        return merged, hold, found

    # -- the stream gate -----------------------------------------------------------------------
    def _gate_for(self, direction: str) -> tuple[Any, tuple[Rule, ...]]:
        gate = self._gates.get(direction)
        if gate is None:
            gate = self._gates[direction] = build_gate(self.ruleset.by_direction[direction])
        return gate

    def _usable_gate(self, direction: str) -> tuple[Any, tuple[Rule, ...]] | None:
        """The stream gate of the plain engine, if it can be used without a pause.

        Compiling it takes over a second of CPU. Without a prefilter (tests, benchmarks) it is
        built when first needed. With one, it is never built while the prefilter is still
        being built (streams run rule by rule meanwhile), and when the prefilter failed it is
        built in a background thread, so no caller (the proxy's event loop) waits for it.
        """
        gate = self._gates.get(direction)
        if gate is not None or self.prefilter is None:
            return gate if gate is not None else self._gate_for(direction)
        if not self.prefilter.ready:
            return None
        with self._gate_lock:
            if not self._gate_building:
                self._gate_building = True
                threading.Thread(target=self._build_gates, name="werker-gate", daemon=True).start()
        return None

    def _build_gates(self) -> None:
        for direction in self.ruleset.by_direction:
            self._gate_for(direction)

    def gate_ready(self, direction: str) -> bool:
        return direction in self._gates

    def _gate(self, gate: Any, text: str, pos: int) -> int | None:
        """One search with all joinable rules as alternatives, instead of one search per rule.

        Returns the hold point when the gate can speak for every joinable rule: ``len(text)``
        when none of them can match or still grow into a match from ``pos``, or the start of the
        earliest possible (partial) match, before which none of them has anything. Returns None
        when some rule has a complete match: then every rule runs on its own.
        """
        if gate is None:
            return None
        try:
            m = gate.search(text, pos, partial=True, timeout=self._budget(text))
        except TimeoutError:
            return None
        if m is None:
            return len(text)
        return m.start() if m.partial else None

    def find(
        self,
        text: str,
        direction: str = "request",
        known: Iterable[KnownValue] = (),
        rules: Iterable[Rule] | None = None,
    ) -> tuple[list[Hit], list[KnownValue]]:
        """Hits in ``text`` (already normalized), merged, and the values propagating rules found."""
        hits, _, found = self.scan(text, direction, known, rules)
        return hits, found

    # -- transformation ----------------------------------------------------------------------
    def prepare(self, text: str, direction: str = "request") -> "Prepared":
        """The expensive part of ``redact``: normalize and run every rule (no known values yet)."""
        norm = normalize(text)
        raw, hold, found, protected = self.collect(norm.text, direction)
        return Prepared(text, norm, raw, hold, tuple(found), protected)

    def apply(self, prepared: "Prepared", known: Iterable[KnownValue] = ()) -> Redacted:
        """Finish a prepared text with the known values (cheap literal search), merge, replace."""
        text, norm = prepared.text, prepared.norm
        hits, _ = self.finalize(norm.text, prepared.raw, prepared.hold, list(known) + list(prepared.found),
                                protected=prepared.protected)
        if not hits:
            return Redacted(text, (), {}, prepared.found)
        out: list[str] = []
        pos = 0
        mapped: list[Hit] = []
        counts: dict[str, int] = {}
        for h in hits:
            s, e = norm.span_to_original(h.start, h.end)
            out.append(text[pos:s])
            out.append(h.replacement)
            pos = e
            mapped.append(Hit(h.rule, h.label, s, e, h.replacement, h.order))
            counts[h.rule] = counts.get(h.rule, 0) + 1
        out.append(text[pos:])
        return Redacted("".join(out), tuple(mapped), counts, prepared.found)

    def redact(
        self, text: str, direction: str = "request", known: Iterable[KnownValue] = ()
    ) -> Redacted:
        return self.apply(self.prepare(text, direction), known)


@dataclass(frozen=True, slots=True)
class Prepared:
    text: str
    norm: Any  # Normalized
    raw: list[Hit]
    hold: int
    found: tuple[KnownValue, ...]
    protected: list[tuple[int, int]] | None = None  # allow and own-token spans, if collect needed them


_GLOBAL_FLAGS = regex.compile(r"^\(\?([aiLmsux]+)\)")
_FLAG_LETTERS = {regex.IGNORECASE: "i", regex.MULTILINE: "m", regex.DOTALL: "s"}


def build_gate(rules: Iterable[Rule]) -> tuple[Any, tuple[Rule, ...]]:
    """All joinable rules as one alternation (each with its own scoped flags), and the others.

    A rule with verbose or ASCII flags, backreferences, or global inline flags anywhere but at
    its very start would change meaning inside a combined pattern, and one with a lookbehind of
    more than one width may change where a partial match is reported: it stays out of the gate
    and always runs on its own.
    """
    parts = []
    alone: list[Rule] = []
    for rule in rules:
        pattern = rule.pattern.pattern
        flags = "".join(letter for bit, letter in _FLAG_LETTERS.items() if rule.pattern.flags & bit)
        m = _GLOBAL_FLAGS.match(pattern)
        if m:
            flags += m.group(1)
            pattern = pattern[m.end():]
        if (m and set(m.group(1)) - set("ims")) or rule.pattern.flags & (regex.VERBOSE | regex.ASCII) or \
                regex.search(r"\(\?[aiLmsux]+\)|\\[1-9]|\(\?P=|\\g<", pattern) or has_variable_lookbehind(pattern):
            alone.append(rule)
            continue
        flags = "".join(sorted(set(flags)))
        parts.append(f"(?{flags}:{pattern})" if flags else f"(?:{pattern})")
    if not parts:
        return None, tuple(alone)
    try:
        return regex.compile("|".join(parts)), tuple(alone)
    except regex.error:
        return None, tuple(rules)


def _partial_info(prefilter: Prefiltering) -> list[tuple[Any, Any, Any] | None]:
    """Per rule: its shape (equal shapes shared, so one bound serves them all), the pattern
    of characters outside its alphabet, and where a partial match could begin."""
    shared: dict[Any, Any] = {}
    out: list[tuple[Any, Any, Any] | None] = []
    for shape, outside, starts in zip(prefilter.shapes, prefilter.outside, prefilter.starts):
        out.append(None if shape is None else (shared.setdefault(shape, shape), outside, starts))
    return out


@lru_cache(maxsize=4096)
def _normalized_lower(value: str) -> str:
    return normalize(value).text.lower()


@lru_cache(maxsize=4096)
def _needles(value: str) -> tuple[tuple[str, bool, bool, bool, bool, str], ...]:
    """What to search for a known value: (needle, compare case-folded, starts with a word
    character, ends with one, holds whitespace, its leading run of word characters)."""
    v = normalize(value).text.strip()
    if any(c.isdigit() for c in v):
        found = [(v.lower(), True)]
    else:
        found = [(x, False) for x in dict.fromkeys((v, v.upper(), v.title())) if len(x) >= 2]
    return tuple((x, folded, _is_word(x[0]), _is_word(x[-1]), needle_has_space(x), _leading_word(x))
                 for x, folded in found if x)


KNOWN_INDEX_WORK = 1_000_000  # values x characters above which known values are looked up by word
# the stdlib's [^\W_] is exactly ``_is_word`` (CPython: alnum per its own Unicode tables)
_WORD_RUN = re.compile(r"[^\W_]+")


def word_starts(text: str) -> dict[str, list[int]]:
    """Each maximal run of word characters in ``text``, with its start offsets (ascending)."""
    out: dict[str, list[int]] = {}
    for m in _WORD_RUN.finditer(text):
        out.setdefault(m.group(), []).append(m.start())
    return out


def _leading_word(needle: str) -> str:
    for j, c in enumerate(needle):
        if not _is_word(c):
            return needle[:j]
    return needle


def needle_has_space(needle: str) -> bool:
    return any(c.isspace() for c in needle)


def _is_word(c: str) -> bool:
    """A known value is a whole word between non-alphanumerics: ``_`` joins the parts of a name
    in file names, user names and chat ``name`` fields (Maria_Lopez.pdf)."""
    return c.isalnum()


def covering(spans: list[tuple[int, int]]) -> Callable[[int, int], bool]:
    """``inside(s, e)``: whether some span (sorted by start) contains [s, e). Binary search
    over the starts and the furthest end reached so far: a long text has thousands of spans."""
    starts = [a for a, _ in spans]
    reach: list[int] = []
    furthest = -1
    for _, b in spans:
        furthest = max(furthest, b)
        reach.append(furthest)

    def inside(s: int, e: int) -> bool:
        k = bisect_right(starts, s) - 1
        return k >= 0 and reach[k] >= e

    return inside


def open_word_start(text: str, pos: int = 0) -> int:
    """Start of the text's last open word (its trailing run of non-space), not before ``pos``."""
    return _TRAILING.search(text, pos).start()


OPEN_WORD_HOLD = 256  # of a longer open word, this many last characters are held


def held_word_start(text: str, pos: int = 0) -> int:
    """Where a stream's text is held from for its open word: the word's start, or, in a run
    without spaces (compact JSON, CSV), ``OPEN_WORD_HOLD`` characters before the end. (The
    rules' own partial matches hold whatever could still become part of a match.)"""
    return max(open_word_start(text, max(pos, len(text) - OPEN_WORD_HOLD - 1)), pos, len(text) - OPEN_WORD_HOLD)


def merge_hits(hits: list[Hit]) -> list[Hit]:
    """Merge overlapping hits; the longest hit (then the earliest rule) names the span."""
    hits = sorted(hits, key=lambda h: (h.start, -(h.end - h.start), h.order))
    merged: list[Hit] = []
    best: Hit | None = None
    cur_s = cur_e = -1
    for h in hits:
        if best is not None and h.start < cur_e:
            if h.end > cur_e:
                cur_e = h.end
            if (h.end - h.start, -h.order) > (best.end - best.start, -best.order):
                best = h
            continue
        if best is not None:
            merged.append(Hit(best.rule, best.label, cur_s, cur_e, best.replacement, best.order))
        best, cur_s, cur_e = h, h.start, h.end
    if best is not None:
        merged.append(Hit(best.rule, best.label, cur_s, cur_e, best.replacement, best.order))
    return merged


def add_counts(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for k, v in counts.items():
        into[k] = into.get(k, 0) + v

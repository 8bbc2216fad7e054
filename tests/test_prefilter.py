"""The Hyperscan prefilter never changes a decision: rule by rule, it finds exactly the matches
of the plain scan, on generated clinical notes, on notes full of unusual characters, and on
random text built to sit on window edges."""

from __future__ import annotations

import platform
import random
import sys

import pytest
import regex
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.clinical_gen import generate
from tests.e2e.proxyproc import TEST_CACHE
from werker_proxy import hsdb
from werker_proxy import prefilter as pf
from werker_proxy.config import load_settings
from werker_proxy.normalize import normalize
from werker_proxy.redact import Redactor, held_word_start
from werker_proxy.rules import RuleSet, parse_rule

EXPECT_HYPERSCAN = sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")


def _engines(ruleset: RuleSet) -> tuple[Redactor, Redactor]:
    plain = Redactor(ruleset, rule_timeout_s=30, gates=False)
    prefilter = hsdb.shared_prefilter([r.as_written for r in ruleset.rules], TEST_CACHE)
    fast = Redactor(ruleset, rule_timeout_s=30, prefilter=prefilter)
    if not fast.prefilter.wait(300):
        if EXPECT_HYPERSCAN:
            pytest.fail(f"the prefilter should be in use on this machine: {fast.prefilter.error}")
        pytest.skip(f"no prefilter here: {fast.prefilter.error}")
    return plain, fast


@pytest.fixture(scope="module")
def engines() -> tuple[Redactor, Redactor]:
    return _engines(load_settings(None).ruleset)


def _rule_by_rule(plain: Redactor, fast: Redactor, text: str) -> list[str]:
    """Names of rules whose matches differ between the plain scan and the prefiltered one."""
    t = normalize(text).text
    scan = fast.prefilter.scan(t)
    assert scan is not None
    out = []
    for rule in plain.ruleset.rules:
        a = [(h.start, h.end) for h in plain._rule_hits(rule, t)[0]]
        b = [(h.start, h.end) for h in fast._rule_hits(rule, t, scan=scan)[0]]
        if a != b:
            out.append(rule.name)
    return out


def _partial_rule_by_rule(plain: Redactor, fast: Redactor, text: str, pos: int = 0) -> list[str]:
    """Rules whose hits or hold point differ on a stream's unfinished text (``partial``)."""
    t = normalize(text).text
    pos = min(pos, len(t))
    open_word = held_word_start(t, pos)
    out = []
    for rule in plain.ruleset.by_direction["response"]:  # only responses are streamed
        a = plain.collect(t, "response", [rule], pos=pos, partial=True, tail=16)
        fast.open_word_skip = False  # the exact hold point of every rule
        b = fast.collect(t, "response", [rule], pos=pos, partial=True, tail=16)
        fast.open_word_skip = True  # the same up to the last open word, which is held anyway
        c = fast.collect(t, "response", [rule], pos=pos, partial=True, tail=16)
        spans = [(h.start, h.end) for h in a[0]]
        if spans != [(h.start, h.end) for h in b[0]] or a[1] != b[1] or \
                spans != [(h.start, h.end) for h in c[0]] or min(a[1], open_word) != min(c[1], open_word):
            out.append(rule.name)
    return out


def _cuts(text: str, r: random.Random, n: int) -> list[tuple[str, int]]:
    """Unfinished texts as a stream sees them: a prefix, scanned from a point inside it."""
    out = []
    for _ in range(n):
        end = r.randint(1, len(text))
        out.append((text[:end], r.randint(0, end)))
    return out


def test_default_rules_mostly_run_in_windows(engines):
    """The speed-up is real: nearly every default rule is covered by the safe-text database."""
    _, fast = engines
    scan = fast.prefilter.scan("plain ascii")
    windowed = [r.name for i, r in enumerate(fast.ruleset.rules) if scan.covered[i] and fast.prefilter.shapes[i]]
    assert len(windowed) >= 0.9 * len(fast.ruleset.rules), windowed


def test_same_matches_as_plain_scan_on_generated_notes(engines):
    plain, fast = engines
    docs = generate(11, 150)
    differing = {(name, d.text[:60]) for d in docs for name in _rule_by_rule(plain, fast, d.text)}
    assert not differing, sorted(differing)[:5]
    assert all(plain.redact(d.text).text == fast.redact(d.text).text for d in docs[:60])


_UNUSUAL = ["é", "É", "ñ", "ø", "’", "‘", "“", "\u00a0", "\u2009", "\u212a", "ſ", "ß", "İ", "ı", "²", "½",
            "٣", "\u0301", "😀", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\x00", "\x1a", "Ⅻ", "ǅ", "µ", "°"]


def _sprinkle(text: str, r: random.Random, rate: float) -> str:
    out = []
    for c in text:
        if r.random() < rate:
            out.append(r.choice(_UNUSUAL))
            if r.random() < 0.5:
                continue  # replace the character instead of inserting before it
        out.append(c)
    return "".join(out)


def test_same_matches_on_notes_with_unusual_characters(engines):
    """Accents, curly quotes, odd spaces, case-folding letters (Kelvin sign, long s), marks,
    emoji and control characters: texts holding any of them use the wild-byte database."""
    plain, fast = engines
    r = random.Random(5)
    docs = generate(12, 80)
    differing = set()
    for d in docs:
        for rate in (0.01, 0.08):
            text = _sprinkle(d.text, r, rate)
            differing |= {(name, rate) for name in _rule_by_rule(plain, fast, text)}
    assert not differing, sorted(differing)[:5]


def test_same_stream_hold_points_as_plain_scan(engines):
    """Unfinished stream text: rules without a complete match only look for a partial one near
    the end; hits and hold points stay exactly the plain scan's, rule by rule and merged."""
    plain, fast = engines
    r = random.Random(8)
    differing = set()
    for d in generate(13, 60):
        for rate in (0.0, 0.03):
            text = _sprinkle(d.text, r, rate) if rate else d.text
            for cut, pos in _cuts(text, r, 6):
                differing |= {(name, rate) for name in _partial_rule_by_rule(plain, fast, cut, pos)}
                t = normalize(cut).text
                a = plain.scan(t, "response", pos=min(pos, len(t)), partial=True, tail=16)
                b = fast.scan(t, "response", pos=min(pos, len(t)), partial=True, tail=16)
                assert (a[0], a[1], a[2]) == (b[0], b[1], b[2]), cut[-80:]
    assert not differing, sorted(differing)[:5]


def test_same_matches_with_a_few_unusual_characters_in_long_texts(engines):
    """A few unusual characters in a long text: the exact database reads it all and the wild
    one only the stretches around them (``unusual_windows``); still the plain scan's matches."""
    plain, fast = engines
    r = random.Random(9)
    docs = [d.text for d in generate(14, 120)]
    windowed = 0
    differing = set()
    for i in range(0, len(docs) - 6, 6):
        text = _sprinkle("\n\n".join(docs[i:i + 6]), r, 0.001)
        t = normalize(text).text
        windowed += pf.unusual_windows(t, pf.Lines(t), fast.prefilter._reach) is not None
        differing |= set(_rule_by_rule(plain, fast, text))
        cut = r.randint(1, len(text))
        differing |= set(_partial_rule_by_rule(plain, fast, text[:cut], r.randint(0, cut)))
    assert not differing, sorted(differing)[:5]
    assert windowed >= 10  # the windowed path was the one tested


def test_a_long_line_bounded_match_around_an_unusual_letter():
    """The stretch around an unusual character spans whole lines for line-bounded patterns: a
    match may start far before the character (regression: only 72 characters were scanned)."""
    plain, fast = _engines(_rules(("r", r"\bstart[\p{L} ]*end\b"), ("s", r"\d{3}-\d{4}")))
    filler = "\n".join(f"line {i} 555-{1000 + i} plain words here" for i in range(40))
    for gap in (10, 100, 400):
        text = f"{filler}\nstart {'a ' * gap}é bb end\n{filler}"
        assert _rule_by_rule(plain, fast, text) == [], gap
        assert plain._rule_hits(plain.ruleset.rules[0], normalize(text).text)[0]


def test_an_unshaped_rule_is_not_judged_by_the_windows_around_unusual_characters():
    """A rule without a shape (here `\\s*` may cross any number of lines) has no bound the
    stretches around an unusual character could be sized from: with a few unusual characters
    it must keep the plain scan. (Regression: it was skipped when neither scan saw it.)"""
    plain, fast = _engines(_rules(("unshaped", r"(?i:ss)\s*\#\d{3}"), ("short", r"\d{3}-\d{4}")))
    assert fast.prefilter.shapes[0] is None
    filler = "\n".join(f"line {i} 555-{1000 + i} plain words here" for i in range(60))
    text = f"{filler}\nSS\u2028{' ' * 120}#123 and more\n{filler}"
    t = normalize(text).text
    assert pf.unusual_windows(t, pf.Lines(t), fast.prefilter._reach) is not None  # the windowed path
    assert plain._rule_hits(plain.ruleset.rules[0], t)[0], "the plain scan finds it"
    assert _rule_by_rule(plain, fast, text) == []
    assert fast.redact(text).text == plain.redact(text).text


_FRAGMENTS = ["Patient: ", "Jane Doe", "DOB ", "03/14/1950", "SSN ", "123-45-6789", " MRN ", "00482913",
              "(617) 555-0142", "Dr. ", "Okafor", ", MD", " denies fever", "\n", "\r\n", "  ", "\t", "Sincerely,",
              "http://x.org/a", "jane@x.org", "March 14", " 2024", "Boston, MA 02114", "-", ":", "|", "^",
              "a 94-year-old", "ninety", "\"name\": \"", "\"", "signed by ", "her daughter ", "Maria", "12 Elm St"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.sampled_from(_UNUSUAL),
                          st.text(alphabet="aZ09 .,-/:\n", max_size=6)), max_size=40))
def test_same_matches_on_random_fragments(engines, parts):
    plain, fast = engines
    text = "".join(parts)
    assert _rule_by_rule(plain, fast, text) == []
    for pos in (0, len(text) // 2):
        assert _partial_rule_by_rule(plain, fast, text, pos) == []


def _rules(*specs: tuple[str, str]) -> RuleSet:
    return RuleSet.build([parse_rule({"name": n, "label": "X", "pattern": p}, "t.yaml", i)
                          for i, (n, p) in enumerate(specs)], [])


@pytest.mark.parametrize("pattern", [
    r"\d{3}([- ])\d{2}\1\d{4}",                      # backreference
    r"(?<![\w-])[- ]?\d{2,}(?=[ \t]*(?i:mg|ml)\b)",  # leading dash in a set, final lookahead
    r"(?i:dob)[ \t]*:?[ \t]*\r?\n?[ \t]*(?P<phi>\d+)(?![\d/])",  # unbounded but line-bounded
    r"\b[A-Z][a-z]+(?=(?:[ \t]+[A-Z][a-z]+)*[ \t]+(?:MD|RN)\b)",  # unbounded lookahead, final
    r"(?m)^[ \t]*-[ \t]*(?P<phi>\p{Lu}\p{Ll}+)[ \t]*$",
    r"x(?=[^\n]*,)\d",                               # unbounded lookahead in the middle, line-bounded
    r"x(?=[\s\S]*,)\d",                              # not even line-bounded: skip only
    r"(?<!a)a{,3}1",                                 # {,n}: a quantifier here, text to Hyperscan
    r"x{}y|1{2}",                                    # {} is text
    r"[\u0041\u2019b]c",                              # \u escapes in a set: ASCII kept, the rest wild
])
def test_window_matching_equals_finditer_on_crafted_patterns(pattern):
    plain, fast = _engines(_rules(("r", pattern)))
    r = random.Random(3)
    pieces = ["aa1", "aaaa1", "x{}y", "11", "Ac", "bc", "’c", "123-45-6789", "123 45 6789", "-12 mg", " 34  ML", "dob:\n 1950", "DOB 42/", "Jane Doe MD",
              "Jane Roe  RN", "- Maria\n", "x1,", "x2\n,", " ", "\n", "é", "’", "ſ", "a"]
    for _ in range(300):
        text = "".join(r.choice(pieces) for _ in range(r.randint(1, 12)))
        assert _rule_by_rule(plain, fast, text) == [], text
        for end in {len(text), len(text) - 1, len(text) // 2}:
            assert _partial_rule_by_rule(plain, fast, text[:end]) == [], text[:end]


def test_skipping_partial_searches_inside_the_open_word_keeps_the_found_values():
    """A rule that can only match partially inside the last open word is not searched (that
    word is held anyway), but only when the word is short: in a long one a complete hit may end
    inside it and its value must still wait, as in the plain scan (rule ``b`` holds "Jane")."""
    ruleset = RuleSet.build([
        parse_rule({"name": "a", "label": "N", "pattern": r"Patient: (?P<phi>[A-Z][a-z]+)", "propagate": True}, "t.yaml", 0),
        parse_rule({"name": "b", "label": "X", "pattern": r"[A-Za-z,]+X"}, "t.yaml", 1)], [])
    plain, fast = _engines(ruleset)
    for tail in ("abc", "abcdefghijklmnopqrstuvwxyz"):
        text = "Patient: Jane," + tail
        a = plain.scan(text, "response", pos=0, partial=True, tail=16)
        b = fast.scan(text, "response", pos=0, partial=True, tail=16)
        assert (a[0], a[1], a[2]) == (b[0], b[1], b[2])
        assert a[2] == [], "the plain scan holds the hit: nothing found yet"


_START_PATTERNS = [r"\b\d{3}-\d{2}-\d{4}\b", r"(?i:mrn)[: ]*\d+", r"(?<![\w-])(?=\d)\d+x",
                   r"(?=[A-Z0-9-]*\d)[A-Z0-9]{4}-[A-Z0-9]{3}", r"a?(?=bc)b", r"(?:x|y?)z\d", r"(?!q)[a-c]{2,}1",
                   r"(?i)ſa\d", r"(?<=^|,)(?=\"?\p{Lu})\"?\p{Lu}\p{Ll}+,\d"]


@pytest.mark.parametrize("pattern", _START_PATTERNS)
@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="abcqxyzſSA0123-:, MRNmrn\"\n", max_size=24))
@example(text="ab -")  # a partial match only the lookahead makes: it reads "-" first
def test_a_partial_match_begins_no_earlier_than_partial_starts_says(pattern, text):
    """``partial_starts`` finds the earliest place a partial match could begin: the regex module
    never reports one before it, nor any when it finds none."""
    starts = pf.partial_starts(pattern, 0)
    assert starts is not None
    compiled = regex.compile(pattern)
    for pos in range(len(text) + 1):
        m = compiled.search(text, pos, partial=True)
        if m is not None and m.partial and m.start() < len(text):
            first = starts.search(text, pos)
            assert first is not None and first.start() <= m.start(), (pattern, text, pos, m.start())


class _Reading:
    """A compiled pattern that counts how many characters its searches may read."""

    def __init__(self, pattern: str):
        self.p, self.read = regex.compile(pattern), 0

    def search(self, text, pos, endpos, timeout=None):
        self.read += endpos - pos
        return self.p.search(text, pos, endpos, timeout=timeout)

    def match(self, text, pos, endpos=None, timeout=None):
        self.read += 1
        return self.p.match(text, pos, endpos, timeout=timeout)


def test_windows_of_a_rule_with_an_unbounded_lookahead_read_a_long_line_about_once():
    """Every widened match is a near miss here and the final lookahead may read to the end of
    the line: one search per window to the end of the line made 20 KB cost 1.6 s."""
    pattern = r"(?:(?<=\ba )|(?=\d{2,3}[ \t]?[FM][ \t]*(?:with|who)))(?P<phi>9\d|1[0-4]\d)[ \t]?[FM]"
    plain, fast = _engines(_rules(("r", pattern)))
    text = "123 Main St, " * 1500 + "a 92F with CHF"
    scan = fast.prefilter.scan(text)
    reading = _Reading(pattern)
    found = [m.span() for m in pf.window_matches(reading, text, 0, scan.ends[0], fast.prefilter.shapes[0],
                                                  scan.lines, None)]
    assert found == [m.span() for m in regex.finditer(pattern, text)] and len(found) == 1
    assert reading.read < 4 * len(text), reading.read


def test_leading_dash_of_a_set_stays_a_literal():
    """Regression: the wild byte put in front of "[- ]" made it the range \\x1a-' '."""
    exact, wild, _ = pf.analyse(r"\d{3}[- ]\d{2}")
    assert "[\\x1a\\- ]" in wild
    assert regex.fullmatch(wild.replace("\\x1a", "\x1a"), "123-45")


def test_unsupported_constructs_keep_the_plain_scan():
    with pytest.raises(pf.Unsupported):
        pf.analyse(r"(?x) a b c", 0)
    with pytest.raises(pf.Unsupported):
        pf.analyse(r"a\Kb")
    with pytest.raises(pf.Unsupported):  # not modelled, and never a crash that would break config loading
        pf.analyse(r"\x{2019}s")
    with pytest.raises(pf.Unsupported):  # `regex` makes the whole pattern caseless, Hyperscan only the rest
        pf.analyse(r"abc(?i)def")
    assert pf.analyse(r"(?i)abc")[0] == "(?i)abc"
    assert pf.analyse(r"x(?=[^\n]*,)\d")[2] is not None  # the lookahead stops at the line's end
    assert pf.analyse(r"x(?=[\s\S]*,)\d")[2] is None  # usable to skip the rule, not for windows


def test_a_tampered_cache_file_is_not_loaded(tmp_path):
    if hsdb.hyperscan is None:
        pytest.skip("hyperscan is not installed")
    patterns = [regex.compile(r"\d{3}-\d{4}")]
    first = hsdb.Prefilter(patterns, str(tmp_path), background=False)
    assert first.active
    (cached,) = tmp_path.glob("*.hsdb")
    data = bytearray(cached.read_bytes())
    data[-10] ^= 0xFF
    cached.write_bytes(bytes(data))
    second = hsdb.Prefilter(patterns, str(tmp_path), background=False)  # recompiles instead of trusting the file
    assert second.active
    assert cached.read_bytes() != bytes(data)  # ...and writes a sound file over the tampered one
    assert second.scan("call 555-0142").ends == {0: [13]}


def test_old_cache_files_are_evicted(tmp_path):
    """Every rule edit builds a new ~9 MB file: only the newest few stay on disk."""
    if hsdb.hyperscan is None:
        pytest.skip("hyperscan is not installed")
    import os
    import time

    for i in range(6):
        old = tmp_path / f"prefilter-old{i}.hsdb"
        old.write_bytes(b"x")
        os.utime(old, (time.time() - 1000 + i, time.time() - 1000 + i))
    leftover = tmp_path / "prefilter-abc.123.tmp"
    leftover.write_bytes(b"x")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    other = tmp_path / "notes.txt"
    other.write_text("not ours to delete")
    pf_new = hsdb.Prefilter([regex.compile(r"\d{3}-\d{4}")], str(tmp_path), background=False)
    assert pf_new.active
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len([n for n in left if n.endswith(".hsdb")]) == hsdb.KEEP_CACHED
    assert "prefilter-old5.hsdb" in left and "prefilter-old4.hsdb" in left and "prefilter-old0.hsdb" not in left
    assert leftover.name not in left and "notes.txt" in left


def test_a_rules_alphabet_names_each_character_once():
    """The name rules spell thousands of stop-word letters: their alphabet sets were ~18 KB of
    repeated characters each (3 MB compiled over the rule set); each item now appears once."""
    for rule in load_settings(None).ruleset.rules:
        outside = pf.outside_alphabet(*rule.as_written)
        if outside is not None:
            assert len(outside.pattern) < 2_000, (rule.name, len(outside.pattern))
    assert pf.outside_alphabet(r"abcabc\dab", 0).pattern == r"[^\u0061\u0062\u0063\d]"

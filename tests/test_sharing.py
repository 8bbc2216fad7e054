"""Repeated lookaheads are compiled once and called elsewhere, without changing what matches."""

from __future__ import annotations

import regex

from tests.clinical_gen import generate
from werker_proxy.config import load_settings
from werker_proxy.sharing import share_lookaheads

WORDS = [f"stop{i:03d}" for i in range(80)]
STOP = r"(?!(?:" + "|".join(WORDS) + r")\b)"  # > 512 characters, a lookahead only


def same_matches(a: str, b: str, texts: list[str], flags: int = 0) -> bool:
    """Same complete matches, and ``b``'s partial matches (streams) start no later than ``a``'s.

    A called lookahead that reads to the end of the text makes the `regex` module report a
    partial match where the inline one may not ('s' against (?!stop...)[A-Z]): text is held
    a little earlier, never released earlier.
    """
    pa, pb = regex.compile(a, flags), regex.compile(b, flags)
    for t in texts:
        if [m.span() for m in pa.finditer(t)] != [m.span() for m in pb.finditer(t)]:
            return False
        for cut in range(len(t) + 1):
            ma, mb = pa.search(t[:cut], partial=True), pb.search(t[:cut], partial=True)
            if ma is not None and (mb is None or mb.start() > ma.start()):
                return False
    return True


def test_a_repeated_stop_lookahead_is_written_once_and_called_elsewhere():
    pattern = rf"{STOP}[A-Z]\w+(?: {STOP}[A-Z]\w+){{0,2}}"
    shared = share_lookaheads(pattern, [STOP])
    assert shared.count(STOP) == 1 and "(?&" in shared
    texts = ["Ann Stop001 Bob", "stop001 Ann Lee Kim Roe", "Stop002 x", "Ann stop003 Lee"]
    assert same_matches(pattern, shared, texts)


def test_copies_under_other_scoped_flags_are_not_shared():
    # a called group keeps the flags where it is written: sharing the first copy (inside (?i:))
    # with the second would make the second ignore case too, and 'STOP001y' would stop matching
    pattern = rf"(?i:{STOP}\w+x)|{STOP}\w+y|{STOP}\w+z"
    shared = share_lookaheads(pattern, [STOP])
    assert shared.count(STOP) == 2  # the (?i:) copy, and the definition the last copy calls
    texts = ["STOP001y", "stop001x", "Stop001x", "STOP001z", "abcz", "abcx"]
    assert same_matches(pattern, shared, texts)
    naive = rf"(?i:(?P<g>{STOP})\w+x)|(?&g)\w+y|(?&g)\w+z"
    assert not same_matches(pattern, naive, texts)  # why the rule exists


def test_copies_in_lookbehinds_capturing_fragments_and_numbered_backreferences_are_left_alone():
    behind = rf"(?<={STOP}\w{{3}} ){STOP}\w+ {STOP}\w+"
    assert share_lookaheads(behind, [STOP]).count(STOP) == 2  # the two outside the lookbehind: shared
    capturing = STOP.replace("(?:", "(", 1)
    assert share_lookaheads(f"{capturing}a{capturing}b", [capturing]) == f"{capturing}a{capturing}b"
    backref = rf"(\w){STOP}a{STOP}b\1"
    assert share_lookaheads(backref, [STOP]) == backref
    short = r"(?!ab)x(?!ab)y"
    assert share_lookaheads(short, [r"(?!ab)"]) == short


def test_default_name_rules_compile_each_stop_list_once_and_match_as_written():
    """Exactly as written, partial matches included: a name rule reads a capital letter before
    its stop words, and the name word after them runs to the end of the text wherever they do."""
    rules = [r for r in load_settings(None).ruleset.rules if r.written != r.pattern.pattern]
    assert {"name_titled", "name_labeled", "name_by", "name_followed_by_cue"} <= {r.name for r in rules}
    text = "\n\n".join(d.text for d in generate(11, 60))
    for r in rules:
        assert r.written.count("KDIGO|NCCN") > 1 and r.pattern.pattern.count("KDIGO|NCCN") == 1, r.name
        written = regex.compile(r.written, r.pattern.flags)
        assert [m.span() for m in written.finditer(text)] == [m.span() for m in r.pattern.finditer(text)], r.name
        for cut in [*range(0, len(text), 211), *range(3000, 4500)]:
            ma, mb = written.search(text[:cut], partial=True), r.pattern.search(text[:cut], partial=True)
            assert (ma and (ma.span(), ma.partial)) == (mb and (mb.span(), mb.partial)), (r.name, cut)


def test_variable_width_lookbehinds_are_recognised():
    from werker_proxy.sharing import has_variable_lookbehind
    assert has_variable_lookbehind(r"(?<!(?:OBX\|[^|]{0,6})\|)x")
    assert has_variable_lookbehind(r"(?<=a|bc)x")
    assert not has_variable_lookbehind(r"(?<![\w-])\d{3}(?![\w-])")
    assert not has_variable_lookbehind(r"(?<![\p{N}/])(?:ab)+(?=c{2,})")
    assert not has_variable_lookbehind(r"(?<=(?:ab))x[?*]")

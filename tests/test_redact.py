"""The redaction engine: detection, validators, context, allow, propagation, overlap, lookalikes."""

from __future__ import annotations

import pytest

from werker_proxy.errors import RedactionFailed
from werker_proxy.redact import KnownValue


def test_ssn_with_unicode_dashes_and_zero_width_is_found(small):
    """Lookalike dashes, no-break and zero-width spaces do not hide an SSN."""
    for text in ["SSN 123\u201145\u20136789", "SSN 123\u00a045\u00a06789", "SSN 1\u200b23-45-6789",
                 "SSN \uff11\uff12\uff13-45-6789"]:
        r = small.redactor.redact(text)
        assert r.text == "SSN [SSN]", text
        assert r.counts == {"ssn": 1}


def test_invisible_characters_inside_an_ssn_do_not_hide_it(small):
    """A soft hyphen shows nothing unless a line breaks there, and direction marks and invisible
    operators show nothing at all: they are dropped before matching, like zero-width spaces."""
    for mark in ["\u00ad", "\u200e", "\u200f", "\u202a", "\u202c", "\u2066", "\u2069", "\u2061", "\u034f"]:
        text = f"SSN 123-4{mark}5-67{mark}89"
        assert small.redactor.redact(text).text == "SSN [SSN]", repr(text)


def test_validator_rejects_impossible_ssn(small):
    """An SSN with area 000 is not an SSN."""
    assert small.redactor.redact("ref 000-12-3456").text == "ref 000-12-3456"


def test_required_context_gates_the_rule(small):
    """A bare number is kept; the same number after its cue word is scrubbed."""
    assert small.redactor.redact("dose 4829133 units").text == "dose 4829133 units"
    assert small.redactor.redact("MRN: 4829133").text == "MRN: [MRN]"


def test_allow_pattern_keeps_clinical_code(small):
    """An allow-listed ICD-10 code survives."""
    assert small.redactor.redact("Dx E11.9, I10").text == "Dx E11.9, I10"


def test_name_propagates_to_uncued_mentions(small):
    """A name found after its cue is scrubbed wherever it appears again, also part by part."""
    r = small.redactor.redact("Patient: Grace Al-Farsi. Grace reports that AL-FARSI family...")
    assert "Grace" not in r.text and "farsi" not in r.text.lower()
    assert r.counts["patient_name"] == 3
    assert {k.value for k in r.found} >= {"Grace Al-Farsi", "Grace", "Al-Farsi"}


def test_known_values_from_caller_are_scrubbed(small):
    """Values passed in (e.g. from the request of the same call) are scrubbed in other text."""
    r = small.redactor.redact("Hello Grace, see you", "response", [KnownValue("Grace", "patient_name", "NAME", "[NAME]")])
    assert r.text == "Hello [NAME], see you"


def test_direction_limits_rules(small):
    """A request-only rule does not run on responses."""
    assert small.redactor.redact("mail a@b.org", "request").text == "mail [EMAIL]"
    assert small.redactor.redact("mail a@b.org", "response").text == "mail a@b.org"


def test_overlapping_hits_merge_into_one_span(small):
    """Overlapping hits of two rules become one replacement named by the longest."""
    r = small.redactor.redact("call 617-555-0142 now")
    assert r.text == "call [PHONE] now"


def test_redaction_is_idempotent_on_own_tokens(small):
    """Scrubbing scrubbed text changes nothing: our own tokens are never matched again."""
    once = small.redactor.redact("Patient: Grace Smith SSN 123-45-6789").text
    assert small.redactor.redact(once).text == once


def test_pathological_rule_fails_closed_quickly(make_settings, tmp_path):
    """A catastrophic-backtracking rule raises RedactionFailed within its time budget, with or
    without the prefilter (its widened form, lookbehind dropped, matches the run of a's)."""
    s = make_settings(f"""
        version: 1
        state_dir: {tmp_path}
        redaction: {{rule_timeout_ms: 100}}
        rules:
          - name: evil
            label: EVIL
            pattern: '^(a|aa)+(?<!a)$'
    """)
    import time
    for ready in (False, True):
        if ready and s.redactor.prefilter is not None:
            s.redactor.prefilter.wait(60)
        t0 = time.monotonic()
        with pytest.raises(RedactionFailed) as e:
            s.redactor.redact("a" * 40)
        assert time.monotonic() - t0 < 5
        assert e.value.code == "rule_timeout"


def test_propagated_name_parts_keep_their_case(small):
    """A known surname "Ng" is scrubbed as a name (Ng, NG) but not inside the unit "ng/mL"."""
    r = small.redactor.redact("Patient: Lin Ng. NG called; troponin 12 ng/mL, twice a day.")
    assert r.text == "Patient: [NAME]. [NAME] called; troponin 12 ng/mL, twice a day."


# -- properties over generated clinical notes (default ruleset) ---------------------------------

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from tests.clinical_gen import generate  # noqa: E402

_DEFAULT = None


def _default():
    global _DEFAULT
    if _DEFAULT is None:
        from werker_proxy.config import load_settings

        _DEFAULT = load_settings(None)
    return _DEFAULT


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), cut=st.integers(0, 400))
def test_scrubbing_is_idempotent_and_leaves_no_rule_match(seed, cut):
    """Scrubbing a generated note twice changes nothing the second time, and no rule matches its output."""
    s = _default()
    doc = generate(seed, 1)[0]
    text = doc.text[cut:] if cut < len(doc.text) else doc.text
    once = s.redactor.redact(text, "request").text
    twice = s.redactor.redact(once, "request")
    assert twice.text == once
    assert not twice.hits
    for ident in doc.identifiers:
        if ident.start >= cut and ident.kind in ("SSN", "EMAIL", "PHONE"):
            assert ident.value not in once


def test_csv_cells_are_read_with_their_column_header():
    """A bare ZIP or date in a CSV row is scrubbed because its column header is the cue; codes stay."""
    s = _default()
    text = "id,zip,dob,dx,cpt\n1,30309,1952-11-03,J44.1,99214\n2,10027,01/07/1940,I50.9,99213\n"
    out = s.redactor.redact(text).text
    assert "30309" not in out and "10027" not in out and "1952-11-03" not in out and "01/07/1940" not in out
    assert "J44.1" in out and "I50.9" in out and "99214" in out and "99213" in out
    prose = "Reviewed labs, imaging, and vitals\nStable, afebrile, eating well\n"
    assert s.redactor.redact(prose).text == prose


# -- known values in long texts: looked up by word instead of one find per value ---------------

def test_word_runs_use_the_same_word_characters_as_the_boundary_checks():
    """``word_starts`` finds runs with the stdlib's \\w; the boundary checks use ``_is_word``:
    they must agree on every code point, or a value could be missed next to an exotic letter."""
    import sys

    from werker_proxy.redact import _WORD_RUN, _is_word

    differ = [hex(cp) for cp in range(sys.maxunicode + 1) if _is_word(chr(cp)) != bool(_WORD_RUN.fullmatch(chr(cp)))]
    assert differ == []


def test_known_values_found_by_word_index_equal_the_plain_search(monkeypatch):
    """Many known values in a long text take the word-index path: same hits, same hold points."""
    import random

    from werker_proxy import redact as redact_mod
    from werker_proxy.config import load_settings
    from werker_proxy.normalize import normalize

    red = load_settings(None).redactor
    docs = [d.text for d in generate(21, 40)]
    known: list[KnownValue] = []
    for d in docs:
        known.extend(red.redact(d).found)
    known += [KnownValue(v) for v in ("Ng", "O'Brien", "Mary-Jane", "_x9", "Zoë Ång", "(617) 555", "#4521",
                                      "ß-Weg", "12 Elm St", "grace")]
    r = random.Random(4)
    texts = ["\n".join(docs[i:i + 10]) + " Zoë Ång, Mary-Jane O'Brien; ng/mL Ng _x9 #4521 Zoë" for i in (0, 10, 25)]
    for text in texts:
        t = normalize(text).text
        for partial, pos, end in [(False, 0, len(t)), (True, 0, len(t))] + \
                [(True, r.randint(0, 200), r.randint(300, len(t))) for _ in range(6)]:
            monkeypatch.setattr(redact_mod, "KNOWN_INDEX_WORK", 10**12)
            plain = red._known_hits(t[:end], known, pos, partial)
            monkeypatch.setattr(redact_mod, "KNOWN_INDEX_WORK", 0)
            indexed = red._known_hits(t[:end], known, pos, partial)
            assert indexed == plain, (partial, pos, end)
            assert plain[0], "the test texts hold known values"


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=25),
       st.integers(0, 70), st.integers(0, 20))
def test_covering_answers_like_a_scan_of_every_span(raw, s, width):
    """Hits inside protected spans are dropped: the binary search agrees with checking them all."""
    from werker_proxy.redact import covering

    spans = sorted((a, a + w) for a, w in raw)
    e = s + width
    assert covering(spans)(s, e) == any(a <= s and e <= b for a, b in spans)


@pytest.mark.parametrize("text", [
    "Patient: Maria Lopez. Attached Maria_Lopez.pdf",
    "Patient: Maria Lopez. File scan_Maria_Lopez_2024",
    "Patient: Maria Lopez. user MARIA_LOPEZ",
])
def test_a_found_name_joined_by_underscores_elsewhere_is_scrubbed(small, text):
    """File names and chat `name` fields ([A-Za-z0-9_-] only) join the parts of a name with `_`,
    a word character: the known value was not found there (black-box probe)."""
    out = small.redactor.redact(text, "request").text
    assert "Maria" not in out and "Lopez" not in out and "MARIA" not in out, out


def test_underscore_joined_words_that_are_not_known_values_stay(small):
    text = "Patient: Maria Lopez. see config_max_retries and Mariachi_band"
    out = small.redactor.redact(text, "request").text
    assert "config_max_retries" in out and "Mariachi_band" in out, out


def test_a_found_place_is_known_whole_not_word_by_word(redactor):
    """A city found once is scrubbed wherever it recurs, but its words alone are not places:
    "Green Bay" found must not take the "Bay" of "clinic Bay 2" or the "Green" of "Green tea"
    (a probe found room numbers lost this way)."""
    text = "Lives in Green Bay, WI 54301. Seen in clinic Bay 2; drinks Green tea. Moved back to Green Bay."
    out = redactor.redact(text).text
    assert "Green Bay" not in out and out.count("[CITY]") >= 2, out
    assert "clinic Bay 2" in out and "Green tea" in out, out


def test_a_found_name_is_still_known_word_by_word(redactor):
    out = redactor.redact("Patient: Grace Al-Farsi. Later Grace said the pain eased.").text
    assert "Grace" not in out, out

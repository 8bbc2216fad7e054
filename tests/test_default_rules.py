"""The default ruleset (config/rules/*.yaml + config/allow.yaml) against synthetic documents.

Run with ``-s`` to print the per-kind recall / clinical-destruction table.  The corpus comes from
tests/clinical_gen.py (seeded, synthetic; no real patient data).
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import clinical_gen  # noqa: E402

from tests.e2e.proxyproc import TEST_CACHE  # noqa: E402
from werker_proxy import hsdb  # noqa: E402
from werker_proxy.config import load_settings, parse_settings  # noqa: E402
from werker_proxy.examples import run_examples  # noqa: E402
from werker_proxy.redact import Redactor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"

# Goals (see the task): structured kinds >= 99 %, names / addresses / cities >= 95 %.
WORD_KINDS = {"NAME", "ADDRESS", "CITY"}
GOAL_STRUCTURED = 0.99
GOAL_WORDS = 0.95
MAX_CLINICAL_DESTROYED = 0.01
SEEDS = (11, 22, 33)
DOCS_PER_SEED = 150


def _settings():
    """The bundled default config; if it does not list allow.yaml yet, a copy that does."""
    s = load_settings(None)
    if any(a.name == "rxnorm_code" for a in s.ruleset.allow):
        return s
    text = textwrap.dedent(f"""\
        version: 1
        rules_files:
          - {CONFIG / 'rules'}/*.yaml
          - {CONFIG / 'allow.yaml'}
        """)
    return parse_settings(text, str(CONFIG / "default.yaml"))


@pytest.fixture(scope="module")
def redactor():
    return _settings().redactor


@pytest.fixture(scope="module")
def corpus_result(redactor):
    docs = []
    for seed in SEEDS:
        docs.extend(clinical_gen.generate(seed, DOCS_PER_SEED))
    outs = [redactor.redact(d.text, direction="request").text for d in docs]
    return clinical_gen.score(docs, outs)


def test_generator_spans_and_speed():
    import time

    t = time.perf_counter()
    docs = clinical_gen.generate(5, 2000)
    elapsed = time.perf_counter() - t
    size = sum(len(d.text) for d in docs)
    assert size > 1_000_000 and elapsed < 10, (size, elapsed)
    kinds = set()
    for d in docs:
        for i in d.identifiers:
            assert d.text[i.start:i.end] == i.value, (d.kind, i)
            kinds.add(i.kind)
        for cl in d.clinical:
            assert d.text[cl.start:cl.end] == cl.value, (d.kind, cl)
    assert kinds == set(clinical_gen.ALL_KINDS)
    assert clinical_gen.generate(5, 3)[2].text == docs[2].text  # seeded


def test_scorer_judging_rule():
    doc = clinical_gen.generate(9, 1, ["portal_message"])[0]
    assert clinical_gen.score([doc], [doc.text])["recall_all"] == 0.0
    # redact every identifier span: everything caught, no clinical value lost
    out, pos = [], 0
    for i in sorted(doc.identifiers, key=lambda i: i.start):
        out.append(doc.text[pos:i.start] + "[X]")
        pos = i.end
    out.append(doc.text[pos:])
    res = clinical_gen.score([doc], ["".join(out)])
    assert res["recall_all"] == 1.0 and res["clinical_destroyed_rate"] == 0.0


def test_rule_examples():
    failures, n = run_examples(_settings())
    assert n > 200
    assert not failures, "\n".join(failures)


def test_every_rule_has_examples():
    for rule in _settings().ruleset.rules:
        if rule.source.endswith(".yaml") and "/config/" in rule.source:
            assert len(rule.examples_match) >= 2, rule.name
            assert len(rule.examples_no_match) >= 2, rule.name


def test_corpus_recall_and_clinical(corpus_result):
    res = corpus_result
    print("\n" + clinical_gen.format_table(res))
    assert res["aligned_docs"] == res["n_docs"]
    bad = []
    for kind, v in res["kinds"].items():
        goal = GOAL_WORDS if kind in WORD_KINDS else GOAL_STRUCTURED
        if v["recall"] < goal:
            bad.append(f"{kind}: {v['recall']:.3%} < {goal:.0%}")
    leaks = "\n".join(f"  {k} {v!r} [{dk}] ...{ctx!r}" for k, v, dk, ctx in res["leaks"][:25])
    assert not bad, "; ".join(bad) + "\nfirst leaks:\n" + leaks
    destroyed = "\n".join(f"  {k} {v!r} [{dk}] ...{ctx!r}" for k, v, dk, ctx in res["destroyed"][:25])
    assert res["clinical_destroyed_rate"] <= MAX_CLINICAL_DESTROYED, destroyed


def test_corpus_through_request_body(redactor):
    """The same documents sent as a request ``input`` string (the proxy's real path)."""
    from werker_proxy.payload import scrub_json

    docs = []
    for seed in SEEDS:
        docs.extend(clinical_gen.generate(seed, DOCS_PER_SEED // 3))
    outs = [scrub_json({"model": "m", "input": d.text}, redactor, "request")[0]["input"] for d in docs]
    res = clinical_gen.score(docs, outs)
    print("\n[request body path]\n" + clinical_gen.format_table(res))
    for kind, v in res["kinds"].items():
        goal = GOAL_WORDS if kind in WORD_KINDS else GOAL_STRUCTURED
        assert v["recall"] >= goal, f"{kind}: {v['recall']:.3%}"
    assert res["clinical_destroyed_rate"] <= MAX_CLINICAL_DESTROYED


# ---------------------------------------------------------------------------- hand-picked cases

POSITIVES = {
    "names": [
        ("Patient: Maria de la Cruz, DOB 03/14/1950", ["Maria", "Cruz"]),
        ("Dear Mr. Okafor,\nThank you", ["Okafor"]),
        ("Electronically signed by: Dr. Priya Natarajan, MD", ["Priya", "Natarajan"]),
        ("Accompanied by her daughter Maria.", ["Maria"]),
        ("Hi, my name is Siobhan O'Brien and I need a refill.", ["Siobhan", "Brien"]),
        ("PID|1||12345678^^^HOSP^MR||AL-FARSI^YUSUF^K||19800101|M", ["FARSI", "YUSUF"]),
        ("Sincerely,\nLachlan McAllister, NP", ["Lachlan", "McAllister"]),
        ("Patient: Chinedu Okafor. Chinedu tolerated the procedure.", ["Chinedu", "Okafor"]),
    ],
    "dates": [
        ("DOB: 19800101", ["19800101"]), ("seen 14-Mar-2024", ["14-Mar"]),
        ("on the 14th of March", ["14th of March"]), ("admitted March 14, 2024", ["March 14"]),
        ("3/4/24 visit", ["3/4/24"]), ("2024-03-14T09:30", ["2024-03-14"]),
    ],
    "contact": [
        ("call (617) 555-0142 x1234", ["555-0142", "1234"]), ("Fax: 617.555.0199", ["555.0199"]),
        ("+1 617 555 0142", ["555 0142"]), ("mail jane.doe@example.org", ["jane.doe"]),
        ("https://portal.example-health.org/patient/48213", ["48213"]),
        ("login from 192.168.10.24", ["192.168"]), ("fe80::1ff:fe23:4567:890a", ["fe23"]),
    ],
    "government": [
        ("SSN 123\u201345\u20136789", ["6789"]), ("SSN: 123\u00a045\u00a06789", ["6789"]),
        ("DEA AB1234563", ["AB1234563"]), ("NPI 1245158039", ["1245158039"]),
        ("Driver's license: S530-4821-9931", ["S530"]),
    ],
    "medical_ids": [
        ("MRN: 00482913", ["00482913"]), ("Med Rec # 4829131", ["4829131"]),
        ("Member ID: XJH482913204", ["XJH482913204"]), ("pacemaker serial PJN482913R", ["PJN482913R"]),
        ("Acct #7715706126", ["7715706126"]),
    ],
    "locations": [
        ("lives at 123 Main St Apt 4B, Boston, MA 02114", ["123 Main", "4B", "Boston", "02114"]),
        ("PO Box 4412", ["4412"]),
    ],
    "vehicles": [("VIN: 1HGCM82633A004352", ["1HGCM82633A004352"]), ("Plate: 7ABC123", ["7ABC123"])],
    "ages": [("a 92-year-old woman", ["92"]), ("aged 101", ["101"]), ("Age: 94", ["94"])],
}

NEGATIVES = [
    "BP 128/82, HR 72, T 98.6 F, SpO2 97%, RR 16",
    "HbA1c 7.2 %, K 4.1 mmol/L, Na 138 mmol/L, Cr 1.10 mg/dL",
    "Dx: E11.9, I10, J45.909, S72.001A, T78.40XA; CPT 99213, 93000; LOINC 4548-4",
    "NDC 0002-8215-01, NDC 12345-6789-01, NDC 00093714656, RxNorm 197361, RXCUI 1049630",
    "interface v2.3.1, version 3.2.18; diagnosed in 2019 at 14:30 for 3 weeks",
    "67-year-old man, age 67, 45 y/o; 2/6 systolic murmur; pain 7/10; 1/2 tablet",
    "metformin 500 mg BID, lisinopril 10 mg daily, heparin 5,000 units SC",
]


@pytest.mark.parametrize("family", sorted(POSITIVES))
def test_family_positives(redactor, family):
    for text, gone in POSITIVES[family]:
        out = redactor.redact(text, direction="request").text
        for g in gone:
            assert g not in out, f"{family}: {g!r} still in {out!r}"


@pytest.mark.parametrize("text", NEGATIVES)
def test_clinical_negatives(redactor, text):
    assert redactor.redact(text, direction="request").text == text


def test_propagated_name_parts_keep_units(redactor):
    out = redactor.redact("Patient: Wei Ng. Troponin I 0.40 ng/mL at 14:30.", direction="request").text
    assert "Ng." not in out and "0.40 ng/mL" in out


@pytest.mark.parametrize("line", ["Aa," * 6666, "Aa," * 6666 + "01/02/1980", "01/02/1980," + "Aa," * 6666,
                                  "Maria Garcia, " * 1500])
def test_a_long_line_of_short_fields_is_scrubbed_not_timed_out(redactor, line):
    """No rule may need time that grows with the square of a line: 20 KB of comma-separated
    words must not exceed a rule's time budget (that would block the call), with the prefilter
    (which runs rules in the stretches Hyperscan points at) or without it."""
    redactor.redact(line, direction="response")
    fast = Redactor(redactor.ruleset, prefilter=hsdb.shared_prefilter([r.as_written for r in redactor.ruleset.rules],
                                                                       TEST_CACHE))
    if fast.prefilter.wait(300):
        fast.redact(line, direction="response")

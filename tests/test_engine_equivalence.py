"""The fast paths of the engine decide exactly as the plain engine does."""

from __future__ import annotations

from werker_proxy.config import load_settings
from werker_proxy.redact import Redactor
from tests.clinical_gen import generate


def test_gated_engine_equals_plain_engine_on_generated_corpus():
    """Per-rule `requires` gates never change a decision: outputs are identical on 300 documents."""
    settings = load_settings(None)
    plain = Redactor(settings.ruleset, rule_timeout_s=5, gates=False)
    fast = Redactor(settings.ruleset, rule_timeout_s=5, gates=True)
    docs = generate(7, 300)
    differing = [d.text[:80] for d in docs if plain.redact(d.text).text != fast.redact(d.text).text]
    assert not differing, differing[:3]


def test_requires_gates_change_nothing_on_every_rules_examples():
    """A `requires` gate that misses a text the rule matches makes the plain engine skip a match
    the Hyperscan path finds ('Progress note - Chest Pain, grade 2 edema' was a name with the
    accelerator and not without it). Every example string of every rule is tried."""
    settings = load_settings(None)
    plain = Redactor(settings.ruleset, rule_timeout_s=5, gates=False)
    fast = Redactor(settings.ruleset, rule_timeout_s=5, gates=True)
    texts = sorted({x for r in settings.ruleset.rules for x in (*r.examples_match, *r.examples_no_match)})
    texts.append("Progress note - Chest Pain, grade 2 edema")
    differing = [t for t in texts if plain.redact(t).text != fast.redact(t).text]
    assert not differing, differing[:5]

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

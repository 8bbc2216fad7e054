"""Run every rule's own ``examples`` (what ``werker-proxy check`` does after loading)."""

from __future__ import annotations

from .config import Settings
from .errors import RedactionFailed
from .normalize import normalize


def run_examples(settings: Settings) -> tuple[list[str], int]:
    """Return (failure messages as ``file:line: ...``, number of examples run).

    A ``match`` example must give the rule at least one hit; a ``no_match`` example none.
    Examples see the allow patterns too, as real traffic does.
    """
    redactor = settings.redactor
    failures: list[str] = []
    n = 0
    for rule in settings.ruleset.rules:
        direction = "request" if "request" in rule.directions else "response"
        for expect, examples in ((True, rule.examples_match), (False, rule.examples_no_match)):
            for ex in examples:
                n += 1
                try:
                    hits, _ = redactor.find(normalize(ex).text, direction, rules=[rule])
                except RedactionFailed as e:
                    failures.append(f"{rule.where}: rule {rule.name}: {e.message}")
                    continue
                if expect and not rule.may_match(normalize(ex).text):
                    failures.append(f"{rule.where}: rule {rule.name}: `requires` finds nothing in match example {ex!r}")
                elif expect and not hits:
                    failures.append(f"{rule.where}: rule {rule.name}: finds nothing in match example {ex!r}")
                elif not expect and hits:
                    found = ", ".join(repr(ex[h.start:h.end]) for h in hits)
                    failures.append(
                        f"{rule.where}: rule {rule.name}: matches {found} in no_match example {ex!r}"
                    )
    return failures, n

"""Measurements behind the optimisation suggestions (no product code is changed).

    .venv/bin/python benchmarks/engine_experiments.py [--mb 0.5]

A. the per-rule ``timeout=`` argument: the same engine with ``rule_timeout_s=None``;
B. known-value propagation: the literal-alternation compile per body (cache miss) vs cached;
C. the JSON walker: ``scrub_body_bytes`` on a Responses body vs ``redact()`` of its text;
D. streaming: one ``scan(partial=True)`` of a 256-character window (what each delta costs now)
   vs a cheap gate that only asks "is there a digit, @, or a cue word here";
E. lookbehind-first patterns: a rule as written vs the same rule behind a first-character
   lookahead (does the ``regex`` module skip faster?).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import orjson  # noqa: E402
import regex  # noqa: E402

import corpus  # noqa: E402
from engine import best_of, nbytes, pin_one_core  # noqa: E402
from werker_proxy import redact as redact_mod  # noqa: E402
from werker_proxy.config import load_settings  # noqa: E402
from werker_proxy.normalize import normalize  # noqa: E402
from werker_proxy.payload import scrub_body_bytes  # noqa: E402
from werker_proxy.redact import Redactor  # noqa: E402

MB = 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=0.5)
    args = ap.parse_args(argv)
    pin_one_core()
    s = load_settings(None)
    docs = corpus.corpus(int(args.mb * MB), seed=11)
    b = nbytes(docs)
    red = Redactor(s.ruleset, rule_timeout_s=0.5)
    print(f"{len(s.ruleset.rules)} rules, {b / MB:.2f} MB in {len(docs)} docs")

    # A
    t_with = best_of(lambda: [red.redact(d) for d in docs], 2)
    red_nt = Redactor(s.ruleset, rule_timeout_s=None)
    t_without = best_of(lambda: [red_nt.redact(d) for d in docs], 2)
    print(f"A. timeout=0.5: {b / MB / t_with:.2f} MB/s; no timeout: {b / MB / t_without:.2f} MB/s "
          f"({(1 - t_without / t_with) * 100:.0f} % less time)")

    # B
    found_sets = []
    for d in docs[:300]:
        r = red.redact(d)
        vals = {}
        for k in r.found:
            key = normalize(k.value).text.lower()
            if len(key) >= 2:
                vals[key] = k
        found_sets.append(tuple(sorted(vals, key=lambda v: (-len(v), v))))
    nonempty = [f for f in found_sets if f]

    def compile_all():
        redact_mod._compile_literals.cache_clear()
        for f in nonempty:
            redact_mod._compile_literals(f)

    t_c = best_of(compile_all, 2)
    t_redact300 = best_of(lambda: [red.redact(d) for d in docs[:300]], 2)
    avg_vals = sum(map(len, nonempty)) / max(1, len(nonempty))
    print(f"B. known-value pattern compile: {t_c / max(1, len(nonempty)) * 1e3:.2f} ms per body "
          f"({avg_vals:.1f} values avg) = {t_c / t_redact300 * 100:.0f} % of redact() time on these docs")
    big = "\n\n".join(docs)[:20000]
    r = red.redact(big)
    vals = tuple(sorted({normalize(k.value).text.lower() for k in r.found if len(k.value) >= 2},
                        key=lambda v: (-len(v), v)))
    t_big = best_of(lambda: (redact_mod._compile_literals.cache_clear(), redact_mod._compile_literals(vals)), 3)
    t_redact_big = best_of(lambda: red.redact(big), 3)
    print(f"   20 KB body: {len(vals)} known values, compile {t_big * 1e3:.1f} ms of {t_redact_big * 1e3:.1f} ms "
          f"redact ({t_big / t_redact_big * 100:.0f} %)")

    # C
    body = orjson.dumps({"id": "resp_1", "object": "response", "model": "m", "status": "completed",
                         "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                                     "content": [{"type": "output_text", "annotations": [], "text": big}]}]})
    t_walk = best_of(lambda: scrub_body_bytes(body, red, "response", attachments="allow"), 3)
    print(f"C. JSON walker on a 20 KB Responses body: {t_walk * 1e3:.1f} ms vs redact() of its text "
          f"{t_redact_big * 1e3:.1f} ms ({t_walk / t_redact_big:.2f}x; two passes: propagating rules, then all)")

    # D
    text = "\n".join(docs[:50])
    windows = [normalize(text[i:i + 256]).text for i in range(0, 256 * 200, 256)]
    t_scan = best_of(lambda: [red.scan(w, "response", (), pos=200, partial=True, tail=16) for w in windows], 3)
    words = regex.findall(r"\s*\S+", text)[:3000]
    cues = sorted({w.lower() for r in s.ruleset.rules if r.context for w in r.context.words}, key=len, reverse=True)
    gate = regex.compile(r"[\d@]|://|(?<!\w)(?:" + "|".join(regex.escape(c) for c in cues) + r")(?!\w)", regex.I)
    t_gate = best_of(lambda: [gate.search(w) for w in words], 3)
    passed = sum(1 for w in words if gate.search(w) is None)
    print(f"D. per delta now: scan(partial) of a 256-char window = {t_scan / len(windows) * 1e6:.0f} us "
          f"(x60 deltas = {t_scan / len(windows) * 60 * 1e3:.1f} ms per stream); a digit/@/cue-word gate: "
          f"{t_gate / len(words) * 1e6:.1f} us per word-delta, releases {passed / len(words):.0%} of word deltas "
          f"on these notes (note text is identifier-dense; model prose is sparser)")

    # E
    normed = [normalize(d).text for d in docs]
    for name, first in (("date_numeric", r"(?=\d)"), ("url_bare_domain", r"(?=[A-Za-z0-9-])"),
                        ("ipv6", r"(?=[0-9A-Fa-f:])")):
        rule = next((r for r in s.ruleset.rules if r.name == name), None)
        if rule is None:
            continue
        alt = regex.compile(first + rule.pattern.pattern, rule.pattern.flags)
        t0 = best_of(lambda: [list(rule.pattern.finditer(d)) for d in normed], 3)
        t1 = best_of(lambda: [list(alt.finditer(d)) for d in normed], 3)
        same = all([m.span() for m in rule.pattern.finditer(d)] == [m.span() for m in alt.finditer(d)] for d in normed)
        print(f"E. {name}: {b / MB / t0:.1f} MB/s as written, {b / MB / t1:.1f} MB/s with lookahead {first} "
              f"(same matches: {same})")
    digit = regex.compile(r"\d")
    t_d = best_of(lambda: [digit.search(d) for d in normed], 3)
    print(f"   for scale: one regex search for a digit per document: {b / MB / t_d:.0f} MB/s; "
          f"documents with no digit at all: {sum(1 for d in normed if not digit.search(d))}/{len(normed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

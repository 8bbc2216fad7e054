"""Redaction engine throughput: MB/s of the default ruleset on synthetic clinical text.

    .venv/bin/python benchmarks/engine.py            # ~5 MB corpus, best of 3 (a few minutes)
    .venv/bin/python benchmarks/engine.py --quick    # small corpus, about 20 s

One core, ``time.perf_counter``, best of N. Figures:

* headline: ``redact()`` over a ~5 MB corpus of documents, each document one call (the unit a
  proxy sees: one message / body string);
* size scaling, "docs": corpora of 0.5 / 1 / 2 / 5 MB (flat MB/s = linear);
* size scaling, "single": the corpus joined into ONE text of growing size (a long body; shows
  costs that grow with the number of identifiers in one text, e.g. known-value propagation);
* rule count: the first 25 % / 50 % / 100 % of the rules (sub-linear = better than flat s/rule);
* breakdown: time per stage and the slowest rules.

Writes ``benchmarks/results/engine.json``. MB = 10^6 bytes of UTF-8.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpus as corpus_mod  # noqa: E402
from werker_proxy import hsdb  # noqa: E402
from werker_proxy.config import load_settings  # noqa: E402
from werker_proxy.normalize import normalize  # noqa: E402
from werker_proxy.redact import Redactor  # noqa: E402
from werker_proxy.rules import RuleSet  # noqa: E402

MB = 1_000_000


def nbytes(docs: list[str]) -> int:
    return sum(len(d.encode()) for d in docs)


def best_of(fn, reps: int, budget_s: float | None = None) -> float:
    """Best wall time of ``fn()`` over ``reps`` runs (fewer if ``budget_s`` is used up)."""
    best = float("inf")
    start = time.perf_counter()
    for _ in range(reps):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
    return best


def redact_docs(red: Redactor, docs: list[str]) -> None:
    for d in docs:
        red.redact(d)


def pin_one_core() -> None:
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small corpus, best of 2 (~20 s)")
    ap.add_argument("--config", default=None, help="config file (default: the bundled default config)")
    ap.add_argument("--reps", type=int, default=None, help="best of N (default 3, quick 2)")
    ap.add_argument("--out", default=str(HERE / "results" / "engine.json"))
    args = ap.parse_args(argv)
    pin_one_core()

    reps = args.reps or (2 if args.quick else 3)
    headline_mb = 0.5 if args.quick else 5.0
    sizes = (0.05, 0.1, 0.2, 0.5) if args.quick else (0.5, 1.0, 2.0, 5.0)
    single_sizes = (0.02, 0.05, 0.1) if args.quick else (0.05, 0.1, 0.2, 0.5, 1.0)
    single_budget_s = 20 if args.quick else 60  # stop growing the single text past this
    rules_mb = 0.2 if args.quick else 1.0

    settings = load_settings(args.config)
    rules = list(settings.ruleset.rules)
    allow = list(settings.ruleset.allow)
    timeout = 3600.0  # large texts: the per-rule budget of the proxy would trip; here we measure
    def prefilter(rs: RuleSet) -> hsdb.Prefilter:
        return hsdb.shared_prefilter([r.as_written for r in rs.rules], settings.cache_dir)

    red = Redactor(settings.ruleset, rule_timeout_s=timeout, prefilter=prefilter(settings.ruleset))
    plain = Redactor(settings.ruleset, rule_timeout_s=timeout)
    t0 = time.perf_counter()
    active = red.prefilter.wait(900)
    pf_note = (f"prefilter: Hyperscan databases ready in {time.perf_counter() - t0:.1f} s "
               f"(cached in {settings.cache_dir} after the first build), "
               f"{sum(1 for s in red.prefilter.shapes if s)} of {len(rules)} rules windowed"
               if active else f"prefilter: NOT in use ({red.prefilter.error}); figures are the plain engine's")
    print(f"engine benchmark: {len(rules)} rules, {len(allow)} allow patterns, corpus from {corpus_mod.SOURCE}, "
          f"best of {reps}, python {platform.python_version()}, one core", flush=True)

    all_docs = corpus_mod.corpus(int(max(max(sizes), headline_mb) * MB), seed=1)
    results: dict = {"rules": len(rules), "allow": len(allow), "corpus": corpus_mod.SOURCE, "reps": reps,
                     "quick": args.quick, "python": platform.python_version()}

    def docs_upto(mb: float) -> list[str]:
        out, total = [], 0
        for d in all_docs:
            out.append(d)
            total += len(d.encode())
            if total >= mb * MB:
                break
        return out

    # -- headline -------------------------------------------------------------------------
    head = docs_upto(headline_mb)
    hb = nbytes(head)
    t = best_of(lambda: redact_docs(red, head), reps)
    tp = best_of(lambda: redact_docs(plain, head), reps)
    results["headline"] = {"bytes": hb, "docs": len(head), "seconds": t, "mb_s": hb / MB / t,
                           "us_per_doc": t / len(head) * 1e6, "plain_engine_mb_s": hb / MB / tp,
                           "prefilter_active": active}
    print(pf_note)
    print(f"\nheadline: {hb / MB:.2f} MB in {len(head)} documents (avg {hb / len(head):.0f} B): "
          f"{hb / MB / t:.2f} MB/s  ({t / len(head) * 1e6:.0f} us/document)   target >= 50 MB/s\n"
          f"          plain engine (no prefilter), same documents: {hb / MB / tp:.2f} MB/s "
          f"(prefilter speed-up {tp / t:.2f}x)", flush=True)

    # -- text without identifiers, and the ceiling of this design ------------------------------
    clean = {}
    for label, ascii_only in (("as generated (some non-ASCII)", False), ("ASCII only", True)):
        chunks = corpus_mod.identifier_free(all_docs, lambda ln: bool(plain.redact(ln).hits), ascii_only=ascii_only)
        cb = nbytes(chunks)
        tc = best_of(lambda: redact_docs(red, chunks), reps)
        clean[label] = {"bytes": cb, "chunks": len(chunks), "mb_s": cb / MB / tc}
    normed_head = [normalize(d).text for d in head]
    t_hs = best_of(lambda: [red.prefilter.scan(d) for d in normed_head], reps) if active else None
    t_raw = None
    if active:  # Hyperscan itself: the exact database over the ASCII documents, no match callback
        from werker_proxy.prefilter import scan_input
        bank = red.prefilter._banks[0]
        safe = [data for data, ok in map(scan_input, normed_head) if ok]
        scratch = hsdb.hyperscan.Scratch(bank.db)
        t_raw = best_of(lambda: [bank.db.scan(x, scratch=scratch) for x in safe], reps) / sum(map(len, safe))
    results["identifier_free"] = clean
    results["prefilter_scan_only_mb_s"] = hb / MB / t_hs if t_hs else None
    results["hyperscan_alone_mb_s"] = 1 / t_raw / MB if t_raw else None
    print("identifier-free clinical text (lines of the corpus with no hit, ~2 KB chunks): " +
          ", ".join(f"{k}: {v['mb_s']:.1f} MB/s" for k, v in clean.items()))
    if t_hs:
        print(f"ceilings: the prefilter's scan alone (Hyperscan and its match callbacks, no rule run after it) "
              f"{hb / MB / t_hs:.1f} MB/s; Hyperscan itself, without callbacks, ASCII documents "
              f"{1 / t_raw / MB:.1f} MB/s", flush=True)

    # -- size scaling, documents ---------------------------------------------------------------
    rows = []
    for mb in sizes:
        docs = head if mb == headline_mb else docs_upto(mb)
        b = nbytes(docs)
        t = results["headline"]["seconds"] if mb == headline_mb else best_of(lambda: redact_docs(red, docs), reps)
        rows.append({"mb": mb, "bytes": b, "docs": len(docs), "seconds": t, "mb_s": b / MB / t})
    results["size_docs"] = rows

    # -- size scaling, one text ----------------------------------------------------------------
    srows = []
    spent = 0.0
    for mb in single_sizes:
        text = "\n\n".join(docs_upto(mb))
        b = len(text.encode())
        if srows and spent > single_budget_s:
            srows.append({"mb": mb, "bytes": b, "skipped": f"previous sizes took {spent:.0f} s"})
            continue
        t0 = time.perf_counter()
        found = [0]

        def one() -> None:
            found[0] = len(red.redact(text).found)

        t = best_of(one, reps, budget_s=single_budget_s / 2)
        spent += time.perf_counter() - t0
        # the same text without known-value propagation: rules + allow only
        nt = normalize(text).text
        sc = red.prefilter.scan(nt)
        t_rules = best_of(lambda: [red._rule_hits(r, nt, scan=sc) for r in rules], 1)
        srows.append({"mb": mb, "bytes": b, "seconds": t, "mb_s": b / MB / t, "found_values": found[0],
                      "rules_only_seconds": t_rules, "rules_only_mb_s": b / MB / t_rules})
    results["size_single"] = srows

    print("\nsize scaling (flat MB/s = linear)")
    print(f"  {'size':>7} | {'docs: MB/s':>10} {'s':>7} | {'one text: MB/s':>14} {'s':>7} {'known vals':>10} "
          f"{'rules-only MB/s':>15}")
    n = max(len(rows), len(srows))
    for i in range(n):
        a = rows[i] if i < len(rows) else None
        s = srows[i] if i < len(srows) else None
        left = (f"{a['mb']:>5.2f}MB | {a['mb_s']:>10.2f} {a['seconds']:>7.2f}" if a else f"{'':>7} | {'':>10} {'':>7}")
        if s is None:
            right = ""
        elif "skipped" in s:
            right = f" | {s['mb']:.2f}MB skipped ({s['skipped']})"
        else:
            right = (f" | {s['mb']:>5.2f}MB {s['mb_s']:>7.2f} {s['seconds']:>7.2f} {s['found_values']:>10} "
                     f"{s['rules_only_mb_s']:>15.2f}")
        print("  " + left + right)

    # -- rule count --------------------------------------------------------------------------
    rdocs = docs_upto(rules_mb)
    rb = nbytes(rdocs)
    crow = []
    for frac in (0.25, 0.5, 1.0):
        k = max(1, round(len(rules) * frac))
        subset = RuleSet.build(rules[:k], allow)
        sub = Redactor(subset, rule_timeout_s=timeout, prefilter=prefilter(subset))
        sub.prefilter.wait(900)
        t = best_of(lambda: redact_docs(sub, rdocs), reps)
        crow.append({"fraction": frac, "rules": k, "seconds": t, "mb_s": rb / MB / t, "us_per_rule_kb":
                     t / k / (rb / 1000) * 1e6})
    results["rule_count"] = {"bytes": rb, "rows": crow}
    print(f"\nrule count ({rb / MB:.2f} MB corpus; flat s/rule = linear in rules, falling = sub-linear)")
    print(f"  {'rules':>9} {'MB/s':>8} {'s':>7} {'us per rule per KB':>19}")
    for c in crow:
        print(f"  {c['rules']:>4} ({c['fraction']:>4.0%}) {c['mb_s']:>6.2f} {c['seconds']:>7.2f} "
              f"{c['us_per_rule_kb']:>19.2f}")

    # -- breakdown: stages and slowest rules (one pass) ---------------------------------------
    bdocs = rdocs
    normed = [normalize(d).text for d in bdocs]
    per_rule = {}
    scans = [red.prefilter.scan(d) for d in normed]
    t_scan = best_of(lambda: [red.prefilter.scan(d) for d in normed], 1)
    for r in rules:
        t0 = time.perf_counter()
        for d, sc in zip(normed, scans):
            red._rule_hits(r, d, scan=sc)
        per_rule[r.name] = time.perf_counter() - t0
    t_total = best_of(lambda: redact_docs(red, bdocs), 1)
    t_norm = best_of(lambda: [normalize(d) for d in bdocs], 1)
    t_prot = best_of(lambda: [red._protected_spans(d) for d in normed], 1)
    # the per-call cost of the `timeout=` argument of the regex module
    r0 = max(rules, key=lambda r: per_rule[r.name])
    t_with = best_of(lambda: [list(r0.pattern.finditer(d, 0, partial=False, timeout=0.5)) for d in normed], 3)
    t_without = best_of(lambda: [list(r0.pattern.finditer(d, 0)) for d in normed], 3)
    t_rules = sum(per_rule.values())
    stages = {"total": t_total, "prefilter scan (Hyperscan)": t_scan, "rules": t_rules, "normalize": t_norm,
              "protected_spans": t_prot, "other (known values, merge, validators, output)":
              max(0.0, t_total - t_scan - t_rules - t_norm - t_prot)}
    top = sorted(per_rule.items(), key=lambda kv: -kv[1])[:12]
    results["breakdown"] = {"bytes": rb, "stages": stages, "per_rule_seconds": per_rule,
                            "timeout_arg": {"rule": r0.name, "with_timeout_s": t_with, "without_s": t_without}}
    print(f"\nbreakdown on {rb / MB:.2f} MB ({len(bdocs)} docs), one pass")
    for k, v in stages.items():
        print(f"  {k:<48} {v:>7.3f} s  {v / t_total:>6.1%}")
    print("  slowest rules (each alone: MB/s):")
    for name, v in top:
        print(f"    {name:<26} {v:>6.3f} s  {rb / MB / v:>7.1f} MB/s  {v / t_total:>6.1%}")
    print(f"  `timeout=` argument on {r0.name}: {t_with:.3f} s with, {t_without:.3f} s without "
          f"({(t_with / t_without - 1) * 100 if t_without else 0:+.0f} %)")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

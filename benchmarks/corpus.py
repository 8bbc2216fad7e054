"""Clinical-looking text with identifiers in it, for the benchmarks.

Uses the test suite's generator (``tests/clinical_gen.py``) when it is importable; otherwise a
small local generator below (notes with names, dates, MRNs, phones, SSNs, addresses...).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SOURCE = "local"
try:  # the colleague's generator, if present and working
    from tests.clinical_gen import generate as _gen

    if not _gen(1, 2) or not getattr(_gen(1, 2)[0], "text", ""):
        raise ImportError("clinical_gen returned nothing")
    SOURCE = "tests/clinical_gen.py"
except Exception:  # noqa: BLE001 - fall back to the local generator
    _gen = None

_FIRST = "Grace Omar Lucia Tomasz Aiko Dmitri Fatima Liam Priya Mateo Ingrid Kwame Sofia Yusuf".split()
_LAST = "Al-Farsi Novak Okafor Lindqvist Tanaka Moreau Haddad Brennan Kowalski Oyelaran Petrov".split()
_CITY = [("Bellevue", "WA"), ("Dayton", "OH"), ("Fresno", "CA"), ("Austin", "TX"), ("Salem", "OR")]
_DRUGS = ["metformin 500 mg BID", "lisinopril 10 mg daily", "atorvastatin 40 mg qHS",
          "albuterol 90 mcg q4h PRN", "insulin glargine 14 units qHS", "sertraline 50 mg daily"]
_DX = ["type 2 diabetes (E11.9)", "hypertension (I10)", "COPD (J44.9)", "migraine (G43.909)",
       "hypothyroidism (E03.9)", "low back pain (M54.5)"]


def _local_doc(r: random.Random) -> str:
    f, l = r.choice(_FIRST), r.choice(_LAST)
    city, st = r.choice(_CITY)
    d = f"{r.randint(1, 12):02d}/{r.randint(1, 28):02d}/{r.randint(1940, 2023)}"
    phone = f"({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}"
    ssn = f"{r.randint(100, 665)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"
    mrn = str(r.randint(1000000, 9999999))
    lines = [
        "PROGRESS NOTE",
        f"Patient: {f} {l}   DOB: {d}   MRN: {mrn}",
        f"Address: {r.randint(1, 9999)} {r.choice(['Oak', 'Park', 'Main', 'Elm'])} Street, {city}, {st} "
        f"{r.randint(10000, 99999)}",
        f"Phone: {phone}   SSN: {ssn}   Email: {f.lower()}.{l.lower()}@example.org",
        f"Subjective: {r.randint(20, 88)}-year-old with {r.choice(_DX)} reports fatigue for "
        f"{r.randint(2, 10)} weeks. {f} was last seen {r.randint(1, 12)}/{r.randint(1, 28)}/2023.",
        f"Vitals: BP {r.randint(100, 160)}/{r.randint(60, 100)}, HR {r.randint(55, 110)}, "
        f"SpO2 {r.randint(90, 100)}%.",
        "Medications: " + "; ".join(r.sample(_DRUGS, 3)) + ".",
        f"Assessment: {r.choice(_DX)}. Plan: follow up in {r.randint(2, 12)} weeks.",
        f"Signed by Dr. {r.choice(_FIRST)} {r.choice(_LAST)}, NPI 1{r.randint(100000000, 999999999)}.",
    ]
    return "\n".join(lines)


def documents(seed: int, n_docs: int) -> list[str]:
    if _gen is not None:
        return [d.text for d in _gen(seed, n_docs)]
    r = random.Random(seed)
    return [_local_doc(r) for _ in range(n_docs)]


def corpus(target_bytes: int, seed: int = 1) -> list[str]:
    """Documents totalling at least ``target_bytes`` UTF-8 bytes (whole documents)."""
    out: list[str] = []
    total = 0
    batch = 500
    s = seed
    while total < target_bytes:
        for t in documents(s, batch):
            out.append(t)
            total += len(t.encode())
            if total >= target_bytes:
                break
        s += 1
    return out


def text_of_size(n_bytes: int, seed: int = 1) -> str:
    """Clinical text of about ``n_bytes`` (documents joined by blank lines)."""
    return "\n\n".join(corpus(n_bytes, seed))[: max(1, n_bytes)]


def identifier_free(docs: list[str], has_hits, chunk_bytes: int = 2000, ascii_only: bool = False) -> list[str]:
    """Clinical text with no identifier in it (the instructions, medication lists, labs and
    plans that make up most of real traffic): the distinct lines of ``docs`` in which
    ``has_hits(line)`` finds nothing, joined into chunks of about ``chunk_bytes``. With
    ``ascii_only`` every character outside printable ASCII becomes "*"."""
    seen: dict[str, None] = {}
    for d in docs:
        for line in d.split("\n"):
            if len(line) > 20 and line not in seen:
                seen[line] = None
    lines = [ln for ln in seen if not has_hits(ln)]
    if ascii_only:
        lines = ["".join(c if c in "\t" or " " <= c <= "~" else "*" for c in ln) for ln in lines]
    out, cur, size = [], [], 0
    for ln in lines:
        cur.append(ln)
        size += len(ln) + 1
        if size >= chunk_bytes:
            out.append("\n".join(cur))
            cur, size = [], 0
    return out

"""Read CSV / TSV tables with their header as context, as JSON values are read with their key.

In ``zip,phone\\n30309,404-555-0117`` the ZIP ``30309`` has no cue in its own row; its column
header is the cue. For each column whose header names an identifier, every cell is scanned as
``header: cell`` and the hits inside the cell are mapped back to the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    from .redact import Hit

# headers worth reading as a cue (the rules' own cue words decide what a cell is)
IDENTIFIER_HEADER = regex.compile(
    r"(?i)zip|postal|post_code|dob|birth|mrn|medical|record|phone|tel|mobile|cell|fax|ssn|social|name|"
    r"first|last|given|family|surname|city|town|address|street|addr|email|mail|member|policy|account|acct|"
    r"npi|dea|licen[cs]e|vin|plate|serial|device|age|date|admit|discharge|visit|\bid\b|_id\b|identifier"
)
_LINE = regex.compile(r"[^\r\n]*")
MAX_CELL = 200


def _cells(line: str, sep: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    i = line.find(sep)
    while i >= 0:
        spans.append((start, i))
        start = i + 1
        i = line.find(sep, start)
    spans.append((start, len(line)))
    return spans


def table_hits(text: str, scan: Callable[[str], list["Hit"]]) -> list["Hit"]:
    """Hits for cells of identifier columns; ``scan`` finds merged hits in one short string."""
    if "," not in text and "\t" not in text:
        return []
    lines = [(m.start(), m.group()) for m in _LINE.finditer(text) if m.group()]
    out: list[Hit] = []
    i = 0
    while i < len(lines) - 1:
        start, header = lines[i]
        sep = "\t" if header.count("\t") >= 2 else ","
        width = header.count(sep)
        if width < 2 or '"' in header:
            i += 1
            continue
        names = [header[a:b].strip() for a, b in _cells(header, sep)]
        if not all(n and len(n) <= 40 and len(n.split()) <= 3 and not any(c.isdigit() for c in n) for n in names):
            i += 1
            continue
        columns = [k for k, n in enumerate(names) if IDENTIFIER_HEADER.search(n)]
        j = i + 1
        while j < len(lines) and lines[j][1].count(sep) == width and '"' not in lines[j][1]:
            row_start, row = lines[j]
            cells = _cells(row, sep)
            for k in columns:
                a, b = cells[k]
                cell = row[a:b]
                if not cell.strip() or len(cell) > MAX_CELL:
                    continue
                prefix = f"{names[k]}: "
                for h in scan(prefix + cell):
                    if h.start >= len(prefix):
                        off = row_start + a - len(prefix)
                        out.append(replace(h, start=h.start + off, end=h.end + off))
            j += 1
        i = j if j > i + 1 else i + 1
    return out

"""Read CSV / TSV tables with their header as context, as JSON values are read with their key.

In ``zip,phone\\n30309,404-555-0117`` the ZIP ``30309`` has no cue in its own row; its column
header is the cue. For each column whose header names an identifier, every cell is scanned as
``header: cell`` and the hits inside the cell are mapped back to the text.

Markdown tables (``| ZIP | DOB |`` over a ``|---|---|`` rule) are read the same way, and so are
SQL ``INSERT INTO t (zip, last_name) VALUES ('30309', 'Li'), (...)`` rows: each value with its
column name as cue (a statement without a column list has no cue and is left to the rules).

Cells are split as RFC 4180 says: a cell may be quoted (``"Li, Faith"``), a quoted cell may hold
the separator, a line break or a doubled quote (``""``). A quoted cell is scanned without its
quotes (the text is not unescaped, so offsets map back one to one).
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
    r"first|last|given|family|surname|city|town|county|address|street|addr|email|mail|member|policy|"
    r"account|acct|npi|dea|licen[cs]e|vin|plate|serial|device|age|date|admit|discharge|visit|\bid\b|_id\b|"
    r"identifier|patient|\bpt\b|provider|physician|doctor|clinician|practitioner|nurse|\brn\b|\bmd\b|initials|"
    r"attending|pcp|surgeon|therapist|staff|author|signed|contact|guardian|agent|employee|subscriber|"
    r"beneficiary|insured|guarantor|adjuster|supervisor|rep\b|representative|witness|interpreter|"
    # the clinician who prescribed / ordered / referred / rendered ("prescriber", "ordered_by", "Entered By")
    r"prescrib|ordering|orderer|referring|rendering|(?:^|[\s_])by\b"
)
_LINE = regex.compile(r"[^\r\n]*")
# a column name: starts with a letter, at most two digits ("a1c", "phone2", "addr_line_1")
_NAME = regex.compile(r"(?=(?:\D*\d){0,2}\D*$)[^\W\d][\w .#/()&'-]*")
MAX_CELL = 200
# a label before the header on its line: "input: name,dob,zip" (a JSON value is scanned as "key: value")
_LABEL = regex.compile(r"[^\W\d][\w .-]{0,39}:[ \t]+")
# the rule under a markdown table's header: |---|:---:|
_MD_RULE = regex.compile(r"[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*")
# the cell separators tried on a header line, in order: the first that splits it into 3+ column
# names wins ("a;b;c" and "\"Last Name\";\"First Name\";\"Member #\"" are read like "a,b,c")
_SEPARATORS = ("\t", ",", ";")
# how far a quoted cell may run (past line breaks) before the record is not read as CSV
MAX_QUOTED = 4 * MAX_CELL


def _record(text: str, pos: int, sep: str, end: int | None = None) -> tuple[list[tuple[int, int]], int] | None:
    """One record of ``text`` from ``pos``: the cell spans (a quoted cell without its quotes) and
    where the next record starts; None when a quoted cell is not closed or has text after it."""
    n = len(text) if end is None else end
    cells: list[tuple[int, int]] = []
    line_end = _line_end(text, pos, n)
    if text.find('"', pos, line_end) < 0:  # no quoted cell: a plain split (most lines)
        i = pos
        while True:
            j = text.find(sep, i, line_end)
            if j < 0:
                cells.append((i, line_end))
                break
            cells.append((i, j))
            i = j + 1
        if line_end >= n:
            return cells, n
        return cells, line_end + (2 if text.startswith("\r\n", line_end) else 1)
    i = pos
    while True:
        j = i
        while j < n and text[j] in " \t" and text[j] != sep:
            j += 1
        if j < n and text[j] == '"':
            k = j + 1
            limit = min(n, j + MAX_QUOTED)
            while True:
                q = text.find('"', k, limit)
                if q < 0:
                    return None
                if q + 1 < n and text[q + 1] == '"':
                    k = q + 2
                    continue
                break
            cells.append((j + 1, q))
            i = q + 1
            while i < n and text[i] in " \t" and text[i] != sep:
                i += 1
            if i < n and text[i] not in (sep, "\r", "\n"):
                return None
        else:
            j = i
            while j < n and text[j] != sep and text[j] not in "\r\n":
                j += 1
            cells.append((i, j))
            i = j
        if i >= n:
            return cells, n
        if text[i] == sep:
            i += 1
            continue
        if text[i] == "\r" and i + 1 < n and text[i + 1] == "\n":
            return cells, i + 2
        return cells, i + 1


def _line_end(text: str, pos: int, n: int) -> int:
    """Where the line that starts at ``pos`` ends (its \r or \n), or ``n``."""
    ends = [e for e in (text.find("\n", pos, n), text.find("\r", pos, n)) if e >= 0]
    return min(ends) if ends else n


def _header_names(line: str, sep: str) -> list[str] | None:
    rec = _record(line, 0, sep)
    if rec is None:
        return None
    names = [line[a:b].strip() for a, b in rec[0]]
    if len(names) < 3:
        return None
    if not all(len(n) <= 40 and len(n.split()) <= 3 and _NAME.fullmatch(n) for n in names):
        return None
    return names


def _pipe_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cell spans of one markdown table row ``text[start:end]``, blanks trimmed."""
    while start < end and text[start] in " \t":
        start += 1
    while end > start and text[end - 1] in " \t":
        end -= 1
    if start < end and text[start] == "|":
        start += 1
    if end > start and text[end - 1] == "|" and (end - 2 < start or text[end - 2] != "\\"):
        end -= 1
    spans, a = [], start
    for i in range(start, end + 1):
        if i == end or (text[i] == "|" and (i == start or text[i - 1] != "\\")):
            b = i
            while a < b and text[a] in " \t":
                a += 1
            while b > a and text[b - 1] in " \t":
                b -= 1
            spans.append((a, b))
            a = i + 1
    return spans


# a column holding a person's name ("patient_name", "Last Name", "first"); a bare "name" column only
# in a table about people (one with a dob / mrn / ssn / phone / member column)
_PERSON_HEADER = regex.compile(
    r"(?i)(?<![^\W_])(?:(?:patient|pt|member|first|last|given|family|full|middle|contact|guardian|"
    r"subscriber|insured|beneficiary|guarantor|emergency|nok|kin|parent|mother|father|spouse)[ _]?name|"
    r"first|last|given|family[ _]?name|surname|fname|lname)(?![^\W_])")
_NAME_HEADER = regex.compile(r"(?i)[ _]*(?:full[ _]?)?name[ _]*")
_PEOPLE_TABLE = regex.compile(r"(?i)dob|birth|mrn|ssn|phone|member|patient")
# a cell of 1-3 lowercase words ("ingrid ostrowski", "tanaka-ruiz", "o'neil")
_LOWER_NAME = regex.compile(r"[ \t]*\p{Ll}[\p{Ll}'’-]{1,30}(?:[ \t]+\p{Ll}[\p{Ll}'’-]{1,30}){0,2}[ \t]*")


def _person_column(names: list[str], k: int) -> bool:
    if _PERSON_HEADER.search(names[k]):
        return True
    return bool(_NAME_HEADER.fullmatch(names[k])) and any(_PEOPLE_TABLE.search(n) for n in names)


def _scan_cells(text: str, cells: list[tuple[int, int]], names: list[str], columns: list[int],
                scan: Callable[[str], list["Hit"]], out: list["Hit"]) -> None:
    for k in columns:
        a, b = cells[k]
        cell = text[a:b]
        if not cell.strip() or len(cell) > MAX_CELL:
            continue
        prefix = f"{names[k]}: "
        if _LOWER_NAME.fullmatch(cell) and _person_column(names, k):
            # a person's name written in lower case ("ingrid ostrowski") in a name column: the name
            # rules want capitals, the column says it is a name (title() keeps the offsets)
            titled = cell.title()
            if len(titled) == len(cell):
                cell = titled
        for h in scan(prefix + cell):
            if h.start >= len(prefix):
                off = a - len(prefix)
                out.append(replace(h, start=h.start + off, end=h.end + off))


def _markdown_table(text: str, header_start: int, header_end: int, rule_next: int,
                    scan: Callable[[str], list["Hit"]], out: list["Hit"]) -> int:
    """Read the markdown table whose header line is ``text[header_start:header_end]`` and whose
    rows start at ``rule_next``; returns where reading stopped."""
    n = len(text)
    names = [text[a:b].strip(" *_`") for a, b in _pipe_cells(text, header_start, header_end)]
    if len(names) < 2 or not all(len(x) <= 40 and len(x.split()) <= 3 and _NAME.fullmatch(x) for x in names):
        return rule_next
    columns = [k for k, name in enumerate(names) if IDENTIFIER_HEADER.search(name)]
    pos = rule_next
    while pos < n:
        m = _LINE.match(text, pos)
        if "|" not in m.group():
            break
        cells = _pipe_cells(text, pos, m.end())
        if len(cells) != len(names):
            break
        _scan_cells(text, cells, names, columns, scan, out)
        pos = m.end() + (2 if text.startswith("\r\n", m.end()) else 1)
    return pos


# the head of an SQL INSERT with its column list, up to the first row's "("
_SQL_INSERT = regex.compile(
    r"(?i)\binsert[ \t\r\n]+(?:into[ \t\r\n]+)?[\w.`\"\[\]]{1,128}[ \t\r\n]*\(([^()\r\n;]{1,2000})\)"
    r"[ \t\r\n]*values[ \t\r\n]*(?=\()")
_SQL_COLUMN = regex.compile(r"[ \t\r\n]*[`\"\[]?([^\W\d]\w{0,39})[`\"\]]?[ \t\r\n]*")
MAX_SQL_ROWS = 10000


def _sql_row(text: str, pos: int, n: int) -> tuple[list[tuple[int, int]], int] | None:
    """The value spans of the SQL row ``(...)`` at ``pos`` (a quoted value without its quotes) and
    where the row ends; None when the row is not plain literals (a function call, a subquery)."""
    if pos >= n or text[pos] != "(":
        return None
    cells: list[tuple[int, int]] = []
    i = pos + 1
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i < n and text[i] == "'":
            k = i + 1
            limit = min(n, i + MAX_QUOTED)
            while True:
                q = text.find("'", k, limit)
                if q < 0:
                    return None
                if q + 1 < n and text[q + 1] == "'":
                    k = q + 2
                    continue
                # a quote that neither is doubled nor ends the value is an apostrophe a sloppy
                # export left unescaped ('Coeur d'Alene', 'O'Neil')
                e = q + 1
                while e < n and text[e] in " \t":
                    e += 1
                if e < n and text[e] not in ",)\r\n":
                    k = q + 1
                    continue
                break
            cells.append((i + 1, q))
            i = q + 1
        else:
            j = i
            while j < n and j - i <= MAX_CELL and text[j] not in ",()'\r\n":
                j += 1
            if j < n and text[j] in "('":
                return None
            b = j
            while b > i and text[b - 1] in " \t":
                b -= 1
            cells.append((i, b))
            i = j
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return None
        if text[i] == ",":
            i += 1
            continue
        if text[i] == ")":
            return cells, i + 1
        return None


def _sql_hits(text: str, scan: Callable[[str], list["Hit"]], out: list["Hit"]) -> None:
    """Rows of ``INSERT INTO t (col, ...) VALUES (...), (...)`` read with the column names as cues."""
    n = len(text)
    for m in _SQL_INSERT.finditer(text):
        names: list[str] = []
        for part in m.group(1).split(","):
            c = _SQL_COLUMN.fullmatch(part)
            if c is None:
                names = []
                break
            names.append(c.group(1))
        columns = [k for k, name in enumerate(names) if IDENTIFIER_HEADER.search(name)]
        if not columns:
            continue
        pos, rows = m.end(), 0
        while rows < MAX_SQL_ROWS:
            row = _sql_row(text, pos, n)
            if row is None or len(row[0]) != len(names):
                break
            _scan_cells(text, row[0], names, columns, scan, out)
            rows += 1
            pos = row[1]
            while pos < n and text[pos] in " \t\r\n":
                pos += 1
            if pos >= n or text[pos] != ",":
                break
            pos += 1
            while pos < n and text[pos] in " \t\r\n":
                pos += 1


def table_hits(text: str, scan: Callable[[str], list["Hit"]]) -> list["Hit"]:
    """Hits for cells of identifier columns; ``scan`` finds merged hits in one short string."""
    if "," not in text and "\t" not in text and "|" not in text and ";" not in text:
        return []
    out: list[Hit] = []
    if "(" in text and regex.search(r"(?i)\binsert\b", text):
        _sql_hits(text, scan, out)
    pos, n = 0, len(text)
    while pos < n:
        m = _LINE.match(text, pos)
        line_end = m.end()
        nxt = line_end + (2 if text.startswith("\r\n", line_end) else 1)
        header = m.group()
        if header.count("|") >= 2 and nxt < n:
            rule = _LINE.match(text, nxt)
            if _MD_RULE.fullmatch(rule.group()):
                after = rule.end() + (2 if text.startswith("\r\n", rule.end()) else 1)
                label = _LABEL.match(header) if not header.lstrip().startswith("|") else None
                start = m.start() + (label.end() if label else 0)
                pos = _markdown_table(text, start, line_end, after, scan, out)
                continue
        if header.count("|") >= 2 and nxt < n and "\t" not in header:
            # a pipe table without a rule under its header (a flowsheet: Date/Time | Temp | Initials/RN):
            # read when its first row has as many cells as the header
            first = _LINE.match(text, nxt)
            cells = _pipe_cells(text, m.start(), line_end)
            if len(cells) >= 3 and len(_pipe_cells(text, nxt, first.end())) == len(cells):
                stop = _markdown_table(text, m.start(), line_end, nxt, scan, out)
                if stop > nxt:
                    pos = stop
                    continue
        names, sep = None, ","
        for sep in _SEPARATORS:
            if header.count(sep) < 2:
                continue
            names = _header_names(header, sep)
            if names is None:
                label = _LABEL.match(header)
                if label:
                    names = _header_names(header[label.end():], sep)
            if names is not None:
                break
        if names is None:
            pos = nxt
            continue
        columns = [k for k, name in enumerate(names) if IDENTIFIER_HEADER.search(name)]
        row_pos, rows = nxt, 0
        while row_pos < n:
            rec = _record(text, row_pos, sep)
            if rec is None or len(rec[0]) != len(names):
                break
            cells, row_next = rec
            _scan_cells(text, cells, names, columns, scan, out)
            rows += 1
            row_pos = row_next
        pos = row_pos if rows else nxt
    return out

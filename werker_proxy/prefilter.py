"""Where could each rule match? One native multi-pattern pass answers for all rules at once.

The plain engine runs every rule's `regex` pattern over the whole text: cost = rules x size.
Here each pattern is *widened* (lookarounds dropped, a final lookahead consumed, backreferences
replaced by their group) into an expression Hyperscan (optional dependency) can run; one pass
over the text reports, per rule, the end of every place the widened expression matches. A rule
with no report cannot match and is skipped; otherwise its `regex` pattern runs only in windows
around the reported ends, and every match is re-taken from the full text at its start, so it is
the very match ``finditer`` over the whole text yields (``window_matches`` says why).

The two engines must read characters alike. Texts of printable ASCII, tab, CR and LF are
scanned as they are (``\\b``, ``\\w``, case folding agree there). In any other text every
unusual character becomes one "wild" byte, and the expression used for such texts lets every
character test accept it and drops word boundaries: wider again, never narrower. Patterns this
module cannot model (``Unsupported``) or Hyperscan refuses simply keep the plain scan.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import regex

UNBOUNDED = 1 << 30
# Unicode properties on ASCII text: the members they can have there
_ASCII_PROPERTIES = {
    "l": "A-Za-z", "letter": "A-Za-z", "alpha": "A-Za-z", "alphabetic": "A-Za-z",
    "lu": "A-Z", "uppercase_letter": "A-Z", "upper": "A-Z", "uppercase": "A-Z",
    "ll": "a-z", "lowercase_letter": "a-z", "lower": "a-z", "lowercase": "a-z",
    "n": "0-9", "nd": "0-9", "number": "0-9", "digit": "0-9", "decimal_number": "0-9",
    "alnum": "A-Za-z0-9",
}
_QUANTIFIER = re.compile(r"(?:[*+?]|\{(?:\d+(?:,\d*)?|,\d+)\})[?+]?")  # `{}`, `{x}` are literals
_ASSERTIONS = {"(?=": "ahead", "(?!": "ahead_not", "(?<=": "behind", "(?<!": "behind_not"}


class Unsupported(ValueError):
    """A construct this module does not model: the rule keeps the plain scan."""


@dataclass(frozen=True, slots=True)
class Shape:
    """What windowed matching needs to know about a pattern (widths in characters).

    For the widened expression Hyperscan runs (assertions dropped, a final lookahead consumed):
    ``max_width`` and ``lines``, the most characters and newlines one match consumes (either may
    be UNBOUNDED, not both). ``min_width``: the fewest characters the real pattern consumes.
    ``overreach``/``overreach_lines``: how far past the end of its widened match a successful
    attempt may still read, in characters or in newlines crossed (either may be UNBOUNDED).
    """

    min_width: int
    max_width: int
    lines: int
    overreach: int
    overreach_lines: int


@dataclass
class _Node:
    kind: str  # char, esc, class, group, bar, quant
    text: str
    children: list["_Node"] | None = None
    prefix: str = ""  # group opener: "(", "(?:", "(?i:", "(?=", ...
    number: int | None = None  # capture group number
    lo: int = 1
    hi: int = 1  # quantifier bounds


class _Parser:
    """Tokenizes a `regex`-module pattern (the subset the rule files use) into a group tree."""

    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0
        self.groups = 0
        self.by_number: dict[int, _Node] = {}

    def parse(self) -> list[_Node]:
        nodes = self._seq()
        if self.i != len(self.p):
            raise Unsupported("unbalanced )")
        return nodes

    def _seq(self) -> list[_Node]:
        p, out = self.p, []
        while self.i < len(p):
            c = p[self.i]
            if c == ")":
                return out
            if c == "(":
                out.append(self._group())
            elif c == "[":
                out.append(self._class())
            elif c == "\\":
                out.append(self._escape())
            elif c == "|":
                out.append(_Node("bar", c))
                self.i += 1
            elif c in "*+?{":
                m = _QUANTIFIER.match(p, self.i)
                if m is None or not out or out[-1].kind in ("bar", "quant"):
                    if c == "{":  # a literal brace
                        out.append(_Node("char", c))
                        self.i += 1
                        continue
                    raise Unsupported(f"quantifier at {self.i}")
                g = m.group()
                q = g[:-1] if len(g) > 1 and g[-1] in "?+" else g
                lo, hi = {"*": (0, UNBOUNDED), "+": (1, UNBOUNDED), "?": (0, 1)}.get(q, (None, None))
                if lo is None:
                    a, _, b = q[1:-1].partition(",")
                    lo = int(a or 0)
                    hi = lo if "," not in q else (int(b) if b else UNBOUNDED)
                if q.startswith("{,"):  # `regex` reads {,n} as {0,n}; PCRE and Hyperscan as text
                    g = "{0" + g[1:]
                out.append(_Node("quant", g, lo=lo, hi=hi))
                self.i = m.end()
            else:
                out.append(_Node("char", c))
                self.i += 1
        return out

    def _group(self) -> _Node:
        p, i = self.p, self.i
        m = re.match(r"\((?:\?(?:[:=!>]|<=|<!|P<[A-Za-z_]\w*>|[imsx]*-?[imsx]*:|[aiLmsux]+\))|(?!\?))", p[i:])
        if m is None:
            raise Unsupported(f"group syntax at {i}")
        prefix = m.group()
        self.i = i + len(prefix)
        if prefix.endswith(")"):  # inline global flags, e.g. (?i)
            if i != 0:  # `regex` applies them to the whole pattern, Hyperscan from here on
                raise Unsupported("inline global flags after the start")
            if set(prefix[2:-1]) - set("ims"):
                raise Unsupported("inline flags other than i, m, s")
            return _Node("char", prefix)
        if "x" in prefix or prefix == "(?>":
            raise Unsupported("verbose or atomic group")
        number = None
        if prefix == "(" or prefix.startswith("(?P<"):
            self.groups += 1
            number = self.groups
        node = _Node("group", prefix, prefix=prefix, number=number)
        node.children = self._seq()
        if self.i >= len(p) or p[self.i] != ")":
            raise Unsupported("unclosed group")
        self.i += 1
        if number is not None:
            self.by_number[number] = node
        return node

    def _class(self) -> _Node:
        p, j = self.p, self.i + 1
        if j < len(p) and p[j] == "^":
            j += 1
        if j < len(p) and p[j] == "]":
            j += 1
        while j < len(p) and p[j] != "]":
            if p[j] == "\\":
                j += 1
            elif p[j] == "[":
                raise Unsupported("nested set")
            j += 1
        if j >= len(p):
            raise Unsupported("unclosed set")
        node = _Node("class", p[self.i:j + 1])
        self.i = j + 1
        return node

    def _escape(self) -> _Node:
        p, i = self.p, self.i
        m = re.match(r"\\(?:[pP](?:\{[^}]*\}|[A-Za-z])|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[1-9]\d?|.)", p[i:], re.S)
        if m is None:
            raise Unsupported("dangling backslash")
        self.i = i + len(m.group())
        esc = m.group()
        if esc[1] in "GKXmMNLgUx0" and not (esc[1] == "x" and len(esc) == 4):
            raise Unsupported(f"escape {esc}")  # \x{...}, \U..., octal: not modelled
        return _Node("esc", esc)


def _ascii_property(esc: str) -> str:
    name = esc[2:].strip("{}").lower().replace(" ", "_")
    name = name.split("=")[-1]
    if name not in _ASCII_PROPERTIES:
        raise Unsupported(f"property {esc}")
    return _ASCII_PROPERTIES[name]


def _branches(nodes: list[_Node]) -> list[list[_Node]]:
    out: list[list[_Node]] = [[]]
    for n in nodes:
        if n.kind == "bar":
            out.append([])
        else:
            out[-1].append(n)
    return out


@dataclass(frozen=True, slots=True)
class _Measure:
    lo: int  # fewest characters consumed
    hi: int  # most characters consumed (UNBOUNDED: no bound)
    lines: int  # most newlines consumed (UNBOUNDED: no bound)


def _seq_measure(nodes: list[_Node], ctx: "_Ctx") -> _Measure:
    """Consumed widths and newlines of a sequence (alternatives at its top level)."""
    lo_all, hi_all, nl_all = UNBOUNDED, 0, 0
    for branch in _branches(nodes):
        lo = hi = nl = 0
        for k, n in enumerate(branch):
            if n.kind == "quant":
                continue
            m = _atom_measure(n, ctx)
            a, b, c = m.lo, m.hi, m.lines
            q = branch[k + 1] if k + 1 < len(branch) and branch[k + 1].kind == "quant" else None
            if q is not None:
                a = a * q.lo
                b = UNBOUNDED if q.hi >= UNBOUNDED and b else min(UNBOUNDED, b * q.hi)
                c = UNBOUNDED if q.hi >= UNBOUNDED and c else min(UNBOUNDED, c * q.hi)
            lo, hi, nl = min(UNBOUNDED, lo + a), min(UNBOUNDED, hi + b), min(UNBOUNDED, nl + c)
        lo_all, hi_all, nl_all = min(lo_all, lo), max(hi_all, hi), max(nl_all, nl)
    return _Measure(lo_all, hi_all, nl_all)


@dataclass
class _Ctx:
    by_number: dict[int, _Node]
    final: set[int]  # ids of lookaheads that the widened expression consumes
    dotall: bool


_NEWLINE_ESCAPES = ("\\n", "\\s", "\\D", "\\W", "\\P")
_CLASS_ITEM = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|[pP](?:\{[^}]*\}|[A-Za-z])|.)|(.)", re.S)


def _class_has_newline(text: str) -> bool:
    """Can this set match a newline? (Conservative: True when unsure.)"""
    negated = text.startswith("[^")
    body = text[2:-1] if negated else text[1:-1]
    points: list[int | None] = []  # code point of each member, None for a class escape
    for m in _CLASS_ITEM.finditer(body):
        if m.group(3) is not None:
            points.append(-1 if m.group(3) == "-" else ord(m.group(3)))
        elif m.group(1) or m.group(2):
            points.append(int(m.group(1) or m.group(2), 16))
        elif m.group().startswith(_NEWLINE_ESCAPES):
            points.append(10)
        elif m.group() in ("\\r", "\\t", "\\f", "\\v") or not m.group()[1].isalnum():
            points.append({"\\r": 13, "\\t": 9, "\\f": 12, "\\v": 11}.get(m.group(), ord(m.group()[1])))
        else:
            points.append(None)  # \d, \w, \p{..}: no newline
    listed = 10 in points
    for k in range(1, len(points) - 1):  # ranges a-b
        lo, hi = points[k - 1], points[k + 1]
        if points[k] == -1 and lo is not None and hi is not None and lo >= 0 and lo <= 10 <= hi:
            listed = True
    return not listed if negated else listed


def _atom_measure(n: _Node, ctx: _Ctx) -> _Measure:
    if n.kind == "class":
        return _Measure(1, 1, int(_class_has_newline(n.text)))
    if n.kind == "char":
        if n.text in "^$" or n.text.startswith("(?"):
            return _Measure(0, 0, 0)
        return _Measure(1, 1, int(n.text == "\n" or (n.text == "." and ctx.dotall)))
    if n.kind == "esc":
        if n.text in ("\\b", "\\B", "\\A", "\\Z", "\\z"):
            return _Measure(0, 0, 0)
        if n.text[1:].isdigit():
            ref = ctx.by_number.get(int(n.text[1:]))
            if ref is None:
                raise Unsupported("backreference to an unknown group")
            return _seq_measure(ref.children or [], ctx)
        return _Measure(1, 1, int(n.text.startswith(_NEWLINE_ESCAPES) or n.text[1] in "nsDWSP"))
    if n.prefix in _ASSERTIONS and id(n) not in ctx.final:
        return _Measure(0, 0, 0)
    return _seq_measure(n.children or [], ctx)


def _lookaheads(nodes: list[_Node]) -> Iterator[_Node]:
    for n in nodes:
        if n.kind == "group":
            if n.prefix in ("(?=", "(?!"):
                yield n
            yield from _lookaheads(n.children or [])


def _final_lookaheads(nodes: list[_Node]) -> list[_Node]:
    """Positive lookaheads that end a top-level alternative (they become consuming groups)."""
    out = []
    for branch in _branches(nodes):
        if branch and branch[-1].kind == "group" and branch[-1].prefix == "(?=":
            out.append(branch[-1])
    return out


def _end_sensitive(nodes: list[_Node]) -> bool:
    """Could this lookahead body answer differently at the end of a cut text?"""
    for n in nodes:
        if n.kind == "esc" and n.text in ("\\b", "\\B", "\\Z", "\\z"):
            return True
        if n.kind == "char" and n.text == "$":
            return True
        if n.kind == "group" and (n.prefix in _ASSERTIONS or _end_sensitive(n.children or [])):
            return True
    return False


def analyse(pattern: str, flags: int = 0) -> tuple[str, str, Shape | None]:
    """The widened expressions for Hyperscan (ASCII mode) and the pattern's shape.

    The first expression is for safe texts, the second for texts whose unusual characters
    were turned into the wild byte (``scan_bytes``).

    Raises ``Unsupported`` when the pattern uses something not modelled here. The shape is None
    when the expression is usable only to skip the rule (no window can be bounded).
    """
    try:
        return _analyse(pattern, flags)
    except Unsupported:
        raise
    except Exception as e:  # noqa: BLE001 - anything unexpected: the rule keeps the plain scan
        raise Unsupported(f"cannot analyse ({type(e).__name__})") from None


def _analyse(pattern: str, flags: int) -> tuple[str, str, Shape | None]:
    if flags & (regex.VERBOSE | regex.ASCII):
        raise Unsupported("verbose or ASCII flag")
    for c in pattern:
        if ord(c) > 127 and _folds_to_ascii(c):
            raise Unsupported(f"non-ASCII {c!r} matches an ASCII letter when case is ignored")
    parser = _Parser(pattern)
    nodes = parser.parse()
    final = {id(n) for n in _final_lookaheads(nodes)}
    dotall = bool(flags & regex.DOTALL) or "(?s" in pattern
    widened = _seq_measure(nodes, _Ctx(parser.by_number, final, dotall))
    real = _seq_measure(nodes, _Ctx(parser.by_number, set(), dotall))
    exact = _emit(nodes, parser.by_number, final, wild=False)
    wild = _emit(nodes, parser.by_number, final, wild=True)
    if real.lo < 1:
        raise Unsupported("the pattern can match the empty string")
    over = over_lines = 0
    plain = _Ctx(parser.by_number, set(), dotall)
    for la in _lookaheads(nodes):
        if id(la) in final:
            continue
        if la.prefix == "(?!" and not _end_sensitive(la.children or []):
            continue  # a cut can only hide what would block it: more permissive, never less
        m = _seq_measure(la.children or [], plain)
        over, over_lines = max(over, m.hi), max(over_lines, m.lines)
    if (widened.hi >= UNBOUNDED and widened.lines >= UNBOUNDED) or \
            (over >= UNBOUNDED and over_lines >= UNBOUNDED):
        return exact, wild, None
    return exact, wild, Shape(real.lo, widened.hi, widened.lines, over, over_lines)


_WILD = "\\x1a"  # every character outside the safe alphabet is scanned as this byte


def _wild_char(c: str, wild: bool) -> str:
    if ord(c) > 127:
        return _WILD  # never in a safe text; the wild byte in an unusual one
    if not wild:
        return c if c.isalnum() else f"\\x{ord(c):02x}"
    if c.isalnum():
        return f"[{c}{_WILD}]"
    return f"[\\x{ord(c):02x}{_WILD}]"


def _emit(nodes: list[_Node], by_number: dict[int, _Node], final: set[int], wild: bool) -> str:
    """The widened expression: assertions dropped (a final lookahead consumed), and every
    character test also accepting the wild byte, so the scan of a text whose unusual
    characters became that byte reports at least every end the real pattern can have."""
    out = []
    for k, n in enumerate(nodes):
        if n.kind == "group":
            if n.prefix in _ASSERTIONS and id(n) not in final:
                if k + 1 < len(nodes) and nodes[k + 1].kind == "quant":
                    raise Unsupported("quantified assertion")
                continue
            inner = _emit(n.children or [], by_number, final, wild)
            prefix = "(?:" if id(n) in final else ("(" if n.number is not None else n.prefix)
            out.append(prefix + inner + ")")
        elif n.kind == "class":
            out.append(_wild_class(n.text, wild))
        elif n.kind == "esc":
            out.append(_wild_escape(n.text, by_number, final, wild))
        elif n.kind == "char" and (n.text in ".^$" or n.text.startswith("(?")):
            out.append(n.text)
        elif n.kind == "char":
            out.append(_wild_char(n.text, wild))
        else:  # quantifiers and bars
            out.append(n.text)
    return "".join(out)


def _wild_escape(esc: str, by_number: dict[int, _Node], final: set[int], wild: bool) -> str:
    kind = esc[1]
    if kind in "bB" and not wild:
        return esc
    if kind in "bB":
        return ""  # a word boundary may differ next to a wild byte: drop it (wider)
    if kind in "AZz":
        return esc
    if kind == "p":
        return f"[{_ascii_property(esc)}{_WILD if wild else ''}]"
    if kind == "P":
        return f"[^{_ascii_property(esc)}]"
    if esc[1:].isdigit():
        return "(?:" + _emit(by_number[int(esc[1:])].children or [], by_number, final, wild) + ")"
    if kind in "dws" and not wild:
        return esc
    if kind in "dws":
        return f"[{esc}{_WILD}]"
    if kind in "DWSntrfv":
        return esc
    if kind == "x":
        return _wild_char(chr(int(esc[2:], 16)), wild)
    if kind == "u":
        return _wild_char(chr(int(esc[2:], 16)), wild)
    if kind.isalnum():
        raise Unsupported(f"escape {esc}")
    return _wild_char(kind, wild)


def _wild_class(text: str, wild: bool) -> str:
    """A set in ASCII-mode syntax: properties spelled out, non-ASCII members dropped, and (for
    a positive set) the wild byte added. A negated set already accepts the wild byte."""
    negated = text.startswith("[^")
    body = text[2:-1] if negated else text[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            m = re.match(r"\\(?:[pP](?:\{[^}]*\}|[A-Za-z])|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)", body[i:], re.S)
            esc = m.group()
            i += len(esc)
            if esc[1] == "P":
                raise Unsupported("negated property inside a set")
            if esc[1] == "p":
                out.append(_ascii_property(esc))
            elif esc[1] in "ux":
                code = int(esc[2:], 16)
                if code <= 127:
                    out.append(f"\\x{code:02x}")
                elif (i < len(body) and body[i] == "-") or (out and out[-1] == "-"):
                    raise Unsupported("range with a non-ASCII end")
            elif esc[1].isalnum() and esc[1] not in "dwsDWSntrfvb":
                raise Unsupported(f"escape {esc} in a set")  # PCRE may read it differently
            else:
                out.append(esc)
        elif ord(c) > 127:
            if (i + 2 < len(body) and body[i + 1] == "-") or (i >= 2 and body[i - 1] == "-" and body[i - 2] != "\\"):
                raise Unsupported("range with a non-ASCII end")
            i += 1
        else:
            out.append(c)
            i += 1
    inner = "".join(out)
    if inner.startswith(("]", "-")):
        inner = "\\" + inner  # a leading "]" or "-" is a literal: keep it one after the wild byte
    if negated:
        return "[^" + inner + "]" if inner else "[\\x00-\\xff]"
    if not wild:
        return "[" + inner + "]" if inner else _WILD  # a set of only non-ASCII members
    return "[" + _WILD + inner + "]"  # first, so a trailing "-" stays a literal


def _folds_to_ascii(c: str) -> bool:
    return any(regex.fullmatch(regex.escape(c), chr(a), regex.IGNORECASE) for a in range(32, 127))


_UNUSUAL = re.compile(r"[^\t\n\r\x20-\x7e]")


def scan_input(text: str) -> tuple[bytes, bool]:
    """The bytes Hyperscan reads for ``text`` and whether it is safe (no unusual character):
    one byte per character, each unusual character turned into the wild byte."""
    if text.isascii() and _UNUSUAL.search(text) is None:
        return text.encode("ascii"), True
    return _UNUSUAL.sub("\x1a", text).encode("ascii"), False


@dataclass(frozen=True, slots=True)
class Reach:
    """How far from one character the widened matches that contain it (or whose word
    boundary reads it) can extend: ``chars`` either side for the bounded patterns, ``lines``
    newlines either side for the line-bounded ones."""

    chars: int
    lines: int

    @classmethod
    def of(cls, shapes: "Iterable[Shape | None]") -> "Reach":
        shapes = list(shapes)
        bounded = [s.max_width for s in shapes if s is not None and s.max_width < UNBOUNDED]
        wide = [s.lines for s in shapes if s is not None and s.max_width >= UNBOUNDED]
        return cls(max(bounded, default=0), max(wide, default=-1))


def unusual_windows(text: str, lines: "Lines", reach: Reach, limit: float = 0.5) -> list[tuple[int, int]] | None:
    """Stretches of ``text`` around its unusual characters, merged, or None when they would
    cover more than ``limit`` of it.

    Why: the exact database, run over the scan input (unusual characters as the wild byte),
    still reports every widened match that neither contains an unusual character nor has its
    word boundary read one (it reads nothing else). A widened match that does lies inside the
    stretch around that character, where the wild database is run. Together they report every
    end the wild database alone would need to, at the cost of two scans only where needed.
    """
    n = len(text)
    out: list[tuple[int, int]] = []
    covered = 0
    for m in _UNUSUAL.finditer(text):
        u = m.start()
        lo, hi = u - reach.chars - 2, u + reach.chars + 3
        if reach.lines >= 0:
            lo = min(lo, lines.start_bound(u, reach.lines) - 2)
            hi = max(hi, lines.read_bound(u, reach.lines) + 2)
        lo, hi = max(0, lo), min(n, hi)
        if out and lo <= out[-1][1]:
            covered += max(0, hi - out[-1][1])
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            covered += hi - lo
            out.append((lo, hi))
        if covered > limit * n:
            return None
    return out


def stand_in_ends(windows: list[tuple[int, int]], shape: Shape, lines: "Lines") -> list[int]:
    """Ends to give ``window_matches`` for a pattern the wild database does not cover, so that
    every true match inside ``windows`` falls in some cluster: each line end in a window for a
    line-bounded pattern (a true match ending at e shares e's line with the stand-in, so its
    start bound is the same), every position for a bounded one."""
    out: list[int] = []
    wide = shape.max_width >= UNBOUNDED
    for lo, hi in windows:
        if not wide:
            out.extend(range(lo, hi + 1))
            continue
        nl = lines.nl
        k = bisect_left(nl, lo)
        while k < len(nl) and nl[k] < hi:
            out.append(nl[k])
            k += 1
        out.append(hi)
    return out


class Prefiltering(Protocol):
    """What the redactor needs from a prefilter built over its rules (``hsdb.Prefilter``)."""

    shapes: list[Shape | None]
    outside: list[Any | None]  # per pattern, ``outside_alphabet`` (None: no useful alphabet)
    starts: list[Any | None]  # per pattern, ``partial_starts`` (None: may begin anywhere)

    def start(self) -> None: ...

    def scan(self, text: str) -> "Scan | None": ...


@dataclass(frozen=True, slots=True)
class Scan:
    """The prefilter's answer for one text."""

    ends: dict[int, list[int]]  # per covered pattern index, ascending ends of widened matches
    covered: list[bool]  # patterns this answer speaks for; absent from ``ends``: no match at all
    lines: "Lines"


class Lines:
    """Newline offsets of a text, computed once, for line-bounded windows."""

    __slots__ = ("text", "_nl")

    def __init__(self, text: str):
        self.text = text
        self._nl: list[int] | None = None

    @property
    def nl(self) -> list[int]:
        if self._nl is None:
            text, out, i = self.text, [], self.text.find("\n")
            while i >= 0:
                out.append(i)
                i = text.find("\n", i + 1)
            self._nl = out
        return self._nl

    def start_bound(self, end: int, lines: int) -> int:
        """Earliest start of a match ending at ``end`` that holds at most ``lines`` newlines."""
        nl = self.nl
        k = bisect_left(nl, end) - lines - 1
        return nl[k] + 1 if k >= 0 else 0

    def read_bound(self, end: int, lines: int) -> int:
        """Just past the newline where a read from ``end`` crossing ``lines`` newlines stops."""
        nl = self.nl
        k = bisect_left(nl, end) + lines
        return nl[k] + 1 if k < len(nl) else len(self.text)


_BROAD_ESCAPES = frozenset("DWSP")  # match nearly anything: no useful alphabet
_SKIP_ESCAPES = frozenset("bBAZz123456789")  # assertions and backreferences consume nothing new
_KEEP_ESCAPES = frozenset("dswpntrfvaexu")


def outside_alphabet(pattern: str, flags: int) -> Any | None:
    """A pattern matching one character that no part of ``pattern`` can consume or read ahead
    (outside its alphabet: every literal, escape and set in it, lookarounds included), or None
    when the pattern can read nearly anything (``.``, a negated set or escape).

    A partial match is an attempt that read every character from its start to the end of the
    text: a text that ends with a character outside the alphabet has none.
    """
    found = _alphabet(pattern, flags)
    if found is None:
        return None
    try:
        return regex.compile("[^" + found + "]", regex.IGNORECASE if _caseless(pattern, flags) else 0)
    except regex.error:
        return None


def _caseless(pattern: str, flags: int) -> bool:
    return bool(flags & regex.IGNORECASE) or "(?i" in pattern


def _alphabet(pattern: str, flags: int) -> str | None:
    """The inside of a set of every character ``pattern`` can read (see ``outside_alphabet``)."""
    try:
        nodes = _Parser(pattern).parse()
    except Unsupported:
        return None
    items: list[str] = []

    def walk(ns: list[_Node]) -> bool:
        for n in ns:
            if n.kind == "group":
                if not walk(n.children or []):
                    return False
            elif n.kind == "class":
                if n.text.startswith("[^"):
                    return False
                items.append(_isolated(n.text[1:-1]))
            elif n.kind == "esc":
                kind = n.text[1]
                if kind in _BROAD_ESCAPES or n.text.startswith("\\p{^"):
                    return False
                if kind in _SKIP_ESCAPES:
                    continue
                if kind.isalnum():
                    if kind not in _KEEP_ESCAPES:
                        return False
                    items.append(n.text)
                else:
                    items.append(_literal(kind))
            elif n.kind == "char":
                if n.text == ".":
                    return False
                if n.text in ("^", "$") or n.text.startswith("(?"):
                    continue
                items.append(_literal(n.text))
        return True

    if not walk(nodes) or not items:
        return None
    return "".join(dict.fromkeys(items))  # once each: stop-word lists repeat letters thousands of times


def partial_starts(pattern: str, flags: int) -> Any | None:
    """A reverse pattern whose match in ``text[start:]`` begins at the earliest place a partial
    match of ``pattern`` could begin, or finds nothing when there is none; None when ``pattern``
    can read or begin with nearly anything.

    A partial match is an attempt that reads every character from its start to the end of the
    text (``outside_alphabet``), and the character at its start first: one it may consume
    there, or read with a lookahead there (``_first_characters``). So it begins at such a
    character inside the run of readable characters that ends the text.
    """
    alphabet, first = _alphabet(pattern, flags), _first_characters(pattern)
    if alphabet is None or first is None:
        return None
    try:
        return regex.compile(f"(?r)[{first}][{alphabet}]*\\Z", regex.IGNORECASE if _caseless(pattern, flags) else 0)
    except regex.error:
        return None


def _first_characters(pattern: str) -> str | None:
    """The inside of a set of the characters an attempt of ``pattern`` may read first, or None
    when that could be nearly anything. Lookbehinds and word boundaries read no character at the
    start in this sense; an item that may match empty lets the next one be first too."""
    try:
        nodes = _Parser(pattern).parse()
    except Unsupported:
        return None

    def seq(branch: list[_Node]) -> tuple[list[str] | None, bool]:
        items: list[str] = []
        k = 0
        while k < len(branch):
            n = branch[k]
            q = branch[k + 1] if k + 1 < len(branch) and branch[k + 1].kind == "quant" else None
            found, nullable = atom(n)
            if found is None:
                return None, False
            items.extend(found)
            if not nullable and (q is None or q.lo > 0):
                return items, False
            k += 2 if q is not None else 1
        return items, True

    def alternatives(ns: list[_Node]) -> tuple[list[str] | None, bool]:
        items: list[str] = []
        nullable = False
        for branch in _branches(ns):
            found, null = seq(branch)
            if found is None:
                return None, False
            items.extend(found)
            nullable = nullable or null
        return items, nullable

    def atom(n: _Node) -> tuple[list[str] | None, bool]:
        if n.kind == "group":
            if n.prefix in ("(?<=", "(?<!"):
                return [], True
            found, nullable = alternatives(n.children or [])
            if n.prefix in ("(?=", "(?!"):  # reads ahead, consumes nothing: what follows may be first too
                return found, True
            return found, nullable
        if n.kind == "class":
            return (None, False) if n.text.startswith("[^") else ([_isolated(n.text[1:-1])], False)
        if n.kind == "esc":
            kind = n.text[1]
            if kind in "bBAZz":
                return [], True
            if kind in _BROAD_ESCAPES or kind.isdigit() or n.text.startswith("\\p{^"):
                return None, False
            if kind.isalnum():
                return ([n.text], False) if kind in _KEEP_ESCAPES else (None, False)
            return [_literal(kind)], False
        if n.kind == "char":
            if n.text == ".":
                return None, False
            if n.text in ("^", "$") or n.text.startswith("(?"):
                return [], True
            return [_literal(n.text)], False
        return None, False

    found, nullable = alternatives(nodes)
    if found is None or nullable or not found:
        return None
    return "".join(found)


def _literal(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"


def _isolated(inner: str) -> str:
    """A set's members, safe to put next to other members: a leading "]" or "-" and an
    unescaped trailing "-" are escaped so they cannot form a range with a neighbour."""
    if inner.startswith(("]", "-")):
        inner = "\\" + inner
    if inner.endswith("-"):
        backslashes = len(inner) - 1 - len(inner[:-1].rstrip("\\"))
        if backslashes % 2 == 0:  # not escaped
            inner = inner[:-1] + "\\-"
    return inner


def partial_start_bound(shape: Shape, lines: Lines, pos: int) -> int:
    """Earliest start of a *partial* match (``partial=True``) of a pattern with no complete match.

    A partial match is an attempt that reads up to the end of the text: through its body (at
    most ``max_width`` characters or ``lines`` newlines) and then its positive lookaheads (at
    most ``overreach`` characters or ``overreach_lines`` newlines; a negative lookahead at the
    end of the text counts as satisfied, it never makes a match partial). So an attempt
    starting before this bound cannot reach the end and, with no complete match to find,
    fails: ``search(text, bound, partial=True)`` answers what ``finditer(text, pos, ...)``
    would yield first. Two characters of slack, as in ``window_matches``.
    """
    n = len(lines.text)
    if shape.overreach >= UNBOUNDED:
        body_end = lines.start_bound(n, shape.overreach_lines)  # where the lookahead may begin
        if shape.max_width >= UNBOUNDED:
            return max(pos, lines.start_bound(n, shape.lines + shape.overreach_lines) - 2)
    else:
        body_end = n - shape.overreach
    body_end = max(0, body_end - 2)
    if shape.max_width >= UNBOUNDED:
        return max(pos, lines.start_bound(body_end, shape.lines) - 2)
    return max(pos, body_end - shape.max_width)


def _first_match_by(pattern: Any, text: str, lo: int, b: int, cut: int, timeout: float | None) -> Any:
    """What ``pattern.search(text, lo, cut)`` finds, if it starts at ``b`` or before, else None.

    When the cut reaches far past ``b`` (an unbounded lookahead: to the end of the line), a
    search that finds nothing early would read on to the cut for every cluster, which makes a
    long line cost the square of its length; trying each start up to ``b`` is the same answer.
    """
    if cut - b <= 4 * (b - lo + 1) + 64:
        m = pattern.search(text, lo, cut, timeout=timeout)
        return m if m is not None and m.start() <= b else None
    for start in range(lo, b + 1):
        m = pattern.match(text, start, cut, timeout=timeout)
        if m is not None:
            return m
    return None


def window_matches(pattern: Any, text: str, pos: int, ends: list[int], shape: Shape,
                   lines: Lines, timeout: float | None) -> Iterator[Any]:
    """Exactly the matches of ``pattern.finditer(text, pos)``, looked for only near ``ends``.

    Why it is exact: a true match starting at s, with its assertions dropped and its final
    lookahead consumed, is a match of the widened expression; Hyperscan reports its end e, so
    s lies in [e - max_width (or the start of the line ``lines`` newlines back), e - min_width]
    and the true match reads nothing past e + overreach (or the newline ``overreach_lines``
    on). Ends whose start ranges touch form one cluster. A search of the text cut just past
    what the cluster's true matches can read therefore succeeds at the cluster's first true
    start or earlier (it may also succeed where only the cut text matches), and the match is
    re-taken from the full text at the position found: it is the true one, or None and the
    search goes on one character later.
    """
    wmin, n = shape.min_width, len(text)
    wide = shape.max_width >= UNBOUNDED
    far = shape.overreach >= UNBOUNDED
    i, count = 0, len(ends)
    while i < count:
        e = ends[i]
        i += 1
        b = e - wmin
        if b < pos:
            continue
        a = lines.start_bound(e, shape.lines) if wide else e - shape.max_width
        e_max = e
        while i < count:
            nxt = ends[i]
            na = lines.start_bound(nxt, shape.lines) if wide else nxt - shape.max_width
            if na > b + 1:
                break
            e_max, b = nxt, nxt - wmin
            i += 1
        lo = max(pos, a)
        cut = min(n, (lines.read_bound(e_max, shape.overreach_lines) if far else e_max + shape.overreach) + 2)
        while lo <= b:
            m = _first_match_by(pattern, text, lo, b, cut, timeout)
            if m is None:
                break
            full = pattern.match(text, m.start(), timeout=timeout)
            if full is None:
                lo = m.start() + 1
                continue
            yield full
            pos = lo = full.end()

"""Compile a long lookahead that a pattern repeats only once, and call it at its other places.

The name rules repeat their stop-word lookaheads (4.5 KB of prefix trees) at every name word,
up to eight times per pattern, and the `regex` module compiles every copy on its own (~0.4 MB
each). Written once as a named group and called as ``(?&group)`` elsewhere, a pattern keeps its
meaning: a lookahead captures nothing and consumes nothing, and the `regex` module backtracks
into calls. Two things could change the meaning, so such copies are left alone: a called group
keeps the scoped flags of the place where it is written (``(?i:...)``), and inside a lookbehind
the pattern is matched backwards. Patterns with numbered backreferences, conditionals or inline
global flags after the start are not touched (the new group would shift group numbers).

The prefilter analyses the pattern as written, before sharing (``Rule.written``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import regex

MIN_LENGTH = 512  # shorter fragments cost less to compile than a call costs to run
_UNSAFE = regex.compile(r"(?<!\\)(?:\\\\)*(?:\\[1-9]|\\g<\d|\(\?\(|\(\?[aiLmsux-]+\)|\(\?V1|\\Q|\(\?(?:&|R\)|[+-]?[0-9]|P>))")
_names = itertools.count()


def share_lookaheads(pattern: str, fragments: Iterable[str]) -> str:
    """``pattern`` with every repeated fragment (a run of lookaheads) compiled once."""
    if _UNSAFE.search(pattern[_global_flags_end(pattern):]):
        return pattern
    for frag in sorted(set(fragments), key=len, reverse=True):
        if len(frag) < MIN_LENGTH or pattern.count(frag) < 2 or not _only_lookaheads(frag):
            continue
        contexts = _contexts(pattern)
        by_context: dict[tuple[str, ...], list[int]] = {}
        for i in _occurrences(pattern, frag):
            if contexts[i] is not None:
                by_context.setdefault(contexts[i], []).append(i)
        replace: dict[int, str] = {}
        for places in by_context.values():
            if len(places) > 1:
                name = f"_shared{next(_names)}"
                replace[places[0]] = f"(?P<{name}>{frag})"
                replace.update((i, f"(?&{name})") for i in places[1:])
        out, last = [], 0
        for i in sorted(replace):
            out += [pattern[last:i], replace[i]]
            last = i + len(frag)
        pattern = "".join(out) + pattern[last:]
    return pattern


def _global_flags_end(pattern: str) -> int:
    m = regex.match(r"\(\?[aiLmsux]+\)", pattern)
    return m.end() if m else 0


def _occurrences(pattern: str, frag: str) -> list[int]:
    out, i = [], pattern.find(frag)
    while i >= 0:
        out.append(i)
        i = pattern.find(frag, i + len(frag))
    return out


def _contexts(pattern: str) -> list[tuple[str, ...] | None]:
    """Per position: the stack of scoped flags around it, or None where no group may start
    (escaped, inside a character class, inside a lookbehind)."""
    out: list[tuple[str, ...] | None] = [None] * (len(pattern) + 1)
    stack: list[str] = []  # per open group: its flags ("" for none), "<" for a lookbehind
    for i, c in _visited(pattern):
        out[i] = None if "<" in stack else tuple(s for s in stack if s)
        if c == "(":
            m = regex.match(r"\(\?([aimsx-]+):", pattern[i:i + 12]) if pattern.startswith("(?", i) else None
            if m:
                stack.append(m.group(1))
            elif pattern.startswith(("(?<=", "(?<!"), i):
                stack.append("<")
            else:
                stack.append("")
        elif c == ")" and stack:
            stack.pop()
    return out


def _visited(pattern: str) -> Iterator[tuple[int, str]]:
    """Each position a scan of ``pattern`` stops at: an escape (``\\``) or a character class
    (``[``) is one stop, its inside is skipped."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        yield i, c
        i = i + 2 if c == "\\" else _class_end(pattern, i) if c == "[" else i + 1


def _class_end(pattern: str, i: int) -> int:
    """Index after the character class opening at ``i`` (version-0 syntax: no nested sets)."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _only_lookaheads(frag: str) -> bool:
    """A run of whole ``(?=...)`` / ``(?!...)`` groups holding no capturing group."""
    depth, i = 0, 0
    while i < len(frag):
        c = frag[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            if depth == 0:
                return False
            i = _class_end(frag, i)
            continue
        if c == "(":
            if depth == 0 and not frag.startswith(("(?=", "(?!"), i):
                return False
            if not frag.startswith("(?", i) or regex.match(r"\(\?(?:P?<[^=!]|')", frag[i:i + 5]):
                return False  # a capturing group
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0:
            return False
        i += 1
    return depth == 0


def has_variable_lookbehind(pattern: str) -> bool:
    """Whether a lookbehind of ``pattern`` can have more than one width (a quantifier or an
    alternation inside it). The `regex` module's partial matching around such a lookbehind
    depends on the alternatives next to it, so a rule with one is not joined into the stream
    gate's alternation (there, 'prefixed_id' next to 'name_hl7' reported a partial match one
    character earlier than either rule alone)."""
    depth_at_open: list[int] = []
    depth = 0
    for i, c in _visited(pattern):
        if c == "(":
            if pattern.startswith(("(?<=", "(?<!"), i):
                depth_at_open.append(depth)
            depth += 1
        elif c == ")":
            depth -= 1
            if depth_at_open and depth == depth_at_open[-1]:
                depth_at_open.pop()
        elif depth_at_open and c in "*+?|{" and not (c == "?" and pattern[i - 1] == "("):
            return True
    return False

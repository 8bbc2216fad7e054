"""See through Unicode lookalikes: match on a normalized copy, map spans back to the original.

Fullwidth ASCII (``０-９``, ``Ａ``...) becomes ASCII, Unicode dashes become ``-``, exotic spaces
become a plain space, zero-width and other invisible characters disappear. Pure ASCII text is returned as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# zero-width and other invisible characters: soft hyphen (shown only at a line break),
# combining grapheme joiner, direction marks, embeddings and isolates, invisible operators
_ZERO_WIDTH = ("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u034f\u200e\u200f"
               "\u202a\u202b\u202c\u202d\u202e\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069")

_TABLE: dict[int, str] = {}
for _c in _DASHES:
    _TABLE[ord(_c)] = "-"
for _c in _SPACES:
    _TABLE[ord(_c)] = " "
for _cp in range(0xFF01, 0xFF5F):  # fullwidth ASCII block
    _TABLE[_cp] = chr(_cp - 0xFF01 + 0x21)
_TABLE[0x2024] = "."  # one dot leader
_TABLE[0xFF0E] = "."
_ZW_RE = regex.compile(f"[{_ZERO_WIDTH}]")


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    # index_map[i] = index in the original of normalized char i; None when lengths agree 1:1
    index_map: list[int] | None

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        m = self.index_map
        if m is None:
            return start, end
        if start >= len(m):
            return m[-1] + 1 if m else 0, m[-1] + 1 if m else 0
        return m[start], m[end - 1] + 1


def normalize(text: str) -> Normalized:
    """Return the text to match on, and how to map its spans back."""
    if text.isascii():
        return Normalized(text, None)
    translated = text.translate(_TABLE)
    if _ZW_RE.search(translated) is None:
        return Normalized(translated, None)
    keep = [i for i, c in enumerate(translated) if c not in _ZERO_WIDTH]
    return Normalized("".join(translated[i] for i in keep), keep)


def strip_lookalikes(text: str) -> str:
    """Normalized text only (for literal comparisons of known values)."""
    return normalize(text).text

"""Scrub JSON held inside a string (tool arguments, tool outputs) without re-formatting it.

Each string (keys included) or number token is decoded, scrubbed, and — only if something changed —
replaced by a JSON string literal of the scrubbed text; every other byte (keys, whitespace,
punctuation) stays as it was. So the result is valid JSON whenever the input was, and the
same function applied token by token to a stream gives the same text (see ``stream.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import regex

# A string literal, or a bare number.
TOKEN_RE = regex.compile(r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?')


def looks_like_json(text: str) -> bool:
    """Cheap test, then a real parse: only objects and arrays count."""
    t = text.lstrip()
    if not t or t[0] not in "{[":
        return False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def scrub_token(token: str, scrub: Callable[[str], str]) -> str:
    """Scrub one complete value token (string literal or number); returns the token to emit."""
    if token.startswith('"'):
        value = orjson.loads(token)
        out = scrub(value)
        return token if out == value else orjson.dumps(out).decode()
    out = scrub(token)
    return token if out == token else orjson.dumps(out).decode()


def scrub_json_text(text: str, scrub: Callable[[str], str]) -> str:
    """Apply ``scrub`` to every string and number token of ``text``, keep the rest verbatim."""
    out: list[str] = []
    pos = 0
    for m in TOKEN_RE.finditer(text):
        out.append(text[pos:m.start()])
        out.append(scrub_token(m.group(), scrub))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def json_strings(text: str) -> list[str]:
    """Decoded strings and numbers of a JSON text (for discovery passes)."""
    vals = []
    for m in TOKEN_RE.finditer(text):
        tok = m.group()
        vals.append(orjson.loads(tok) if tok.startswith('"') else tok)
    return vals

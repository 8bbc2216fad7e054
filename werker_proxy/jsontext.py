"""Scrub JSON held inside a string (tool arguments, tool outputs) without re-formatting it.

A value is scrubbed with its key as context (``"mrn": "00482913"`` reads as ``mrn: 00482913``),
so cue-driven rules work on JSON as they do on prose.

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


KeyedScrub = Callable[[str, "str | None"], str]
_KEY_AFTER = regex.compile(r"\s*:")
MAX_KEY_CONTEXT = 64


def with_key(scrub: Callable[[str], str]) -> KeyedScrub:
    """Scrub a value as ``key: value`` so cue rules see the key; fall back to the bare value."""

    def keyed(value: str, key: str | None = None) -> str:
        if key and value and len(key) <= MAX_KEY_CONTEXT:
            prefix = f"{key}: "
            out = scrub(prefix + value)
            if out.startswith(prefix):
                return out[len(prefix):]
        return scrub(value)

    return keyed


def token_value(token: str) -> str:
    return orjson.loads(token) if token.startswith('"') else token


def scrub_token(token: str, scrub: KeyedScrub, key: str | None = None) -> str:
    """Scrub one complete token (string literal or number); returns the token to emit."""
    value = token_value(token)
    out = scrub(value, key)
    return token if out == value else orjson.dumps(out).decode()


def scrub_json_text(text: str, scrub: KeyedScrub) -> str:
    """Apply ``scrub`` to every string and number token of ``text``, keep the rest verbatim.

    Keys are scrubbed too (as data, without context); each value gets the last key as context.
    """
    out: list[str] = []
    pos = 0
    key: str | None = None
    for m in TOKEN_RE.finditer(text):
        out.append(text[pos:m.start()])
        token = m.group()
        if token.startswith('"') and _KEY_AFTER.match(text, m.end()):
            out.append(scrub_token(token, scrub))
            key = token_value(token)
        else:
            out.append(scrub_token(token, scrub, key))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)

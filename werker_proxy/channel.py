"""One output channel of a stream: holds raw text, releases what is final, fills delta slots.

A channel is the text of one Responses content part / summary / function-call arguments, or of
one Chat choice's content / refusal / tool call. ``deliver`` takes a delta, releases scrubbed
text as soon as no rule can still match across it (``Redactor.scan`` in partial mode), and
holds the delta itself while its tail is held; ``finish`` releases everything into the held
delta when the channel ends. Arguments channels are scrubbed JSON token by token (keys as
context), like ``jsontext.scrub_json_text`` does for whole texts.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

import orjson
import regex

from .jsontext import scrub_token, token_value
from .normalize import Normalized, normalize
from .sse import SSEEvent, encode_event

if TYPE_CHECKING:
    from .stream import StreamRedactor

TAIL = 16  # a complete match ending this close to the end may still grow (optional parts, \s+)
LOOKBACK = 256  # text before the release point kept visible to lookbehinds and cue words
MAX_HOLD = 2048  # past this, text is decided as if final, except the last KEEP_HELD characters
KEEP_HELD = 256

_STRING_RE = regex.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER_RE = regex.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRUCT_RE = regex.compile(r"(?:[\s{}\[\],:]|true|false|null)+")
_WS_RE = regex.compile(r"\s*")

Segment = tuple[int, int, str]  # raw start, raw end, text to emit for it


def _norm_index(norm: Normalized, raw_i: int) -> int:
    return raw_i if norm.index_map is None else bisect.bisect_left(norm.index_map, raw_i)


def _raw_index(norm: Normalized, norm_i: int, raw_len: int) -> int:
    m = norm.index_map
    if m is None:
        return norm_i
    return m[norm_i] if norm_i < len(m) else raw_len


class Slot:
    """One text field of one queued event, waiting for its channel to say what is final."""

    __slots__ = ("entry", "path", "text", "raw_end")

    def __init__(self, entry: "Entry", path: tuple[Any, ...], raw_end: int):
        self.entry, self.path, self.text, self.raw_end = entry, path, "", raw_end

    def close(self) -> None:
        set_path(self.entry.obj, self.path, self.text)
        self.entry.open -= 1


class Entry:
    """A queued event: sent once none of its slots is open."""

    __slots__ = ("event", "obj", "open", "modified")

    def __init__(self, event: SSEEvent, obj: Any = None):
        self.event, self.obj, self.open, self.modified = event, obj, 0, False

    def encode(self) -> bytes:
        ev = self.event
        if self.modified:
            ev = SSEEvent(ev.event, orjson.dumps(self.obj).decode(), ev.id, ev.retry, ev.comments)
        return encode_event(ev)


def get_path(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def set_path(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


class Channel:
    """Raw text of one output channel; releases scrubbed text as it becomes final."""

    def __init__(self, owner: "StreamRedactor", json_args: bool):
        self.owner = owner
        self.raw = ""
        self.released = 0
        self.emitted: list[str] = []
        self.json_args = json_args
        self.pending: Slot | None = None
        self.closed = False
        self.key: str | None = None  # last JSON key seen in an arguments channel

    @property
    def held(self) -> int:
        return len(self.raw) - self.released

    @property
    def emitted_text(self) -> str:
        return "".join(self.emitted)

    # -- release ------------------------------------------------------------------------------
    def _release(self, final: bool) -> list[Segment]:
        if self.json_args:
            segs = self._release_json(final)
            if segs is not None:
                return segs
            self.json_args = False  # not JSON after all: scrub the rest as plain text
        return self._release_text(final)

    def _release_text(self, final: bool) -> list[Segment]:
        start = self.released
        if start >= len(self.raw):
            return []
        ctx_start = max(0, start - LOOKBACK)
        seg = self.raw[ctx_start:]
        norm = normalize(seg)
        npos = _norm_index(norm, start - ctx_start)
        owner = self.owner
        hits, hold, found = owner.redactor.scan(norm.text, "response", owner.known, pos=npos,
                                                partial=not final, tail=TAIL)
        if not final and len(norm.text) - hold > MAX_HOLD:
            # a rule that can always still match (an unbounded lookahead) must not hold a stream
            # hostage: decide all but the last KEEP_HELD characters as if the text were complete
            hits, _, found = owner.redactor.scan(norm.text, "response", owner.known, pos=npos)
            hold = len(norm.text) - KEEP_HELD
            for h in reversed(hits):
                if h.start < hold < h.end:
                    hold = h.start
            hits = [h for h in hits if h.end <= hold]
        if found:
            owner.add_known(found)
        out: list[Segment] = []
        pos = start
        for h in hits:
            s = ctx_start + _raw_index(norm, h.start, len(seg))
            e = ctx_start + _raw_index(norm, h.end - 1, len(seg)) + 1
            if s > pos:
                out.append((pos, s, self.raw[pos:s]))
            out.append((s, e, h.replacement))
            owner.counts[h.rule] = owner.counts.get(h.rule, 0) + 1
            pos = e
        end = ctx_start + _raw_index(norm, hold, len(seg))
        if end > pos:
            out.append((pos, end, self.raw[pos:end]))
        self.released = max(end, pos)
        return out

    def _release_json(self, final: bool) -> list[Segment] | None:
        """Token by token, as ``jsontext.scrub_json_text`` does; None if this is not JSON."""
        buf, i, out = self.raw, self.released, []
        owner = self.owner
        while i < len(buf):
            c = buf[i]
            if c == '"':
                m = _STRING_RE.match(buf, i)
                if m is None:
                    if final:
                        return None
                    break
                j = m.end()
                k = _WS_RE.match(buf, j).end()
                if k == len(buf) and not final:
                    break  # a key or a value? the next character tells
                if k < len(buf) and buf[k] == ":":
                    out.append((i, j, scrub_token(m.group(), owner.scrub_keyed)))
                    self.key = token_value(m.group())
                else:
                    out.append((i, j, scrub_token(m.group(), owner.scrub_keyed, self.key)))
                i = j
            elif c == "-" or c.isdigit():
                m = _NUMBER_RE.match(buf, i)
                if m is None or (m.end() == len(buf) and not final):
                    if m is None and final:
                        return None
                    break
                out.append((i, m.end(), scrub_token(m.group(), owner.scrub_keyed, self.key)))
                i = m.end()
            else:
                m = _STRUCT_RE.match(buf, i)
                if m is None:
                    if not final and buf[i:].isalpha() and any(w.startswith(buf[i:]) for w in ("true", "false", "null")):
                        break
                    self.released = i
                    out_rest = self._release_text_from(i, final)
                    return out + out_rest
                out.append((i, m.end(), m.group()))
                i = m.end()
        self.released = i
        return out

    def _release_text_from(self, i: int, final: bool) -> list[Segment]:
        self.json_args = False
        self.released = i
        return self._release_text(final)

    # -- slots -----------------------------------------------------------------------------------
    def deliver(self, entry: Entry, path: tuple[Any, ...], text: str) -> None:
        """A delta arrived: release what is final; hold this delta if its tail is held.

        A delta after the channel ended (an upstream that keeps talking after ``.done``) is
        decided at once as final text: nothing may wait on a channel that will not finish again.
        """
        self.raw += text
        segs = self._release(final=self.closed)
        slot = Slot(entry, path, len(self.raw))
        entry.open += 1
        if self.pending is not None:
            before, after = _split(segs, self.pending.raw_end)
            self._close(self.pending, before)
            self.pending = None
            slot.text = after
        else:
            slot.text = "".join(s[2] for s in segs)
        self.emitted.append(slot.text)
        if self.held:
            self.pending = slot
        else:
            slot.close()
        self.owner.note_held(self.held)

    def _close(self, slot: Slot, extra: str) -> None:
        slot.text += extra
        if extra:
            self.emitted.append(extra)
        slot.close()

    def finish(self) -> None:
        """The channel ended: everything is final and goes into the held delta."""
        if self.closed:
            return
        self.closed = True
        segs = self._release(final=True)
        text = "".join(s[2] for s in segs)
        if self.pending is not None:
            self._close(self.pending, text)
            self.pending = None
        elif text:  # cannot happen: text is only held behind a held delta
            raise AssertionError("held text without a held delta")

    def abort(self) -> None:
        """Upstream broke off: send the held delta with what was final, drop the rest."""
        self.closed = True
        if self.pending is not None:
            self.pending.close()
            self.pending = None
        self.released = len(self.raw)


def _split(segs: list[Segment], boundary: int) -> tuple[str, str]:
    before, after = [], []
    for s, e, text in segs:
        if e <= boundary or (s < boundary and text is not None and e - s != len(text)):
            before.append(text)  # a replacement spanning the boundary stays with the earlier delta
        elif s >= boundary:
            after.append(text)
        else:
            cut = boundary - s
            before.append(text[:cut])
            after.append(text[cut:])
    return "".join(before), "".join(after)

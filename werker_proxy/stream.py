"""Scrub an SSE response frame by frame, holding back only text that could still match.

``StreamRedactor.feed(bytes) -> bytes`` / ``.flush() -> bytes`` (httpx decoder shape). Text
deltas are routed to per-channel redactors (Responses: output item + content part / summary;
Chat: choice + content / refusal / tool call). A channel releases text as soon as no rule can
still match across it (``regex`` partial matching, plus a short tail after a complete match
that a greedy or optional part might still extend). A delta whose tail is held is itself held
until the next event of its channel, and the events behind it wait, so order is kept: event
count, order and ``sequence_number`` are the upstream's. ``.done`` events, finished parts and
items and ``response.completed`` carry the channel's emitted text, so the joined deltas of a
channel always equal its final text. Everything else is scrubbed whole by the JSON walker.
If the stream breaks off, held text is dropped, never released.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from typing import Any

import orjson

from .channel import Channel, Entry, get_path, set_path
from .decoders import make_decoder
from .errors import UpstreamError
from .jsontext import with_key
from .payload import ScrubReport, Walk, numbers_only
from .redact import KnownValue, Redactor, add_counts
from .sse import SSEDecoder, SSEEvent

__all__ = ["StreamRedactor", "looks_like_event_stream", "make_decoder"]


# delta type -> (channel kind, index field after output_index)
RESPONSES_DELTAS = {
    "response.output_text.delta": ("text", "content_index"),
    "response.refusal.delta": ("refusal", "content_index"),
    "response.function_call_arguments.delta": ("args", None),
    "response.reasoning_summary_text.delta": ("summary", "summary_index"),
    "response.reasoning_text.delta": ("reasoning", "content_index"),
    "response.custom_tool_call_input.delta": ("custom", None),
}
# done type -> (channel kind, index field, text field)
RESPONSES_DONES = {
    "response.output_text.done": ("text", "content_index", "text"),
    "response.refusal.done": ("refusal", "content_index", "refusal"),
    "response.function_call_arguments.done": ("args", None, "arguments"),
    "response.reasoning_summary_text.done": ("summary", "summary_index", "text"),
    "response.reasoning_text.done": ("reasoning", "content_index", "text"),
    "response.custom_tool_call_input.done": ("custom", None, "input"),
}
TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

_SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:", b":")


def looks_like_event_stream(body: bytes) -> bool:
    """Whether a body (whatever its Content-Type) starts as Server-Sent Events do."""
    return body.lstrip(b"\r\n\t ").startswith(_SSE_FIELDS)


class StreamRedactor:
    """Feed raw (decoded) SSE bytes, get scrubbed SSE bytes; see the module docstring."""

    def __init__(self, redactor: Redactor, *, known: Iterable[KnownValue] = (), direction: str = "response"):
        self.redactor = redactor
        self.direction = direction
        self.known: list[KnownValue] = list(known)
        self._known_keys = {k.value.lower() for k in self.known}
        self.decoder = SSEDecoder()
        self.channels: dict[tuple[Any, ...], Channel] = {}
        self.queue: deque[Entry] = deque()
        self.counts: dict[str, int] = {}
        self.completed = False
        self.aborted = False
        self.held_max = 0
        self.events = 0
        self.usage: Any = None
        self.response_id: str | None = None
        self.emitted_bytes = 0
        self._sha = hashlib.sha256()
        self._keyed = with_key(self.scrub_value)
        self._names: dict[str, str] = {}

    # -- public ------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        if self.aborted or not data:
            return b""
        try:
            events = self.decoder.feed(data)
        except ValueError as e:
            raise UpstreamError(f"the upstream sent an SSE frame that cannot be parsed ({e})",
                                code="upstream_bad_stream") from None
        for ev in events:
            self.events += 1
            self._event(ev)
        return self._drain()

    def flush(self) -> bytes:
        """End of the upstream body. A stream that did not finish drops what is still held."""
        if self.aborted:
            return b""
        if not self.completed or self.decoder.pending_bytes:
            self.completed = False
            self.abort()
            return self._drain(force=True)
        for ch in self.channels.values():
            ch.finish()
        return self._drain()

    def abort(self) -> None:
        for ch in self.channels.values():
            ch.abort()
        self.aborted = True

    def emitted_sha256(self) -> str:
        return self._sha.hexdigest()

    # -- helpers for channels -----------------------------------------------------------------------
    def add_known(self, found: Iterable[KnownValue]) -> None:
        for k in found:
            key = k.value.lower()
            if key not in self._known_keys:
                self._known_keys.add(key)
                self.known.append(k)

    def note_held(self, held: int) -> None:
        if held > self.held_max:
            self.held_max = held

    def scrub_keyed(self, text: str, key: str | None = None) -> str:
        return self._keyed(text, key)

    def scrub_value(self, text: str) -> str:
        r = self.redactor.redact(text, self.direction, self.known)
        if r.counts:
            add_counts(self.counts, r.counts)
            if r.found:
                self.add_known(r.found)
        return r.text

    def scrub_json(self, node: Any) -> Any:
        report = ScrubReport()

        def text_fn(s: str) -> str:
            r = self.redactor.redact(s, self.direction, self.known)
            if r.counts:
                add_counts(report.counts, r.counts)
            return r.text

        out = Walk(text_fn, "allow", report).schema(node)
        add_counts(self.counts, report.counts)
        return out

    def _channel(self, key: tuple[Any, ...], json_args: bool) -> Channel:
        ch = self.channels.get(key)
        if ch is None:
            ch = self.channels[key] = Channel(self, json_args)
        return ch

    # -- events ------------------------------------------------------------------------------------
    def _drain(self, force: bool = False) -> bytes:
        out = []
        q = self.queue
        while q and (q[0].open == 0 or force):
            entry = q.popleft()
            if entry.open and force:
                entry.open = 0
            out.append(entry.encode())
        data = b"".join(out)
        if data:
            self.emitted_bytes += len(data)
            self._sha.update(data)
        return data

    def _event(self, ev: SSEEvent) -> None:
        entry = Entry(ev)
        self.queue.append(entry)
        name = self._event_name(ev.event)
        ident = self.scrub_value(ev.id) if ev.id else ev.id
        if ev.comments or name != ev.event or ident != ev.id:
            entry.event = SSEEvent(name, ev.data, ident, ev.retry, tuple(self.scrub_value(c) for c in ev.comments))
        data = ev.data
        if data is None:
            return
        if data == "[DONE]":
            for ch in self.channels.values():
                ch.finish()
            self.completed = True
            return
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            scrubbed = self.scrub_value(data)
            if scrubbed != data:
                entry.event = SSEEvent(entry.event.event, scrubbed, entry.event.id, ev.retry, entry.event.comments)
            return
        entry.obj = obj
        # Sent re-encoded from what was parsed and scrubbed, never as the upstream's bytes: a value
        # the parser dropped (a repeated key) cannot go out, and token logprobs are emptied
        # (payload's schema: they would spell out scrubbed text token by token).
        entry.modified = True
        if isinstance(obj, dict) and isinstance(obj.get("type"), str):
            self._responses_event(entry, obj)
        elif isinstance(obj, dict) and (obj.get("object") == "chat.completion.chunk" or _has_chat_deltas(obj)):
            self._chat_chunk(entry, obj)
        else:
            entry.obj = self.scrub_json(obj)

    def _event_name(self, name: str | None) -> str | None:
        """An ``event:`` field, scrubbed (the few names of a stream are scrubbed once each)."""
        if not name:
            return name
        out = self._names.get(name)
        if out is None:
            out = self.scrub_value(name)
            if len(self._names) < 64:
                self._names[name] = out
        return out

    def _responses_event(self, entry: Entry, obj: dict[str, Any]) -> None:
        etype = obj["type"]
        oi = obj.get("output_index")
        if etype.endswith(".delta") and isinstance(obj.get("delta"), str):
            if etype in RESPONSES_DELTAS:
                kind, idx_field = RESPONSES_DELTAS[etype]
                key: tuple[Any, ...] = (kind, oi, obj.get(idx_field) if idx_field else None)
                json_args = kind == "args"
            else:  # a delta type not listed (audio transcripts, MCP arguments, added later...)
                key, json_args = _generic_key(etype[:-len(".delta")], obj), "argument" in etype
            delta = obj["delta"]
            self._scrub_around(entry, obj, [("delta",)])
            self._channel(key, json_args).deliver(entry, ("delta",), delta)
            return
        if etype in RESPONSES_DONES:
            kind, idx_field, field = RESPONSES_DONES[etype]
            key = (kind, oi, obj.get(idx_field) if idx_field else None)
            slots = [(key, (field,))]
        elif etype.endswith(".done") and _generic_key(etype[:-len(".done")], obj) in self.channels:
            key = _generic_key(etype[:-len(".done")], obj)
            self.channels[key].finish()
            slots = [(key, (f,)) for f, v in obj.items() if isinstance(v, str) and f not in _EVENT_KEYS]
        elif etype in ("response.content_part.done", "response.content_part.added"):
            slots = _part_slots(obj.get("part"), oi, obj.get("content_index"), ("part",))
        elif etype in ("response.reasoning_summary_part.done", "response.reasoning_summary_part.added"):
            part = obj.get("part")
            slots = [(("summary", oi, obj.get("summary_index")), ("part", "text"))] if isinstance(part, dict) and "text" in part else []
        elif etype in ("response.output_item.done", "response.output_item.added"):
            slots = _item_slots(obj.get("item"), oi, ("item",)) + self._generic_slots(obj.get("item"), oi, ("item",))
        elif isinstance(obj.get("response"), dict):
            slots = []
            output = obj["response"].get("output")
            if isinstance(output, list):
                for i, item in enumerate(output):
                    slots.extend(_item_slots(item, i, ("response", "output", i)))
                    slots.extend(self._generic_slots(item, i, ("response", "output", i)))
            rid = obj["response"].get("id")
            if isinstance(rid, str):
                self.response_id = rid
            if etype in TERMINAL:
                for ch in self.channels.values():
                    ch.finish()
                self.completed = True
                usage = obj["response"].get("usage")
                if isinstance(usage, dict):
                    self.usage = numbers_only(usage)
        else:
            slots = []
        self._finish_and_substitute(entry, obj, slots, closing=etype.endswith(".done") or etype in TERMINAL)

    def _finish_and_substitute(self, entry: Entry, obj: dict[str, Any], slots: list[tuple[Any, Any]],
                               closing: bool) -> None:
        """Text of finished channels is the channel's emitted text; the rest is scrubbed whole."""
        substitutes: list[tuple[tuple[Any, ...], str]] = []
        for key, path in slots:
            ch = self.channels.get(key)
            if ch is None:
                continue
            try:
                upstream_text = get_path(obj, path)
            except (KeyError, IndexError, TypeError):
                continue
            if closing:
                ch.finish()
            if ch.closed and upstream_text == ch.raw:
                substitutes.append((path, ch.emitted_text))
                set_path(obj, path, "")
        new = self.scrub_json(obj)
        for path, text in substitutes:
            set_path(new, path, text)
        entry.obj = new

    def _generic_slots(self, item: Any, oi: Any, prefix: tuple[Any, ...]) -> list[tuple[Any, Any]]:
        """Fields of an output item that may hold the whole text of a channel of an unlisted
        delta type (only one equal to the channel's raw text is replaced by its emitted text)."""
        if not isinstance(item, dict):
            return []
        keys = [k for k in self.channels if k[0] == "generic" and k[2] == oi]
        return [(k, prefix + (f,)) for k in keys for f, v in item.items() if isinstance(v, str) and f not in _EVENT_KEYS]

    def _scrub_around(self, entry: Entry, obj: dict[str, Any], paths: list[tuple[Any, ...]]) -> dict[str, Any]:
        """Scrub a delta event whole, except the text at ``paths`` that its channel scrubs."""
        held = [(path, get_path(obj, path)) for path in paths]
        for path, _ in held:
            set_path(obj, path, "")
        new = entry.obj = self.scrub_json(obj)
        for path, text in held:
            set_path(new, path, text)
        return new

    def _chat_chunk(self, entry: Entry, obj: dict[str, Any]) -> None:
        if isinstance(obj.get("id"), str):
            self.response_id = obj["id"]
        if isinstance(obj.get("usage"), dict):
            self.usage = numbers_only(obj["usage"])
        slots = _chat_slots(obj.get("choices"))
        obj = self._scrub_around(entry, obj, [path for path, _, _ in slots])
        for path, key, json_args in slots:
            self._channel(key, json_args).deliver(entry, path, get_path(obj, path))
        choices = obj.get("choices")
        if not isinstance(choices, list):
            return
        for ci, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            idx = choice.get("index", ci)
            if choice.get("finish_reason"):
                for key, ch in self.channels.items():
                    if key[1] == idx:
                        ch.finish()


# chat delta fields that are not text; every other string field of a delta is (content,
# refusal, reasoning_content, reasoning...)
_CHAT_DELTA_STRUCTURAL = frozenset({"role", "type", "id", "name"})
# string fields of a Responses event or output item that are not its text
_EVENT_KEYS = frozenset({"type", "id", "item_id", "call_id", "status", "name", "server_label", "object",
                         "role", "container_id", "response_id"})


def _has_chat_deltas(obj: dict[str, Any]) -> bool:
    """A chat chunk without ``"object": "chat.completion.chunk"`` (some compatible servers)."""
    choices = obj.get("choices")
    return isinstance(choices, list) and any(isinstance(c, dict) and isinstance(c.get("delta"), dict) for c in choices)


def _generic_key(stem: str, obj: dict[str, Any]) -> tuple[Any, ...]:
    return ("generic", stem, obj.get("output_index"), obj.get("item_id"), obj.get("content_index"))


def _chat_slots(choices: Any) -> list[tuple[tuple[Any, ...], tuple[Any, ...], bool]]:
    """Where a chat chunk holds delta text: (path, channel key, text is JSON arguments)."""
    out: list[tuple[tuple[Any, ...], tuple[Any, ...], bool]] = []
    for ci, choice in enumerate(choices if isinstance(choices, list) else ()):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        idx = choice.get("index", ci)
        at = ("choices", ci, "delta")
        for field, value in delta.items():
            if isinstance(value, str) and field not in _CHAT_DELTA_STRUCTURAL:
                out.append((at + (field,), ("chat", idx, field), False))
        fc, audio = delta.get("function_call"), delta.get("audio")
        if isinstance(fc, dict) and isinstance(fc.get("arguments"), str):  # the legacy functions API
            out.append((at + ("function_call", "arguments"), ("chat", idx, "function_call"), True))
        if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
            out.append((at + ("audio", "transcript"), ("chat", idx, "audio"), False))
        calls = delta.get("tool_calls")
        for ti, call in enumerate(calls if isinstance(calls, list) else ()):
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                out.append((at + ("tool_calls", ti, "function", "arguments"),
                            ("chat_tool", idx, call.get("index", ti)), True))
    return out


def _part_slots(part: Any, oi: Any, ci: Any, prefix: tuple[Any, ...]) -> list[tuple[Any, Any]]:
    if not isinstance(part, dict):
        return []
    ptype = part.get("type")
    if ptype == "output_text":
        return [(("text", oi, ci), prefix + ("text",))]
    if ptype == "refusal":
        return [(("refusal", oi, ci), prefix + ("refusal",))]
    if ptype == "reasoning_text":
        return [(("reasoning", oi, ci), prefix + ("text",))]
    return []


def _item_slots(item: Any, oi: Any, prefix: tuple[Any, ...]) -> list[tuple[Any, Any]]:
    if not isinstance(item, dict):
        return []
    itype = item.get("type")
    out: list[tuple[Any, Any]] = []
    if itype == "message" and isinstance(item.get("content"), list):
        for ci, part in enumerate(item["content"]):
            out.extend(_part_slots(part, oi, ci, prefix + ("content", ci)))
    elif itype == "function_call":
        out.append((("args", oi, None), prefix + ("arguments",)))
    elif itype == "custom_tool_call":
        out.append((("custom", oi, None), prefix + ("input",)))
    elif itype == "reasoning":
        for si, s in enumerate(item.get("summary") or []):
            if isinstance(s, dict):
                out.append((("summary", oi, si), prefix + ("summary", si, "text")))
        for ci, part in enumerate(item.get("content") or []):
            out.extend(_part_slots(part, oi, ci, prefix + ("content", ci)))
    return out

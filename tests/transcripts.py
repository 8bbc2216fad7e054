"""Exact Responses / Chat Completions SSE transcripts, as bytes, built from lists of deltas.

The events and their fields are those the real API sends (and ``tests/fake_upstream.py``
replays), but everything is deterministic (fixed ids, ``created``), and one transcript can
hold several output items, so a single recording exercises every channel kind::

    responses_transcript([Text(["Hel", "lo"]), Call("lookup", ['{"a"', ': 1}']), Refusal(["No."])])
    chat_transcript(content=["Hi ", "there"], tool_calls=[("lookup", ['{"a"', ': 1}'])])

Also: :func:`parse` (bytes -> list of ``(event, data)`` with ``data`` JSON-decoded where it is
JSON) and :func:`channels` (the joined deltas and the final texts of every channel of a parsed
stream), used by the invariant checks in ``tests/test_stream.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.fake_upstream import _compact

__all__ = ["Call", "Refusal", "Text", "channels", "chat_transcript", "parse", "responses_transcript"]

MODEL = "werker-med-1"
CREATED = 1_730_000_000
RESP_ID = "resp_abcdefABCDEFabcdefABCDEFabcdefABCDEFabcdef01"
CHAT_ID = "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012"


@dataclass
class Text:
    """An assistant message with one ``output_text`` part streamed as ``deltas``."""

    deltas: list[str]


@dataclass
class Refusal:
    """An assistant message with one ``refusal`` part streamed as ``deltas``."""

    deltas: list[str]


@dataclass
class Call:
    """A ``function_call`` item whose ``arguments`` are streamed as ``deltas``."""

    name: str
    deltas: list[str]
    call_id: str = field(default="call_0123456789abcdefABCDEF01")


Output = Text | Refusal | Call


def _frame(obj: dict[str, Any], named: bool = True) -> bytes:
    head = b"event: " + obj["type"].encode() + b"\n" if named else b""
    return head + b"data: " + _compact(obj) + b"\n\n"


def _response(status: str, output: list[dict[str, Any]], usage: bool, minimal: bool = False) -> dict[str, Any]:
    if minimal:  # the fields the SDK needs, for tests that replay a transcript thousands of times
        return {"id": RESP_ID, "object": "response", "created_at": CREATED, "status": status,
                "model": MODEL, "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                "tools": [], "usage": None}
    return {
        "id": RESP_ID, "object": "response", "created_at": CREATED, "status": status,
        "background": False, "error": None, "incomplete_details": None, "instructions": None,
        "max_output_tokens": None, "max_tool_calls": None, "model": MODEL, "output": output,
        "parallel_tool_calls": True, "previous_response_id": None, "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None}, "safety_identifier": None,
        "service_tier": "default", "store": True, "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"}, "tool_choice": "auto",
        "tools": [], "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled",
        "usage": ({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
                   "output_tokens": 34, "output_tokens_details": {"reasoning_tokens": 0},
                   "total_tokens": 46} if usage else None),
        "user": None, "metadata": {},
    }


def _item_id(i: int, out: Output) -> str:
    return ("fc_" if isinstance(out, Call) else "msg_") + f"{i:02d}" + "abcdefABCDEFghijkl" * 3


def _part(out: Text | Refusal, text: str) -> dict[str, Any]:
    if isinstance(out, Refusal):
        return {"type": "refusal", "refusal": text}
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _item(i: int, out: Output, done: bool) -> dict[str, Any]:
    status = "completed" if done else "in_progress"
    full = "".join(out.deltas)
    if isinstance(out, Call):
        return {"id": _item_id(i, out), "type": "function_call", "status": status,
                "arguments": full if done else "", "call_id": out.call_id, "name": out.name}
    return {"id": _item_id(i, out), "type": "message", "status": status,
            "content": [_part(out, full)] if done else [], "role": "assistant"}


def responses_transcript(outputs: list[Output], *, named: bool = True, terminal: str = "response.completed",
                         minimal: bool = False) -> bytes:
    """A Responses stream with one output item per entry of ``outputs``, in order.

    ``minimal``: ``response`` objects with only the fields the SDK needs (smaller frames)."""
    frames: list[bytes] = []
    seq = 0

    def ev(obj: dict[str, Any]) -> None:
        nonlocal seq
        frames.append(_frame({"type": obj.pop("type"), "sequence_number": seq, **obj}, named))
        seq += 1

    ev({"type": "response.created", "response": _response("in_progress", [], False, minimal)})
    ev({"type": "response.in_progress", "response": _response("in_progress", [], False, minimal)})
    for i, out in enumerate(outputs):
        full = "".join(out.deltas)
        ev({"type": "response.output_item.added", "output_index": i, "item": _item(i, out, False)})
        loc: dict[str, Any] = {"item_id": _item_id(i, out), "output_index": i}
        if isinstance(out, Call):
            for d in out.deltas:
                ev({"type": "response.function_call_arguments.delta", **loc, "delta": d})
            ev({"type": "response.function_call_arguments.done", **loc, "arguments": full})
        else:
            loc["content_index"] = 0
            ev({"type": "response.content_part.added", **loc, "part": _part(out, "")})
            if isinstance(out, Refusal):
                for d in out.deltas:
                    ev({"type": "response.refusal.delta", **loc, "delta": d})
                ev({"type": "response.refusal.done", **loc, "refusal": full})
            else:
                for d in out.deltas:
                    ev({"type": "response.output_text.delta", **loc, "delta": d, "logprobs": []})
                ev({"type": "response.output_text.done", **loc, "text": full, "logprobs": []})
            ev({"type": "response.content_part.done", **loc, "part": _part(out, full)})
        ev({"type": "response.output_item.done", "output_index": i, "item": _item(i, out, True)})
    status = {"response.completed": "completed", "response.incomplete": "incomplete"}.get(terminal, "failed")
    ev({"type": terminal,
        "response": _response(status, [_item(i, o, True) for i, o in enumerate(outputs)], not minimal, minimal)})
    return b"".join(frames)


def chat_transcript(content: list[str] | None = None, tool_calls: list[tuple[str, list[str]]] = (),
                    *, refusal: list[str] | None = None, usage: bool = False, choices: int = 1) -> bytes:
    """A Chat Completions stream: ``content`` deltas, then each tool call's argument deltas.

    With ``choices=n`` (the ``n`` request parameter) every choice streams the same deltas,
    interleaved chunk by chunk as the API does.
    """
    frames: list[bytes] = []

    def chunk(ci: int, delta: dict[str, Any], finish: str | None = None, with_choices: bool = True) -> None:
        obj: dict[str, Any] = {
            "id": CHAT_ID, "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
            "service_tier": "default", "system_fingerprint": "fp_fake0001",
            "choices": [{"index": ci, "delta": delta, "logprobs": None, "finish_reason": finish}]
            if with_choices else [],
        }
        if usage:
            obj["usage"] = None
        frames.append(b"data: " + _compact(obj) + b"\n\n")

    for ci in range(choices):
        first: dict[str, Any] = {"role": "assistant", "content": "" if content is not None else None,
                                 "refusal": "" if refusal is not None else None}
        chunk(ci, first)
    for d in content or []:
        for ci in range(choices):
            chunk(ci, {"content": d})
    for d in refusal or []:
        for ci in range(choices):
            chunk(ci, {"refusal": d})
    for ti, (name, deltas) in enumerate(tool_calls):
        for ci in range(choices):
            chunk(ci, {"tool_calls": [{"index": ti, "id": f"call_{ti:02d}abcdefABCDEF0123456789",
                                       "type": "function", "function": {"name": name, "arguments": ""}}]})
        for d in deltas:
            for ci in range(choices):
                chunk(ci, {"tool_calls": [{"index": ti, "function": {"arguments": d}}]})
    for ci in range(choices):
        chunk(ci, {}, "tool_calls" if tool_calls else "stop")
    if usage:
        frames.append(b"data: " + _compact({
            "id": CHAT_ID, "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
            "service_tier": "default", "system_fingerprint": "fp_fake0001", "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46}}) + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    return b"".join(frames)


# ---------------------------------------------------------------------------------------------
# reading a stream back


def parse(data: bytes) -> list[tuple[str | None, Any]]:
    """``(event name, data)`` per frame; ``data`` JSON-decoded where possible. Independent of
    ``werker_proxy.sse``: the ``openai`` SDK's own decoder does the framing."""
    from openai._streaming import SSEDecoder

    out: list[tuple[str | None, Any]] = []
    for sse in SSEDecoder().iter_bytes(iter([data])):
        try:
            payload: Any = json.loads(sse.data)
        except ValueError:
            payload = sse.data
        out.append((sse.event, payload))
    return out


def channels(events: list[tuple[str | None, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Per channel: ``deltas`` (list of str) and every final text the stream states for it.

    Keys: ``("text"|"refusal"|"args", output_index)`` for Responses,
    ``("content"|"refusal", choice)`` and ``("tool", choice, tool index)`` for Chat. Values:
    ``{"deltas": [...], "finals": {where: text}}``.
    """
    ch: dict[tuple[Any, ...], dict[str, Any]] = {}

    def get(key: tuple[Any, ...]) -> dict[str, Any]:
        return ch.setdefault(key, {"deltas": [], "finals": {}})

    def item_finals(where: str, i: int, item: dict[str, Any]) -> None:
        if item.get("type") == "function_call":
            get(("args", i))["finals"][where] = item["arguments"]
        elif item.get("type") == "message":
            for part in item.get("content") or []:
                if part["type"] == "output_text":
                    get(("text", i))["finals"][where] = part["text"]
                elif part["type"] == "refusal":
                    get(("refusal", i))["finals"][where] = part["refusal"]

    for _name, obj in events:
        if not isinstance(obj, dict):
            continue
        t = obj.get("type")
        if obj.get("object") == "chat.completion.chunk":
            for c in obj["choices"]:
                d = c.get("delta") or {}
                for f in ("content", "refusal"):
                    if isinstance(d.get(f), str):
                        get((f, c["index"]))["deltas"].append(d[f])
                for tc in d.get("tool_calls") or []:
                    get(("tool", c["index"], tc["index"]))["deltas"].append(tc["function"].get("arguments", ""))
            continue
        oi = obj.get("output_index")
        if t == "response.output_text.delta":
            get(("text", oi))["deltas"].append(obj["delta"])
        elif t == "response.refusal.delta":
            get(("refusal", oi))["deltas"].append(obj["delta"])
        elif t == "response.function_call_arguments.delta":
            get(("args", oi))["deltas"].append(obj["delta"])
        elif t == "response.output_text.done":
            get(("text", oi))["finals"][t] = obj["text"]
        elif t == "response.refusal.done":
            get(("refusal", oi))["finals"][t] = obj["refusal"]
        elif t == "response.function_call_arguments.done":
            get(("args", oi))["finals"][t] = obj["arguments"]
        elif t == "response.content_part.done":
            p = obj["part"]
            key = ("refusal", oi) if p["type"] == "refusal" else ("text", oi)
            get(key)["finals"][t] = p.get("refusal", p.get("text"))
        elif t == "response.output_item.done":
            item_finals(t, oi, obj["item"])
        elif t in ("response.completed", "response.incomplete", "response.failed"):
            for i, item in enumerate(obj["response"]["output"]):
                item_finals(t, i, item)
    return ch

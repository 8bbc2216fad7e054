"""Every kind of text delta gets a channel: a value split across deltas never reaches the client.

Found by the black-box probe: legacy chat ``function_call`` arguments, ``audio.transcript``
deltas, chat chunks without ``"object"``, and Responses delta events the redactor did not list
(audio transcripts, code interpreter code, MCP arguments, types added later) were scrubbed one
event at a time, so an SSN split over two of them went out whole. Pure: no network.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.test_stream import STREAM_RULES, _redactor
from werker_proxy.sse import decode_events
from werker_proxy.stream import StreamRedactor

TEXT = "SSN 123-45-6789 ok"
ARGS = '{"ssn": "123-45-6789"}'


@pytest.fixture(scope="module")
def red(tmp_path_factory):
    return _redactor(tmp_path_factory.mktemp("rules"), STREAM_RULES, "channels")


def frame(obj: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + json.dumps(obj).encode() + b"\n\n"


def run(red, frames: list[bytes]) -> list[tuple[str | None, Any]]:
    sr = StreamRedactor(red)
    out = b"".join(sr.feed(f) for f in frames) + sr.flush()
    return [(e.event, json.loads(e.data) if e.data and e.data != "[DONE]" else e.data)
            for e in decode_events(out)]


def splits(text: str):
    for i in range(1, len(text)):
        yield text[:i], text[i:]


CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def chat_stream(deltas: list[dict[str, Any]], base: dict[str, Any] = CHUNK) -> list[bytes]:
    frames = [frame({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in deltas]
    return frames + [frame({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                     b"data: [DONE]\n\n"]


def chat_joined(events, *path: str) -> str:
    out = []
    for _, obj in events:
        if isinstance(obj, dict) and obj.get("choices"):
            node = obj["choices"][0]["delta"]
            for p in path:
                node = node.get(p, {}) if isinstance(node, dict) else {}
            out.append(node if isinstance(node, str) else "")
    return "".join(out)


@pytest.mark.parametrize("path,text", [(("function_call", "arguments"), ARGS), (("audio", "transcript"), TEXT),
                                       (("reasoning",), TEXT), (("content",), TEXT)])
def test_chat_delta_text_split_anywhere_is_scrubbed(red, path, text):
    for a, b in splits(text):
        def delta(piece: str) -> dict[str, Any]:
            return {path[0]: {path[1]: piece}} if len(path) == 2 else {path[0]: piece}
        joined = chat_joined(run(red, chat_stream([delta(a), delta(b)])), *path)
        assert "6789" not in joined and "[SSN]" in joined, (a, b, joined)
        if path[-1] == "arguments":
            json.loads(joined)


def test_chat_chunks_without_an_object_field_are_still_read_as_chunks(red):
    base = {k: v for k, v in CHUNK.items() if k != "object"}
    for a, b in splits(TEXT):
        joined = chat_joined(run(red, chat_stream([{"content": a}, {"content": b}], base)), "content")
        assert joined == "SSN [SSN] ok", (a, b)


RESPONSES_TYPES = [
    ("response.audio.transcript", None),
    ("response.output_audio_transcript", None),
    ("response.code_interpreter_call_code", "code"),
    ("response.mcp_call_arguments", "arguments"),
    ("response.some_future_text", "text"),  # a type added to the API later
]


@pytest.mark.parametrize("stem,done_field", RESPONSES_TYPES)
def test_responses_delta_events_of_any_type_split_anywhere_are_scrubbed(red, stem, done_field):
    text = ARGS if done_field == "arguments" else TEXT
    for a, b in splits(text):
        loc = {"item_id": "it_1", "output_index": 0}
        frames = [frame({"type": f"{stem}.delta", "sequence_number": i, **loc, "delta": piece}, f"{stem}.delta")
                  for i, piece in enumerate((a, b))]
        done = {"type": f"{stem}.done", "sequence_number": 2, **loc}
        if done_field:
            done[done_field] = text
        frames.append(frame(done, done["type"]))
        frames.append(frame({"type": "response.completed", "sequence_number": 3,
                             "response": {"id": "r", "output": []}}, "response.completed"))
        events = run(red, frames)
        assert [e for e, _ in events] == [f"{stem}.delta", f"{stem}.delta", f"{stem}.done", "response.completed"]
        joined = "".join(o["delta"] for _, o in events if isinstance(o, dict) and "delta" in o)
        assert "6789" not in joined and "[SSN]" in joined, (stem, a, b, joined)
        if done_field:
            assert events[2][1][done_field] == joined  # the joined deltas equal the final text


def test_event_names_and_ids_are_scrubbed_too(red):
    frames = [b"event: SSN 123-45-6789\nid: 123-45-6789\ndata: {\"x\": 1}\n\n", b"data: [DONE]\n\n"]
    sr = StreamRedactor(red)
    out = b"".join(sr.feed(f) for f in frames) + sr.flush()
    assert b"6789" not in out and b"data: {" in out
    ordinary = frame({"type": "response.output_text.delta", "sequence_number": 0, "item_id": "m", "output_index": 0,
                      "content_index": 0, "delta": "hi"}, "response.output_text.delta")
    assert run(red, [ordinary])[0][0] == "response.output_text.delta"

"""Bypasses found by a black-box probe: duplicate keys, structural-looking keys, attachment shapes."""

from __future__ import annotations

import base64

import orjson
import pytest

from werker_proxy.errors import AttachmentBlocked, MalformedBody
from werker_proxy.payload import ScrubReport, Walk, scrub_body_bytes, scrub_json
from werker_proxy.stream import StreamRedactor

SSN = "123-45-6789"
B64 = base64.b64encode(b"RIFF....WAVEfmt " * 8).decode()


def scrub_bytes(small, raw: bytes, direction: str = "request", **kw):
    return scrub_body_bytes(raw, small.redactor, direction, **kw)


def dumped(obj) -> str:
    return orjson.dumps(obj).decode()


# -- 1. duplicate keys ---------------------------------------------------------------------------

DUPLICATE_BODIES = [
    b'{"model":"werker-med-1","input":"123-45-6789","input":"hi"}',
    b'{"model":"m","input":"hi","metadata":{"note":"123-45-6789","note":"ok"}}',
    b'{"model":"m","messages":[{"role":"user","content":"SSN 123-45-6789","content":"hi"}]}',
    b'{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"123-45-6789","text":"x"}]}]}',
    b'{"model":"m","model":"m","input":"hi"}',
    b'{ "a" : 1 , "b" : {"c": [ {"d": 1, "d" : 2} ] } }',
    b'{"model":"m","input":"hi","metadata":{"s\\u0073n":"123-45-6789","ssn":"ok"}}',
]


@pytest.mark.parametrize("raw", DUPLICATE_BODIES)
def test_request_with_a_duplicate_key_is_refused(small, raw):
    """A request body with a duplicate key anywhere is refused (400, duplicate_json_key), never forwarded."""
    with pytest.raises(MalformedBody) as e:
        scrub_bytes(small, raw)
    assert e.value.code == "duplicate_json_key" and e.value.status == 400
    assert "6789" not in e.value.message


def test_response_with_a_duplicate_key_is_refused(small):
    """A response body with a duplicate key is refused too (the addon blocks it as bad upstream JSON)."""
    raw = (b'{"id":"resp_1","object":"response","output":[{"type":"message","role":"assistant",'
           b'"content":[{"type":"output_text","text":"SSN 123-45-6789","text":"ok"}]}]}')
    with pytest.raises(MalformedBody) as e:
        scrub_bytes(small, raw, "response", attachments="allow")
    assert e.value.code == "duplicate_json_key"


def test_duplicate_key_check_is_not_fooled_by_strings(small):
    """Key-like text inside string values (escaped quotes, colons) is not counted as a key."""
    raw = (b'{"model":"m","input":"a \\"input\\": b \\\\\\": c","instructions":"\\"x\\":1",'
           b'"metadata":{"k":"\\"k\\": 2"}}')
    out, report, _ = scrub_bytes(small, raw)
    assert out is raw and not report.counts


def test_duplicate_keys_inside_json_strings_are_all_scrubbed(small):
    """JSON held in a string is scrubbed token by token: every duplicate value is scrubbed."""
    args = '{"ssn": "123-45-6789", "ssn": "ok"}'
    raw = orjson.dumps({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f",
                                                 "arguments": args}]})
    out, report, _ = scrub_bytes(small, raw)
    assert b"6789" not in out and report.counts == {"ssn": 1}
    assert orjson.loads(out)["input"][0]["arguments"] == '{"ssn": "[SSN]", "ssn": "ok"}'


def test_stream_event_with_duplicate_key_is_reencoded(small):
    """An SSE event with a duplicate key is re-encoded from what was scrubbed, never passed raw."""
    sr = StreamRedactor(small.redactor)
    ev = (b'data: {"type":"response.custom","sequence_number":1,'
          b'"text":"SSN 123-45-6789","text":"ok"}\n\n')
    out = sr.feed(ev)
    assert b"6789" not in out


# -- 2. structural-looking keys outside their place ------------------------------------------------

def test_unknown_keys_are_data_whatever_their_names(small):
    """id/type/status under an unknown key are data; the probe's request is fully scrubbed."""
    raw = (b'{"model":"m","input":"hi","note":{"id":"123-45-6789","type":"123-45-6789",'
           b'"status":"123-45-6789"},"x":[{"id":"123-45-6789"}]}')
    out, report, _ = scrub_bytes(small, raw)
    assert b"6789" not in out and report.counts == {"ssn": 4}
    assert orjson.loads(out)["model"] == "m"


def test_unknown_key_inside_an_input_item_is_data(small):
    """An extra object inside a message item is data, its id included."""
    raw = (b'{"model":"m","input":[{"type":"message","role":"user","content":"hi",'
           b'"extra":{"id":"123-45-6789"}}]}')
    out, _, _ = scrub_bytes(small, raw)
    body = orjson.loads(out)
    assert b"6789" not in out
    assert body["input"][0]["type"] == "message" and body["input"][0]["role"] == "user"


def test_unknown_top_level_keys_and_numbers_are_data(small):
    """Strings and numbers under unknown keys are scrubbed; known numeric parameters are kept."""
    body = {"model": "m", "input": "hi", "note": 123456789, "temperature": 0.2, "seed": 123456789,
            "max_output_tokens": 6175550142, "stream": True, "user": SSN, "status": SSN, "id": SSN}
    out, _ = scrub_json(body, small.redactor, "request")
    assert out["note"] == "[SSN]" and out["user"] == "[SSN]"
    assert out["status"] == "[SSN]" and out["id"] == "[SSN]"  # no status or id at a request's top level
    assert out["temperature"] == 0.2 and out["max_output_tokens"] == 6175550142 and out["stream"] is True
    assert out["seed"] == 123456789


def test_structural_values_at_their_place_are_kept(small):
    """model, role, type, status, ids, call ids and tool names at their schema place stay as sent."""
    body = {
        "model": "werker-med-1", "previous_response_id": "resp_123456789", "tool_choice": "auto",
        "include": ["reasoning.encrypted_content"], "reasoning": {"effort": "high", "summary": "auto"},
        "text": {"format": {"type": "json_schema", "name": "chart", "strict": True,
                            "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}},
        "input": [
            {"type": "message", "role": "user", "id": "msg_123456789", "status": "completed",
             "content": [{"type": "input_text", "text": f"SSN {SSN}"}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_123456789", "name": "lookup",
             "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_123456789", "output": "{\"id\": \"123-45-6789\"}"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": SSN}],
             "encrypted_content": "gAAAA123456789"},
        ],
        "tools": [{"type": "function", "name": "lookup", "description": f"find {SSN}",
                   "parameters": {"type": "object", "properties": {"ssn": {"type": "string"}}}}],
    }
    out, _ = scrub_json(body, small.redactor, "request")
    assert "6789\"" not in dumped(out).replace("123456789", "")
    assert out["model"] == "werker-med-1" and out["previous_response_id"] == "resp_123456789"
    assert out["include"] == ["reasoning.encrypted_content"] and out["reasoning"]["effort"] == "high"
    assert out["text"]["format"]["name"] == "chart"
    assert out["input"][0]["id"] == "msg_123456789" and out["input"][0]["content"][0]["text"] == "SSN [SSN]"
    assert out["input"][1]["call_id"] == "call_123456789" and out["input"][1]["name"] == "lookup"
    assert orjson.loads(out["input"][2]["output"]) == {"id": "[SSN]"}
    assert out["input"][3]["summary"][0]["text"] == "[SSN]"
    assert out["input"][3]["encrypted_content"] == "gAAAA123456789"
    assert out["tools"][0]["name"] == "lookup" and out["tools"][0]["description"] == "find [SSN]"


def test_response_body_unknown_key_is_data(small):
    """A response body's unknown object is data; the response's own id and status are kept."""
    raw = (b'{"id":"resp_1","object":"response","status":"completed","model":"m",'
           b'"note":{"id":"123-45-6789"},"output":[{"id":"msg_1","type":"message","role":"assistant",'
           b'"status":"completed","extra":{"status":"123-45-6789"},'
           b'"content":[{"type":"output_text","text":"ok","annotations":[],"x":{"type":"123-45-6789"}}]}]}')
    out, _, _ = scrub_bytes(small, raw, "response", attachments="allow")
    body = orjson.loads(out)
    assert b"6789" not in out
    assert body["id"] == "resp_1" and body["output"][0]["id"] == "msg_1" and body["status"] == "completed"


def test_chat_completion_response_unknown_key_is_data(small):
    """Chat completion bodies: ids and finish reasons kept, unknown keys scrubbed."""
    body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "system_fingerprint": "fp_1", "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": f"SSN {SSN}", "x": {"id": SSN}}}],
            "note": {"id": SSN}, "usage": {"prompt_tokens": 6175550142}}
    out, _ = scrub_json(body, small.redactor, "response", attachments="allow")
    assert "6789" not in dumped(out)
    assert out["id"] == "chatcmpl-1" and out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"]["prompt_tokens"] == 6175550142 and out["system_fingerprint"] == "fp_1"


def test_stream_event_unknown_key_is_data(small):
    """A non-delta SSE event with an unknown object is scrubbed, its type and sequence kept."""
    ev = {"type": "response.custom", "sequence_number": 3, "item_id": "msg_1", "note": {"id": SSN}}
    out = Walk(lambda s: small.redactor.redact(s, "response").text, "allow", ScrubReport()).schema(ev)
    assert out == {"type": "response.custom", "sequence_number": 3, "item_id": "msg_1", "note": {"id": "[SSN]"}}
    sr = StreamRedactor(small.redactor)
    got = sr.feed(b"data: " + orjson.dumps(ev) + b"\n\n")
    assert b"6789" not in got and b'"type":"response.custom"' in got


def test_stream_completed_event_keeps_ids(small):
    """response.completed keeps the response and item ids; unknown keys in it are scrubbed."""
    ev = {"type": "response.completed", "sequence_number": 9, "response": {
        "id": "resp_1", "object": "response", "status": "completed", "note": {"id": SSN},
        "output": [{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "ok", "annotations": []}]}]}}
    out = Walk(lambda s: small.redactor.redact(s, "response").text, "allow", ScrubReport()).schema(ev)
    assert out["response"]["id"] == "resp_1" and out["response"]["output"][0]["id"] == "msg_1"
    assert out["response"]["note"] == {"id": "[SSN]"}


# -- 3. attachments --------------------------------------------------------------------------------

ATTACHMENT_BODIES = {
    "chat_input_audio": {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "listen"},
        {"type": "input_audio", "input_audio": {"data": B64, "format": "wav"}}]}]},
    "chat_file": {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "read"},
        {"type": "file", "file": {"file_data": B64, "filename": "x.pdf"}}]}]},
    "chat_image_url": {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + B64, "detail": "low"}}]}]},
    "responses_input_audio": {"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "listen"},
        {"type": "input_audio", "input_audio": {"data": B64, "format": "wav"}}]}]},
    "responses_input_file": {"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "read"},
        {"type": "input_file", "file_data": B64, "filename": "x.pdf"}]}]},
    "responses_input_image": {"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "see"},
        {"type": "input_image", "image_url": "data:image/png;base64," + B64}]}]},
    "responses_tool_output_parts": {"model": "m", "input": [
        {"type": "function_call_output", "call_id": "c", "output": [
            {"type": "input_text", "text": "see"},
            {"type": "input_file", "file_data": B64, "filename": "x.pdf"}]}]},
}


@pytest.mark.parametrize("name", sorted(ATTACHMENT_BODIES))
def test_every_attachment_shape_is_blocked(small, name):
    """Under attachments: block, every base64 attachment shape of both APIs is refused."""
    with pytest.raises(AttachmentBlocked):
        scrub_bytes(small, orjson.dumps(ATTACHMENT_BODIES[name]), attachments="block")


@pytest.mark.parametrize("name", sorted(ATTACHMENT_BODIES))
def test_every_attachment_shape_is_stripped(small, name):
    """Under attachments: strip, the attachment part is removed and the text part kept."""
    out, report, _ = scrub_bytes(small, orjson.dumps(ATTACHMENT_BODIES[name]), attachments="strip")
    assert B64[:40].encode() not in out and report.attachments_stripped == 1
    body = orjson.loads(out)
    msgs = body.get("messages") or body["input"]
    parts = msgs[0].get("content") or msgs[0]["output"]
    assert len(parts) == 1 and parts[0]["text"] in ("listen", "read", "see")


@pytest.mark.parametrize("name", sorted(ATTACHMENT_BODIES))
def test_every_attachment_shape_is_allowed_untouched(small, name):
    """Under attachments: allow, the base64 payload is forwarded exactly, the rest still scrubbed."""
    body = orjson.loads(orjson.dumps(ATTACHMENT_BODIES[name]))
    out, report = scrub_json(body, small.redactor, "request", attachments="allow")
    assert B64 in dumped(out) and report.attachments_allowed == 1


def test_allowed_attachment_filename_is_scrubbed(small):
    """Under allow, a file attachment's filename is still data."""
    body = {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": B64, "filename": f"{SSN}.pdf"}}]}]}
    out, _ = scrub_json(body, small.redactor, "request", attachments="allow")
    assert out["messages"][0]["content"][0]["file"] == {"file_data": B64, "filename": "[SSN].pdf"}


def test_file_references_are_not_attachments(small):
    """A file id or an https image URL is not a base64 attachment: allowed under block."""
    body = {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_id": "file-123"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/x.png"}}]}],
        "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"},
                                               {"type": "input_image", "image_url": "https://e.org/a.png"}]}]}
    out, _ = scrub_json(body, small.redactor, "request", attachments="block")
    assert out == body


def test_response_audio_and_images_pass_unscrubbed_under_allow(small):
    """Response base64 (chat audio, generated images) is kept byte for byte; transcripts are scrubbed."""
    digits = "AAAA123456789AAAA"
    body = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {
        "role": "assistant", "content": None,
        "audio": {"id": "audio_1", "data": digits, "expires_at": 1, "transcript": f"SSN {SSN}"}}}]}
    out, _ = scrub_json(body, small.redactor, "response", attachments="allow")
    audio = out["choices"][0]["message"]["audio"]
    assert audio["data"] == digits and audio["transcript"] == "SSN [SSN]" and audio["id"] == "audio_1"
    resp = {"id": "resp_1", "object": "response", "output": [
        {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": digits}]}
    out, _ = scrub_json(resp, small.redactor, "response", attachments="allow")
    assert out["output"][0]["result"] == digits


# -- the stream path: everything but the delta text is scrubbed by the walker -----------------------

def _stream(small, *events: dict) -> bytes:
    sr = StreamRedactor(small.redactor)
    out = b"".join(sr.feed(b"data: " + orjson.dumps(ev) + b"\n\n") for ev in events)
    return out + sr.feed(b"data: [DONE]\n\n") + sr.flush()


def test_stream_delta_event_unknown_key_is_data(small):
    """A Responses delta event's other fields are scrubbed; its delta still goes through its channel."""
    out = _stream(small, {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                          "content_index": 0, "sequence_number": 1, "delta": "hi", "note": {"id": SSN}})
    assert b"6789" not in out and b'"delta":"hi"' in out and b'"item_id":"msg_1"' in out


def test_stream_chat_chunk_unknown_keys_are_data(small):
    """Chat chunks: unknown keys anywhere are scrubbed; ids, roles and finish reasons are kept."""
    out = _stream(small,
                  {"object": "chat.completion.chunk", "id": "chatcmpl-1", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi", "x": SSN}}],
                   "note": {"id": SSN}},
                  {"object": "chat.completion.chunk", "id": "chatcmpl-1", "choices": [
                      {"index": 0, "delta": {}, "finish_reason": "stop", "extra": SSN}]})
    assert b"6789" not in out
    assert b'"id":"chatcmpl-1"' in out and b'"role":"assistant"' in out and b'"finish_reason":"stop"' in out


def test_stream_chat_chunk_with_duplicate_key_is_reencoded(small):
    """A chat chunk that repeats a key is re-encoded from what was scrubbed, never passed raw."""
    sr = StreamRedactor(small.redactor)
    raw = b'{"object":"chat.completion.chunk","id":"c","choices":[],"x":"SSN 123-45-6789","x":"ok"}'
    assert b"6789" not in sr.feed(b"data: " + raw + b"\n\n")


def test_token_logprobs_are_dropped_from_answers(small):
    """Token log-probabilities spell the text out token by token, with each token's bytes as
    numbers: an SSN split over tokens would pass. They are emptied, as in streams."""
    def lp(tok):
        return {"token": tok, "logprob": -0.1, "bytes": list(tok.encode()),
                "top_logprobs": [{"token": tok, "logprob": -0.1, "bytes": list(tok.encode())}]}

    tokens = [lp(t) for t in ("SSN ", "123", "-45", "-6789")]
    resp = {"id": "resp_1", "object": "response", "status": "completed", "model": "m", "output": [
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [
            {"type": "output_text", "text": "SSN 123-45-6789", "annotations": [], "logprobs": tokens}]}]}
    chat = {"id": "c1", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "SSN 123-45-6789"},
         "logprobs": {"content": tokens, "refusal": None}}]}
    for body in (resp, chat):
        out = scrub_bytes(small, orjson.dumps(body), "response")[0].decode()
        assert "6789" not in out and "[54, 55, 56, 57]" not in out and "54,55,56,57" not in out, out

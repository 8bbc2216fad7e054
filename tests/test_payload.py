"""The JSON walker: deny by default, structural fields kept, JSON-in-strings stay JSON."""

from __future__ import annotations

import orjson
import pytest

from werker_proxy.errors import AttachmentBlocked, MalformedBody
from werker_proxy.payload import scrub_body_bytes, scrub_json

SSN = "123-45-6789"


def scrub(small, body, direction="request", **kw):
    return scrub_json(body, small.redactor, direction, **kw)


def test_responses_request_fields_are_scrubbed(small):
    """Identifiers in input string, messages, content parts, instructions and tool outputs are scrubbed."""
    body = {
        "model": "gpt-4o-2024-08-06",
        "instructions": f"SSN {SSN}",
        "input": [
            {"role": "user", "content": f"my SSN is {SSN}"},
            {"role": "user", "content": [{"type": "input_text", "text": f"SSN {SSN}"}]},
            {"type": "function_call", "call_id": "call_abc", "name": "lookup_patient",
             "arguments": orjson.dumps({"ssn": SSN, "phone": "617-555-0142", "n": 123456789}).decode()},
            {"type": "function_call_output", "call_id": "call_abc",
             "output": '{"result": {"ssn": "123\\u002d45\\u002d6789"}}'},
        ],
        "metadata": {"id": "617-555-0142", "type": f"{SSN}"},
        "temperature": 0.2,
        "max_output_tokens": 6175550142,
    }
    out, report = scrub(small, body)
    dumped = orjson.dumps(out).decode()
    assert "6789" not in dumped and "555-0142" not in dumped and "6175550142" not in dumped.replace(
        '"max_output_tokens":6175550142', "")
    assert out["model"] == "gpt-4o-2024-08-06"
    assert out["input"][2]["name"] == "lookup_patient"
    assert out["input"][2]["call_id"] == "call_abc"
    assert out["max_output_tokens"] == 6175550142  # API parameter, not data
    args = orjson.loads(out["input"][2]["arguments"])
    assert args == {"ssn": "[SSN]", "phone": "[PHONE]", "n": "[SSN]"}
    assert orjson.loads(out["input"][3]["output"]) == {"result": {"ssn": "[SSN]"}}
    assert out["metadata"] == {"id": "[PHONE]", "type": "[SSN]"}
    assert report.counts["ssn"] == 7 and report.counts["phone"] == 2


def test_json_in_string_keeps_its_formatting(small):
    """Only changed values are rewritten inside a JSON string; spacing and keys stay verbatim."""
    args = '{\n  "note": "SSN 123-45-6789",  "n": 1 }'
    out, _ = scrub(small, {"input": [{"type": "function_call", "name": "f", "arguments": args}]})
    assert out["input"][0]["arguments"] == '{\n  "note": "SSN [SSN]",  "n": 1 }'


def test_chat_messages_and_tool_calls(small):
    """Chat message content, participant names and tool call arguments are data; tool names are not."""
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Patient: John Smith"},
            {"role": "user", "name": "John", "content": [{"type": "text", "text": "I am John"}]},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
              "function": {"name": "get_chart", "arguments": '{"who": "Smith"}'}}]},
        ],
        "tools": [{"type": "function", "function": {"name": "get_chart", "parameters": {"type": "object"}}}],
    }
    out, report = scrub(small, body)
    text = orjson.dumps(out).decode()
    assert "John" not in text and "Smith" not in text
    assert out["messages"][2]["tool_calls"][0]["function"]["name"] == "get_chart"
    assert out["tools"][0]["function"]["name"] == "get_chart"


def test_response_body_output_text_and_ids(small):
    """Response output text is scrubbed; response ids and statuses are not touched."""
    body = {"id": "resp_6175550142", "object": "response", "status": "completed", "model": "m",
            "output": [{"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": f"SSN {SSN}", "annotations": []}]}],
            "usage": {"input_tokens": 6175550142}}
    out, _ = scrub(small, body, "response")
    assert out["id"] == "resp_6175550142"
    assert out["output"][0]["content"][0]["text"] == "SSN [SSN]"
    assert out["usage"]["input_tokens"] == 6175550142


IMAGE = {"role": "user", "content": [{"type": "input_text", "text": "see"},
                                     {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]}


def test_attachment_policies(small):
    """Base64 attachments are blocked, stripped or passed untouched per policy."""
    with pytest.raises(AttachmentBlocked):
        scrub(small, {"input": [IMAGE]}, attachments="block")
    out, rep = scrub(small, {"input": [IMAGE]}, attachments="strip")
    assert out["input"][0]["content"] == [{"type": "input_text", "text": "see"}]
    assert rep.attachments_stripped == 1
    out, rep = scrub(small, {"input": [IMAGE]}, attachments="allow")
    assert out["input"][0]["content"][1]["image_url"].endswith("iVBORw0KGgo=")


def test_unchanged_body_is_returned_byte_for_byte(small):
    """A body with nothing to scrub is forwarded exactly as sent (no re-serialisation)."""
    raw = b'{ "model" : "m",  "input": "hello there" }'
    out, report, _ = scrub_body_bytes(raw, small.redactor, "request")
    assert out is raw and not report.counts


def test_escaped_json_is_decoded_before_matching(small):
    """A client that escapes dashes as \\u002d is still scrubbed."""
    raw = b'{"input": "SSN 123\\u002d45\\u002d6789"}'
    out, report, _ = scrub_body_bytes(raw, small.redactor, "request")
    assert b"6789" not in out and report.counts == {"ssn": 1}


def test_malformed_json_is_refused(small):
    """A body that is not JSON raises MalformedBody (the proxy answers 400)."""
    with pytest.raises(MalformedBody):
        scrub_body_bytes(b'{"input": "SSN 123-45-6789"', small.redactor, "request")


def test_name_found_in_one_message_is_scrubbed_in_another(small):
    """Known-PHI propagation works across the whole body, also backwards."""
    body = {"input": [{"role": "user", "content": "Grace called twice"},
                      {"role": "user", "content": "Patient: Grace Okafor"}]}
    out, _ = scrub(small, body)
    assert "Grace" not in orjson.dumps(out).decode()


def test_ids_that_look_like_numbers_survive(small):
    """Tool call ids and conversation ids are structural: a digit run in them is not scrubbed."""
    body = {"conversation": "conv_123-45-6789", "messages": [
        {"role": "tool", "tool_call_id": "call_123-45-6789", "content": "SSN 123-45-6789"}]}
    out, _ = scrub(small, body)
    assert out["conversation"] == "conv_123-45-6789"
    assert out["messages"][0]["tool_call_id"] == "call_123-45-6789"
    assert out["messages"][0]["content"] == "SSN [SSN]"


@pytest.mark.parametrize("key", ["age_years", "ageYears", "age_in_years", "patientAge", "AGE"])
@pytest.mark.parametrize("value", [97, "97", 102])
def test_an_age_over_89_under_an_age_key_is_scrubbed_as_number_or_string(redactor, key, value):
    """Tool outputs carry ages as JSON numbers under keys like ``age_years`` (a probe: 44 leaked).
    The key is the cue, in metadata, in JSON held in a tool output string, and in raw JSON text."""
    body = {"model": "m", "input": [
        {"type": "function_call_output", "call_id": "c1", "output": orjson.dumps({key: value}).decode()}],
        "metadata": {key: str(value)}}
    out, _, _ = scrub_body_bytes(orjson.dumps(body), redactor, "request")
    parsed = orjson.loads(out)
    assert str(value) not in orjson.loads(parsed["input"][0]["output"]).values().__repr__()
    assert str(value) not in parsed["metadata"][key]
    assert str(value) not in redactor.redact(f'{{"{key}": {orjson.dumps(value).decode()}}}').text


@pytest.mark.parametrize("text", ['{"age_years": 45}', '{"ageYears": 89}', '{"page_count": 97}', '{"dosage_mg": 97}'])
def test_ages_under_90_and_other_numbers_stay(redactor, text):
    assert redactor.redact(text).text == text

"""Where Responses / Chat Completions bodies hold text, and how to scrub them: deny by default.

Every string in a body is data and gets scrubbed, except *structural* values at their place in
the API schema (``model``, ``role``, ``type``, ids, statuses, tool names...). Inside free-form
JSON (``metadata``, tool ``arguments`` and outputs, JSON schemas, JSON held in a string) nothing
is structural: every value is data whatever its key, numbers included.

Two passes: the first runs every rule once over every text and learns the body's known values
(a name cued in one message is scrubbed in all of them); the second only adds those values
with a literal search and writes the replacements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import AttachmentBlocked, MalformedBody
from .jsontext import looks_like_json, scrub_json_text, with_key
from .redact import KnownValue, Prepared, Redactor, add_counts

# Values kept as they are when they sit under these keys in the API schema (not in free-form JSON).
STRUCTURAL_KEYS = frozenset({
    "type", "role", "id", "call_id", "status", "object", "model", "previous_response_id",
    "response_id", "item_id", "finish_reason", "service_tier", "truncation", "tool_choice",
    "effort", "summary_mode", "system_fingerprint", "encoding_format", "detail", "reasoning_effort",
    "verbosity", "modalities", "include", "file_id", "code", "format_type", "voice",
    "server_label", "approval_request_id", "phase", "stop_reason", "tool_call_id", "conversation",
})
# Under these keys everything is data (free-form JSON).
FREEFORM_KEYS = frozenset({"metadata", "arguments", "parameters", "schema", "json_schema", "input_schema"})
# Under these keys the value is free-form when the parent item is a tool call output.
TOOL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "mcp_call",
                               "computer_call_output", "local_shell_call_output"})
ATTACHMENT_PART_TYPES = frozenset({"input_image", "input_file", "image_url", "file", "input_audio", "image"})
BASE64_KEYS = frozenset({"file_data", "data", "image_url", "url", "b64_json"})


def _is_data_url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("data:") and ";base64," in v[:200]


@dataclass
class ScrubReport:
    counts: dict[str, int] = field(default_factory=dict)
    found: list[KnownValue] = field(default_factory=list)
    attachments_stripped: int = 0
    attachments_allowed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.counts) or self.attachments_stripped > 0


class Walk:
    """One pass over a parsed body; ``text_fn`` maps each data string to its scrubbed form."""

    def __init__(self, text_fn: Callable[[str], str], attachments: str, report: ScrubReport):
        self.text_fn = text_fn
        self.keyed = with_key(text_fn)
        self.attachments = attachments
        self.report = report

    def text(self, s: str, key: str | None = None) -> str:
        if not s:
            return s
        if s[0] in "{[ \n\t" and looks_like_json(s):
            return scrub_json_text(s, self.keyed)
        return self.keyed(s, key)

    def data(self, node: Any, key: str | None = None) -> Any:
        """Free-form JSON: every string and number is data, read with its key as context."""
        if isinstance(node, str):
            if _is_data_url(node):
                return self.attachment_value(node)
            return self.text(node, key)
        if isinstance(node, dict):
            # keys of free-form JSON are data too ({"234-56-7890": ...})
            return {(self.text_fn(k) if isinstance(k, str) and k else k): self.data(v, k if isinstance(k, str) else None)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.data(v, key) for v in node]
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            s = repr(node) if isinstance(node, float) else str(node)
            out = self.keyed(s, key)
            return node if out == s else out
        return node

    def attachment_value(self, v: str) -> str:
        if self.attachments == "block":
            raise AttachmentBlocked("the request holds a base64 attachment and attachments are blocked by policy")
        self.report.attachments_allowed += 1
        return v

    def schema(self, node: Any, parent_type: str | None = None) -> Any:
        if isinstance(node, str):
            return self.data(node)
        if isinstance(node, list):
            out = []
            for item in node:
                if isinstance(item, dict) and self.is_attachment(item):
                    if self.attachments == "block":
                        raise AttachmentBlocked(
                            "the request holds a base64 attachment and attachments are blocked by policy")
                    if self.attachments == "strip":
                        self.report.attachments_stripped += 1
                        continue
                    self.report.attachments_allowed += 1
                    out.append(self.attachment_part(item))
                    continue
                out.append(self.schema(item, parent_type))
            return out
        if not isinstance(node, dict):
            return node  # numbers and booleans in the API schema are parameters, not data
        ntype = node.get("type") if isinstance(node.get("type"), str) else None
        has_role = "role" in node
        out_d = {}
        for k, v in node.items():
            if k in FREEFORM_KEYS or (k == "output" and ntype in TOOL_OUTPUT_TYPES):
                out_d[k] = self.data(v)
            elif isinstance(v, str) and (k in STRUCTURAL_KEYS or (k == "name" and not has_role)):
                out_d[k] = v
            else:
                out_d[k] = self.schema(v, ntype)
        return out_d

    @staticmethod
    def is_attachment(part: dict[str, Any]) -> bool:
        ptype = part.get("type")
        if ptype in ATTACHMENT_PART_TYPES:
            for key in BASE64_KEYS:
                v = part.get(key)
                if _is_data_url(v) or (key in ("file_data", "data", "b64_json") and isinstance(v, str)):
                    return True
                if isinstance(v, dict) and any(_is_data_url(x) or k2 == "data" for k2, x in v.items()):
                    return True
        return False

    def attachment_part(self, part: dict[str, Any]) -> dict[str, Any]:
        """Allowed attachment: keep base64 payloads as they are, scrub the rest (e.g. filename)."""
        out = {}
        for k, v in part.items():
            if k in BASE64_KEYS or k == "type":
                out[k] = v
            elif isinstance(v, dict):
                out[k] = {k2: (x if k2 in BASE64_KEYS | {"format"} else self.data(x)) for k2, x in v.items()}
            else:
                out[k] = self.schema(v) if not isinstance(v, str) else self.data(v)
        return out


def scrub_json(
    body: Any,
    redactor: Redactor,
    direction: str,
    *,
    attachments: str = "block",
    known: Iterable[KnownValue] = (),
) -> tuple[Any, ScrubReport]:
    """Scrub a parsed body; returns the new body and what was done (counts per rule)."""
    report = ScrubReport()
    prepared: dict[str, Prepared] = {}
    found: list[KnownValue] = []

    def prepare(s: str) -> Prepared:
        p = prepared.get(s)
        if p is None:
            p = prepared[s] = redactor.prepare(s, direction)
            found.extend(p.found)
        return p

    def collect(s: str) -> str:
        prepare(s)
        return s

    # pass 1 runs every rule once per text and learns the body's known values ...
    Walk(collect, "allow" if attachments == "strip" else attachments, ScrubReport()).schema(body)
    report.found = found
    all_known = list(known) + found

    # ... pass 2 only adds those values (a literal search) and writes the replacements
    def scrub(s: str) -> str:
        r = redactor.apply(prepare(s), all_known)
        if r.counts:
            add_counts(report.counts, r.counts)
        return r.text

    result = Walk(scrub, attachments, report).schema(body)
    return result, report


def parse_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise MalformedBody(f"the body is not valid JSON ({str(e).split(':')[0]})") from None


def scrub_body_bytes(
    raw: bytes,
    redactor: Redactor,
    direction: str,
    *,
    attachments: str = "block",
    known: Iterable[KnownValue] = (),
) -> tuple[bytes, ScrubReport, Any]:
    """Parse, scrub and re-serialise a JSON body; untouched bodies are returned byte for byte."""
    body = parse_body(raw)
    new, report = scrub_json(body, redactor, direction, attachments=attachments, known=known)
    if not report.changed:
        return raw, report, body
    return orjson.dumps(new), report, new


def numbers_only(node: Any) -> Any:
    """The numeric skeleton of a ``usage`` object: counts for the audit, never text."""
    if isinstance(node, dict):
        return {k: numbers_only(v) for k, v in node.items()
                if isinstance(v, (int, float, dict)) and not isinstance(v, bool)}
    return node if isinstance(node, (int, float)) else None

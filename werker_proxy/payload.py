"""Where Responses / Chat Completions bodies hold text, and how to scrub them: deny by default.

Every string in a body is data and gets scrubbed, except *structural* values at their place in
the API schema. The schema below is positional: a kind maps the keys known at that place to what
they hold (``KEEP``: enum-like values and ids; ``NUM``: parameters and counts; ``ATTACH``: base64
payloads; or a nested kind). Any other key, at any depth, is data: every string and number under
it is scrubbed whatever its key (``{"note": {"id": ...}}`` is data). Inside free-form JSON
(``metadata``, tool ``arguments`` and outputs, JSON schemas, JSON held in a string) nothing is
structural either.

Base64 attachments (data: URLs, ``file_data``, ``input_audio.data``, generated images and audio)
follow ``attachments``: ``block`` refuses the body, ``strip`` drops the list element (the content
part) that holds one, ``allow`` passes the payload untouched and scrubs the rest.

A body that repeats a key in an object is refused (``duplicate_json_key``): the parser keeps one
value, the upstream may read the other, and an untouched body is forwarded byte for byte.

Two passes: the first runs every rule once over every text and learns the body's known values
(a name cued in one message is scrubbed in all of them); the second only adds those values
with a literal search and writes the replacements.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import AttachmentBlocked, MalformedBody
from .jsontext import looks_like_json, scrub_json_text, with_key
from .redact import KnownValue, Prepared, Redactor, add_counts

# -- the positional schema -------------------------------------------------------------------------
KEEP = "keep"      # structural: a string, number or list of strings kept as sent
NUM = "num"        # parameters and counts: numbers and booleans kept, strings scrubbed
ATTACH = "attach"  # a base64 payload (or data: URL): handled by the attachments policy
URL = "url"        # a URL: a data: URL is an attachment, anything else is data
NAME = "name"      # a tool name: kept, except on a chat message (``role`` set) where it is data
DROP = "drop"      # token logprobs of an answer: they spell the text out token by token (bytes too)
TEXT = "text"      # free text at a known key: the value is data, the key is the schema's own
Spec = Any  # a marker above, or a kind (dict: key -> Spec) whose "" entry is the spec of a bare scalar

PARAMS = dict.fromkeys((
    "temperature", "top_p", "max_output_tokens", "max_tokens", "max_completion_tokens", "n", "seed",
    "presence_penalty", "frequency_penalty", "top_logprobs", "logprobs", "stream", "store", "background",
    "parallel_tool_calls", "max_tool_calls", "strict", "index", "created", "created_at", "completed_at",
    "expires_at", "sequence_number", "output_index", "content_index", "summary_index", "annotation_index",
    "start_index", "end_index", "dimensions", "approve", "partial_image_index", "output_compression",
    "partial_images", "max_num_results", "display_width", "display_height", "has_more", "usage",
), NUM)
ENUMS = dict.fromkeys((
    "type", "id", "object", "status", "model", "call_id", "item_id", "response_id", "previous_response_id",
    "file_id", "detail", "format", "voice", "phase", "finish_reason", "service_tier", "system_fingerprint",
    "truncation", "effort", "verbosity", "modalities", "include", "encoding_format", "reasoning_effort",
    "server_label", "approval_request_id", "tool_call_id", "encrypted_content", "container_id",
    "vector_store_ids", "search_context_size", "environment", "output_format", "size", "quality",
    "input_fidelity", "moderation", "mode", "version", "param", "role", "stop_reason",
), KEEP)


def _kind(*bases: dict[str, Spec], **fields: Spec) -> dict[str, Spec]:
    out: dict[str, Spec] = {}
    for b in bases:
        out.update(b)
    out.update(fields)
    return out


ANNOTATION = _kind(PARAMS, type=KEEP, file_id=KEEP, container_id=KEEP)
PART = _kind(  # a content part, both APIs (input_text, output_text, input_image, input_file, image_url...)
    PARAMS, type=KEEP, id=KEEP, detail=KEEP, file_id=KEEP, annotations=ANNOTATION,
    text=TEXT, refusal=TEXT, transcript=TEXT,
    image_url=_kind(url=URL, detail=KEEP, **{"": URL}), file_data=ATTACH,
    input_audio=_kind(data=ATTACH, format=KEEP), file=_kind(file_id=KEEP, file_data=ATTACH),
    audio=_kind(id=KEEP, data=ATTACH, format=KEEP),
)
FUNCTION = _kind(PARAMS, name=KEEP)
FORMAT = _kind(PARAMS, type=KEEP, name=KEEP, json_schema=FUNCTION)
TOOL = _kind(PARAMS, ENUMS, name=KEEP, function=FUNCTION, custom=FUNCTION, tools=_kind(type=KEEP, name=KEEP))
TOOL_CHOICE = _kind(type=KEEP, name=KEEP, mode=KEEP, server_label=KEEP, function=FUNCTION,
                    tools=_kind(type=KEEP, name=KEEP), **{"": KEEP})
SAFETY_CHECK = _kind(id=KEEP, code=KEEP)
OUTPUT_PART = _kind(PART, logprobs=DROP)
ITEM = _kind(  # a Responses input / output item (message, function_call, reasoning, ...) or a chat message
    PARAMS, ENUMS, name=NAME, content=PART, summary=PART, result=ATTACH,
    arguments=TEXT, output=TEXT, input=TEXT, refusal=TEXT, reasoning_content=TEXT,
    pending_safety_checks=SAFETY_CHECK, acknowledged_safety_checks=SAFETY_CHECK, tools=TOOL,
    tool_calls=_kind(PARAMS, id=KEEP, type=KEEP, function=FUNCTION, custom=FUNCTION),
    function_call=FUNCTION, annotations=ANNOTATION, audio=_kind(PARAMS, id=KEEP, data=ATTACH, format=KEEP),
)
ERROR = _kind(type=KEEP, code=KEEP, param=KEEP, message=TEXT)
REQUEST = _kind(  # a request body, both APIs (other endpoints too: unknown keys are data anyway)
    PARAMS, model=KEEP, service_tier=KEEP, truncation=KEEP, previous_response_id=KEEP, include=KEEP,
    instructions=TEXT, prompt_cache_key=TEXT, user=TEXT, safety_identifier=TEXT, metadata=TEXT,
    modalities=KEEP, reasoning_effort=KEEP, verbosity=KEEP, encoding_format=KEEP, input=ITEM, messages=ITEM,
    tools=TOOL, functions=FUNCTION, tool_choice=TOOL_CHOICE, function_call=TOOL_CHOICE,
    conversation=_kind(id=KEEP, **{"": KEEP}), reasoning=_kind(effort=KEEP, summary=KEEP, generate_summary=KEEP),
    text=_kind(format=FORMAT, verbosity=KEEP), response_format=FORMAT, prompt=_kind(id=KEEP, version=KEEP),
    audio=_kind(voice=KEEP, format=KEEP), stream_options=_kind(include_usage=NUM, include_obfuscation=NUM),
)
OUTPUT_ITEM = _kind(ITEM, content=OUTPUT_PART)
RESPONSE = _kind(  # a Responses body: the request's settings echoed, plus the response's own fields
    REQUEST, id=KEEP, object=KEEP, status=KEEP, output=OUTPUT_ITEM, incomplete_details=_kind(reason=KEEP),
    error=ERROR, billing=_kind(payer=KEEP),
)
CHAT_COMPLETION = _kind(  # a chat completion, or one chunk of a chat stream
    PARAMS, id=KEEP, object=KEEP, model=KEEP, system_fingerprint=KEEP, service_tier=KEEP, obfuscation=KEEP,
    choices=_kind(PARAMS, finish_reason=KEEP, message=ITEM, delta=ITEM, logprobs=DROP),
)
EVENT = _kind(  # a Responses stream event
    PARAMS, type=KEEP, item_id=KEEP, param=KEEP, obfuscation=KEEP, output_format=KEEP, size=KEEP, quality=KEEP,
    delta=TEXT, text=TEXT, arguments=TEXT, refusal=TEXT, input=TEXT,
    background=KEEP, response=RESPONSE, item=OUTPUT_ITEM, part=OUTPUT_PART, annotation=ANNOTATION, logprobs=DROP,
    partial_image_b64=ATTACH, error=ERROR,
)
LIST = _kind(PARAMS, object=KEEP, first_id=KEEP, last_id=KEEP, data=ITEM)
ERROR_BODY = _kind(error=ERROR)


def root_kind(node: Any) -> dict[str, Spec]:
    """Which schema a whole body or stream event follows (a request's when nothing else fits)."""
    if not isinstance(node, dict):
        return REQUEST
    obj, typ = node.get("object"), node.get("type")
    if obj == "response":
        return RESPONSE
    if obj in ("chat.completion", "chat.completion.chunk"):
        return CHAT_COMPLETION
    if obj == "list":
        return LIST
    if isinstance(typ, str) and (typ.startswith("response.") or typ == "error"):
        return EVENT
    if "error" in node and len(node) == 1:
        return ERROR_BODY
    return REQUEST


# Keys whose string value is a base64 payload wherever they sit (free-form JSON included).
BASE64_KEYS = frozenset({"file_data", "b64_json", "partial_image_b64"})
AUDIO_KEYS = frozenset({"input_audio", "audio"})  # ... and their "data"


def _is_data_url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith("data:") and ";base64," in v[:200]


class _Strip(Exception):
    """An attachment under ``strip``: the nearest enclosing list element is dropped."""


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

    def schema(self, node: Any, spec: Spec = None) -> Any:
        """Walk a whole body or stream event (its kind is guessed from its shape) or ``node`` as ``spec``."""
        try:
            return self.at(node, root_kind(node) if spec is None else spec)
        except _Strip:
            raise AttachmentBlocked("the body holds a base64 attachment outside a content part list, "
                                    "which cannot be stripped") from None

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
            return {(self.text_fn(k) if k else k): (
                self.attachment_value(v) if _is_base64_field(k, v, key) else self.data(v, k))
                for k, v in node.items()}
        if isinstance(node, list):
            return self.items(node, key, None)
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            s = repr(node) if isinstance(node, float) else str(node)
            out = self.keyed(s, key)
            return node if out == s else out
        return node

    def at(self, node: Any, spec: Spec) -> Any:
        """``node`` at a known place of the schema, holding ``spec``; its text is read without its key."""
        if isinstance(spec, dict):
            if isinstance(node, dict):
                return self.obj(node, spec)
            if isinstance(node, list):
                return self.items(node, None, spec)
            bare = spec.get("")
            return self.data(node) if bare is None else self.at(node, bare)
        if spec == KEEP:
            if node is None or isinstance(node, (str, int, float, bool)):
                return node
            if isinstance(node, list) and all(isinstance(x, str) for x in node):
                return node
        elif spec == NUM:
            if node is None or isinstance(node, (int, float, bool)):
                return node
            if isinstance(node, dict):
                return {(self.text_fn(k) if k else k): self.at(v, NUM) for k, v in node.items()}
            if isinstance(node, list):
                return self.items(node, None, NUM)
        elif spec == ATTACH and isinstance(node, str) and node:
            return self.attachment_value(node)
        elif spec == DROP:
            return [] if isinstance(node, list) else None
        return self.data(node)  # URL too: data() treats a data: URL as an attachment

    def obj(self, node: dict[str, Any], spec: dict[str, Spec]) -> dict[str, Any]:
        out = {}
        has_role = "role" in node
        for k, v in node.items():
            s = spec.get(k) if k else None
            if s == NAME:
                s = None if has_role else KEEP
            if s is None:  # not at this place in the schema: data, the key included (read bare, as
                # free text fields such as ``text`` or ``output`` always were; nested keys give context)
                out[self.text_fn(k) if k else k] = (
                    self.attachment_value(v) if _is_base64_field(k, v, None) else self.data(v))
            else:
                out[k] = self.at(v, s)
        return out

    def items(self, node: list[Any], key: str | None, spec: Spec) -> list[Any]:
        """A list; under ``strip``, an element holding an attachment is dropped."""
        out = []
        for v in node:
            try:
                out.append(self.data(v, key) if spec is None else self.at(v, spec))
            except _Strip:
                self.report.attachments_stripped += 1
        return out

    def attachment_value(self, v: str) -> str:
        if self.attachments == "block":
            raise AttachmentBlocked("the request holds a base64 attachment and attachments are blocked by policy")
        if self.attachments == "strip":
            raise _Strip
        self.report.attachments_allowed += 1
        return v


def _is_base64_field(key: str, value: Any, parent_key: str | None) -> bool:
    if not isinstance(value, str) or not value:
        return False
    return key in BASE64_KEYS or (key == "data" and parent_key in AUDIO_KEYS)


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


# A string literal; group 1 is set when it is followed by ":" (a key). Outside string literals
# valid JSON has no quotes, so scanning literal after literal never starts inside one.
_STRING_OR_KEY = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?')


def _count_keys(node: Any) -> int:
    n, stack = 0, [node]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            n += len(x)
            stack.extend(v for v in x.values() if isinstance(v, (dict, list)))
        elif isinstance(x, list):
            stack.extend(v for v in x if isinstance(v, (dict, list)))
    return n


def has_duplicate_keys(raw: bytes, body: Any) -> bool:
    """Whether some object in ``raw`` (which parsed to ``body``) repeats a key: the parser kept one value."""
    if not isinstance(body, (dict, list)):
        return False
    return sum(1 for m in _STRING_OR_KEY.finditer(raw) if m.group(1) is not None) != _count_keys(body)


def check_duplicate_keys(raw: bytes, body: Any) -> None:
    """Refuse a body that repeats a key: the upstream (or client) might read the value we did not scrub."""
    if has_duplicate_keys(raw, body):
        raise MalformedBody("the body repeats a key in a JSON object, so it cannot be scrubbed safely; "
                            "send each key once", code="duplicate_json_key")


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
    check_duplicate_keys(raw, body)
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

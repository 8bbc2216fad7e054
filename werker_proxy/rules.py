"""Rules: parse from YAML, validate, compile once.

A rule is data (name, label, regex, context cue words, validators, directions, replacement);
code exists only for the named validators. Parsing raises ``ConfigError(source, line, reason)``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import regex

from .errors import ConfigError
from .sharing import share_lookaheads
from .validators import VALIDATORS
from .yamlsrc import line_of

DIRECTIONS = ("request", "response")
FLAG_NAMES = {
    "ignorecase": regex.IGNORECASE,
    "i": regex.IGNORECASE,
    "multiline": regex.MULTILINE,
    "m": regex.MULTILINE,
    "dotall": regex.DOTALL,
    "s": regex.DOTALL,
    "verbose": regex.VERBOSE,
    "x": regex.VERBOSE,
    "ascii": regex.ASCII,
}
RULE_KEYS = {
    "name", "label", "pattern", "flags", "context", "validate", "directions",
    "replacement", "examples", "propagate", "description", "requires",
}
CONTEXT_KEYS = {"words", "window", "required"}
DEFAULT_REPLACEMENT = "[{label}]"
NAME_RE = regex.compile(r"[a-z0-9][a-z0-9_]*")
LABEL_RE = regex.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class Context:
    words: tuple[str, ...]
    window: int
    required: bool
    pattern: Any  # compiled regex finding any cue word


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    label: str
    pattern: Any  # compiled `regex` pattern
    replacement: str  # rendered (no per-match fields)
    directions: frozenset[str]
    validators: tuple[str, ...] = ()
    context: Context | None = None
    propagate: bool = False
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    source: str = "<inline>"
    line: int | None = None
    phi_group: bool = False
    requires: Any = None  # compiled gate: a text without a match of it cannot match the rule
    written: str = ""  # the pattern as written, macros expanded (`pattern` may share repeats)

    @property
    def as_written(self) -> "WrittenPattern":
        """The pattern before sharing, for the prefilter's analysis (see sharing)."""
        return WrittenPattern(self.written or self.pattern.pattern, self.pattern.flags)

    def may_match(self, text: str, pos: int = 0) -> bool:
        """Cheap necessary condition checked before the full pattern runs."""
        return self.requires is None or self.requires.search(text, pos) is not None

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


class WrittenPattern(NamedTuple):
    pattern: str
    flags: int


@dataclass(frozen=True, slots=True)
class AllowPattern:
    name: str
    pattern: Any
    source: str = "<inline>"
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    allow: tuple[AllowPattern, ...] = ()
    by_direction: dict[str, tuple[Rule, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: list[Rule], allow: list[AllowPattern]) -> "RuleSet":
        seen: dict[str, Rule] = {}
        for r in rules:
            if r.name in seen:
                raise ConfigError(
                    r.source, r.line,
                    f"duplicate rule name {r.name!r} (first defined at {seen[r.name].where}); "
                    "rule names must be unique",
                )
            seen[r.name] = r
        by_dir = {d: tuple(r for r in rules if d in r.directions) for d in DIRECTIONS}
        return cls(tuple(rules), tuple(allow), by_dir)


def _fail(source: str, node: Any, key: Any, where: str, reason: str) -> ConfigError:
    return ConfigError(source, line_of(node, key), f"{where}: {reason}")


def compile_pattern(pattern: str, flags: int, source: str, line: int | None, where: str) -> Any:
    try:
        return regex.compile(pattern, flags)
    except regex.error as e:
        raise ConfigError(source, line, f"{where}.pattern: invalid regex ({e})") from None


def _parse_flags(node: Any, source: str, where: str, parent: Any) -> int:
    if node is None:
        return 0
    if isinstance(node, str):
        node = [node]
    if not isinstance(node, list):
        raise _fail(source, parent, "flags", where, "flags must be a list of flag names")
    flags = 0
    for f in node:
        if not isinstance(f, str) or f.lower() not in FLAG_NAMES:
            raise _fail(source, parent, "flags", where,
                        f"unknown flag {f!r}; use one of {sorted(k for k in FLAG_NAMES if len(k) > 1)}")
        flags |= FLAG_NAMES[f.lower()]
    return flags


def render_replacement(template: str, name: str, label: str) -> str:
    """Fill ``{label}``/``{name}``; raise ValueError for unknown fields or unsafe characters."""
    if '"' in template or "\\" in template:
        raise ValueError('a replacement must not contain " or \\ (it must stay valid inside JSON)')
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    for f in fields:
        if f not in ("label", "name"):
            raise ValueError(f"unknown placeholder {{{f}}}; only {{label}} and {{name}} exist")
    out = template.format(label=label, name=name)
    if '"' in out or "\\" in out:
        raise ValueError('the rendered replacement contains " or \\')
    return out


def _str_list(node: Any, source: str, parent: Any, key: str, where: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if isinstance(node, str):
        node = [node]
    if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
        raise _fail(source, parent, key, where, f"{key} must be a list of strings")
    return tuple(node)


def parse_rule(node: Any, source: str, index: int, macros: dict[str, str] | None = None) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(node, dict):
        raise ConfigError(source, line_of(node), f"{where}: a rule must be a mapping with name, label, pattern")
    for k in node:
        if k not in RULE_KEYS:
            raise _fail(source, node, k, where, f"unknown key {k!r}; allowed keys: {', '.join(sorted(RULE_KEYS))}")
    name = node.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise _fail(source, node, "name" if "name" in node else None, where,
                    "every rule needs a `name` of lowercase letters, digits and _")
    where = f"{where} ({name})"
    label = node.get("label", name.upper())
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise _fail(source, node, "label", where, "label must be UPPER_CASE letters, digits and _")
    pattern = node.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise _fail(source, node, "pattern" if "pattern" in node else None, where,
                    "every rule needs a non-empty `pattern` (a regex)")
    flags = _parse_flags(node.get("flags"), source, where, node)
    compiled = None
    if macros:
        pattern = expand_macros(pattern, macros, source, line_of(node, "pattern"), where + ".pattern")
        shared = share_lookaheads(pattern, macros.values())
        if shared != pattern:
            try:
                compiled = regex.compile(shared, flags)
            except regex.error:  # the written pattern's own error is the one to report
                compiled = None
    if compiled is None:
        compiled = compile_pattern(pattern, flags, source, line_of(node, "pattern"), where)
    if compiled.search("") is not None:
        raise _fail(source, node, "pattern", where, "pattern matches the empty string; it must match some text")

    validators = _str_list(node.get("validate"), source, node, "validate", where)
    for v in validators:
        if v not in VALIDATORS:
            raise _fail(source, node, "validate", where,
                        f"unknown validator {v!r}; known: {', '.join(sorted(VALIDATORS))}")

    directions = _str_list(node.get("directions"), source, node, "directions", where) or DIRECTIONS
    for d in directions:
        if d not in DIRECTIONS:
            raise _fail(source, node, "directions", where, f"unknown direction {d!r}; use request and/or response")

    template = node.get("replacement", DEFAULT_REPLACEMENT)
    if not isinstance(template, str):
        raise _fail(source, node, "replacement", where, "replacement must be a string template")
    try:
        replacement = render_replacement(template, name, label)
    except ValueError as e:
        raise _fail(source, node, "replacement", where, f"bad replacement template: {e}") from None

    context = _parse_context(node.get("context"), source, node, where)
    propagate = node.get("propagate", context is not None and context.required)
    if not isinstance(propagate, bool):
        raise _fail(source, node, "propagate", where, "propagate must be true or false")

    requires = None
    if node.get("requires") is not None:
        if not isinstance(node["requires"], str) or not node["requires"]:
            raise _fail(source, node, "requires", where, "requires must be a regex every matching text contains")
        gate = expand_macros(node["requires"], macros or {}, source, line_of(node, "requires"), where + ".requires")
        requires = compile_pattern(gate, flags, source, line_of(node, "requires"), where + ".requires")
    elif context is not None and context.required:
        requires = context.pattern  # the cue word must be somewhere in the text

    examples = node.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"match", "no_match"}:
        raise _fail(source, node, "examples", where, "examples must be a mapping with `match` and `no_match` lists")
    return Rule(
        name=name,
        label=label,
        pattern=compiled,
        replacement=replacement,
        directions=frozenset(directions),
        validators=validators,
        context=context,
        propagate=propagate,
        examples_match=_str_list(examples.get("match"), source, examples, "match", where + ".examples"),
        examples_no_match=_str_list(examples.get("no_match"), source, examples, "no_match", where + ".examples"),
        source=source,
        line=line_of(node),
        phi_group="phi" in compiled.groupindex,
        requires=requires,
        written=pattern,
    )


def _parse_context(node: Any, source: str, parent: Any, where: str) -> Context | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        raise _fail(source, parent, "context", where, "context must be a mapping {words, window, required}")
    for k in node:
        if k not in CONTEXT_KEYS:
            raise _fail(source, node, k, where + ".context", f"unknown key {k!r}; use words, window, required")
    words = _str_list(node.get("words"), source, node, "words", where + ".context")
    if not words:
        raise _fail(source, node, "words", where + ".context", "context needs at least one cue word")
    window = node.get("window", 40)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 10_000:
        raise _fail(source, node, "window", where + ".context", "window must be an integer from 1 to 10000")
    required = node.get("required", True)
    if not isinstance(required, bool):
        raise _fail(source, node, "required", where + ".context", "required must be true or false")
    alternation = "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))
    cue = regex.compile(rf"(?<!\w)(?:{alternation})(?!\w)", regex.IGNORECASE)
    return Context(words, window, required, cue)


def parse_allow(node: Any, source: str, index: int, line: int | None = None) -> AllowPattern:
    """``line``: where the entry sits in its list (a plain string carries no location)."""
    where = f"allow[{index}]"
    if isinstance(node, str):
        return AllowPattern(f"allow_{index}", compile_pattern(node, 0, source, line, where), source, line)
    if not isinstance(node, dict) or not isinstance(node.get("pattern"), str):
        raise ConfigError(source, line_of(node), f"{where}: an allow entry is a regex string or {{name, pattern, flags}}")
    for k in node:
        if k not in ("name", "pattern", "flags", "description", "examples"):
            raise _fail(source, node, k, where, f"unknown key {k!r}; use name, pattern, flags")
    flags = _parse_flags(node.get("flags"), source, where, node)
    name = str(node.get("name", f"allow_{index}"))
    return AllowPattern(name, compile_pattern(node["pattern"], flags, source, line_of(node, "pattern"), where),
                        source, line_of(node))


def parse_rules_document(doc: Any, source: str) -> tuple[list[Rule], list[AllowPattern]]:
    """A rules file is ``{rules: [...], allow: [...]}`` or a bare list of rules."""
    if doc is None:
        return [], []
    if isinstance(doc, list):
        doc = {"rules": doc}
    if not isinstance(doc, dict):
        raise ConfigError(source, line_of(doc), "a rules file must be a mapping with `rules:` (and optional `allow:`)")
    for k in doc:
        if k not in ("rules", "allow", "version", "macros"):
            raise ConfigError(source, line_of(doc, k),
                              f"unknown key {k!r}; a rules file holds `rules`, `allow` and `macros`")
    macros = _parse_macros(doc.get("macros"), source, doc)
    rules_node = doc.get("rules") or []
    allow_node = doc.get("allow") or []
    if not isinstance(rules_node, list):
        raise ConfigError(source, line_of(doc, "rules"), "`rules` must be a list")
    if not isinstance(allow_node, list):
        raise ConfigError(source, line_of(doc, "allow"), "`allow` must be a list")
    rules = [parse_rule(n, source, i, macros) for i, n in enumerate(rules_node)]
    allow = [parse_allow(n, source, i, line_of(allow_node, i)) for i, n in enumerate(allow_node)]
    return rules, allow


_MACRO_REF = regex.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")


def _parse_macros(node: Any, source: str, doc: Any) -> dict[str, str]:
    """``macros: {name_word: '...'}``: regex fragments a file's patterns use as ``{{name_word}}``."""
    if node is None:
        return {}
    if not isinstance(node, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in node.items()):
        raise ConfigError(source, line_of(doc, "macros"), "macros must map names to regex fragments")
    out: dict[str, str] = {}
    for name, frag in node.items():  # a macro may use the ones defined before it
        if not regex.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ConfigError(source, line_of(node, name), f"macros.{name}: names are lowercase letters, digits, _")
        out[name] = expand_macros(frag, out, source, line_of(node, name), f"macros.{name}")
    return out


def expand_macros(pattern: str, macros: dict[str, str], source: str, line: int | None, where: str) -> str:
    def sub(m: Any) -> str:
        if m.group(1) not in macros:
            raise ConfigError(source, line, f"{where}: unknown macro {{{{{m.group(1)}}}}}; define it under `macros:`")
        return macros[m.group(1)]

    return _MACRO_REF.sub(sub, pattern)

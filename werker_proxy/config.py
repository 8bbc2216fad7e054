"""Settings from YAML (``version: 1``): parse, validate, compile; errors name ``file:line``.

``load_settings(None)`` loads the bundled default config (``config/default.yaml``, shipped in
the wheel as ``werker_proxy.data``). Relative paths in a config are relative to its file.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .hsdb import shared_prefilter
from .redact import Redactor
from .rules import AllowPattern, Rule, RuleSet, parse_allow, parse_rule, parse_rules_document
from .yamlsrc import line_of, load_yaml

DEFAULT_TARGET_HOST = "api.werker.health"
DEFAULT_TARGET_PATHS = ("/v1/responses", "/v1/chat/completions")
TOP_KEYS = {
    "version", "targets", "upstream", "state_dir", "rules_files", "rules", "allow",
    "redaction", "audit", "admin", "logging", "cache_dir",
}
ATTACHMENT_POLICIES = ("block", "strip", "allow")
FSYNC_POLICIES = ("always", "interval", "never")


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Upstream:
    url: str  # scheme://host[:port][/base], no trailing slash
    ca_file: str | None
    scheme: str
    host: str
    port: int
    base_path: str


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    request: bool = True
    response: bool = True
    on_error: str = "block"
    attachments: str = "block"
    rule_timeout_ms: int = 500
    max_body_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AuditSettings:
    path: str
    fsync: str = "always"
    fsync_interval: float = 1.0
    on_failure: str = "block"
    seal_key_file: str | None = None
    seal_every_records: int = 1000
    seal_every_seconds: float = 60.0
    rotate_bytes: int | None = None
    rotate_daily: bool = False


@dataclass(frozen=True, slots=True)
class AdminSettings:
    host: str = "127.0.0.1"
    port: int = 9090


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    format: str = "auto"  # auto | json | console
    level: str = "info"


@dataclass(frozen=True, slots=True)
class Settings:
    source: str
    targets: tuple[Target, ...]
    upstream: Upstream | None
    state_dir: str
    ruleset: RuleSet
    redaction: RedactionPolicy
    audit: AuditSettings
    admin: AdminSettings | None
    logging: LoggingSettings
    rules_sources: tuple[str, ...] = ()
    cache_dir: str | None = None  # compiled rule databases; None: compile at every start
    redactor: Redactor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        timeout = self.redaction.rule_timeout_ms / 1000
        prefilter = shared_prefilter([r.as_written for r in self.ruleset.rules], self.cache_dir)
        object.__setattr__(self, "redactor", Redactor(self.ruleset, rule_timeout_s=timeout, prefilter=prefilter))

    @property
    def ca_cert_path(self) -> str:
        return os.path.join(self.state_dir, "mitmproxy-ca-cert.pem")

    def target_for(self, host: str) -> Target | None:
        host = host.lower().rstrip(".")
        for t in self.targets:
            if t.host == host:
                return t
        return None


def bundled_config_path() -> str:
    """Path of the default config shipped with the package (works from a wheel or a checkout)."""
    try:
        p = resources.files("werker_proxy.data").joinpath("default.yaml")
        if p.is_file():
            return str(p)
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return str(Path(__file__).resolve().parent.parent / "config" / "default.yaml")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, None, f"cannot read file ({e.__class__.__name__}: {e})") from None


BUNDLED_PREFIX = "bundled:"


def _expand(path: str, base_dir: str) -> str:
    if path.startswith(BUNDLED_PREFIX):  # e.g. bundled:rules/*.yaml -> the rules shipped in the wheel
        base_dir, path = os.path.dirname(bundled_config_path()), path[len(BUNDLED_PREFIX):]
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def _mapping(node: Any, source: str, parent: Any, key: str, allowed: set[str]) -> dict[str, Any]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise ConfigError(source, line_of(parent, key), f"{key} must be a mapping")
    for k in node:
        if k not in allowed:
            raise ConfigError(source, line_of(node, k),
                              f"{key}.{k}: unknown key; allowed keys: {', '.join(sorted(allowed))}")
    return node


def _typed(node: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, source: str,
           where: str, *, choices: tuple[str, ...] | None = None) -> Any:
    if key not in node:
        return default
    v = node[key]
    bad = not isinstance(v, kind) or (isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)))
    if bad:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(source, line_of(node, key), f"{where}.{key}: expected {names}, got {v!r}")
    if choices is not None and v not in choices:
        raise ConfigError(source, line_of(node, key), f"{where}.{key}: must be one of {', '.join(choices)}, got {v!r}")
    return v


def _parse_targets(node: Any, source: str, doc: Any) -> tuple[Target, ...]:
    if node is None:
        return (Target(DEFAULT_TARGET_HOST, DEFAULT_TARGET_PATHS),)
    if not isinstance(node, list) or not node:
        raise ConfigError(source, line_of(doc, "targets"), "targets must be a non-empty list of {host, paths}")
    out = []
    for i, t in enumerate(node):
        if not isinstance(t, dict) or not isinstance(t.get("host"), str):
            raise ConfigError(source, line_of(t) or line_of(node, i), f"targets[{i}]: needs a `host` string")
        for k in t:
            if k not in ("host", "paths"):
                raise ConfigError(source, line_of(t, k), f"targets[{i}].{k}: unknown key; use host and paths")
        paths = t.get("paths", list(DEFAULT_TARGET_PATHS))
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
            raise ConfigError(source, line_of(t, "paths"), f"targets[{i}].paths: a list of paths starting with /")
        out.append(Target(t["host"].lower().rstrip("."), tuple(paths)))
    return tuple(out)


def _parse_upstream(node: Any, source: str, doc: Any, base_dir: str) -> Upstream | None:
    if node is None:
        return None
    node = _mapping(node, source, doc, "upstream", {"url", "ca_file"})
    url = node.get("url")
    if not isinstance(url, str):
        raise ConfigError(source, line_of(node), "upstream.url: required, e.g. https://llm.internal.example:8443")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(source, line_of(node, "url"),
                          "upstream.url: must be an https:// URL (upstream TLS is always verified)")
    ca = node.get("ca_file")
    if ca is not None:
        if not isinstance(ca, str):
            raise ConfigError(source, line_of(node, "ca_file"), "upstream.ca_file: a path to a PEM CA bundle")
        ca = _expand(ca, base_dir)
        if not os.path.isfile(ca):
            raise ConfigError(source, line_of(node, "ca_file"), f"upstream.ca_file: no such file {ca}")
    return Upstream(url.rstrip("/"), ca, parts.scheme, parts.hostname, parts.port or 443,
                    parts.path.rstrip("/"))


def _load_rules(doc: dict[str, Any], source: str, base_dir: str) -> tuple[RuleSet, tuple[str, ...]]:
    rules: list[Rule] = []
    allow: list[AllowPattern] = []
    sources: list[str] = []
    files = doc.get("rules_files") or []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(source, line_of(doc, "rules_files"), "rules_files must be a list of paths")
    for i, f in enumerate(files):
        pattern = _expand(f, base_dir)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not all(os.path.isfile(m) for m in matches):
            raise ConfigError(source, line_of(files, i), f"rules_files[{i}]: no such file {pattern}")
        for path in matches:
            r, a = parse_rules_document(load_yaml(_read(path), path), path)
            rules.extend(r)
            allow.extend(a)
            sources.append(path)
    inline = doc.get("rules") or []
    if not isinstance(inline, list):
        raise ConfigError(source, line_of(doc, "rules"), "rules must be a list")
    rules.extend(parse_rule(n, source, i) for i, n in enumerate(inline))
    inline_allow = doc.get("allow") or []
    if not isinstance(inline_allow, list):
        raise ConfigError(source, line_of(doc, "allow"), "allow must be a list")
    allow.extend(parse_allow(n, source, i, line_of(inline_allow, i)) for i, n in enumerate(inline_allow))
    return RuleSet.build(rules, allow), tuple(sources)


def parse_settings(text: str, source: str) -> Settings:
    """Parse one config document (relative paths resolve against ``source``'s directory)."""
    base_dir = os.path.dirname(os.path.abspath(source))
    doc = load_yaml(text, source)
    if not isinstance(doc, dict):
        raise ConfigError(source, line_of(doc, default=1), "a config file must be a YAML mapping with `version: 1`")
    for k in doc:
        if k not in TOP_KEYS:
            raise ConfigError(source, line_of(doc, k), f"unknown key {k!r}; allowed keys: {', '.join(sorted(TOP_KEYS))}")
    if doc.get("version") != 1:
        raise ConfigError(source, line_of(doc, "version", 1), "version: must be 1 (add `version: 1` at the top)")

    state_dir = doc.get("state_dir", "~/.werker-proxy")
    if not isinstance(state_dir, str):
        raise ConfigError(source, line_of(doc, "state_dir"), "state_dir must be a path")
    state_dir = _expand(state_dir, base_dir)
    cache_dir = doc.get("cache_dir", os.path.join(state_dir, "cache"))
    if cache_dir is not False and not isinstance(cache_dir, str):
        raise ConfigError(source, line_of(doc, "cache_dir"), "cache_dir must be a path, or false to keep no cache")
    cache_dir = _expand(cache_dir, base_dir) if cache_dir else None

    r = _mapping(doc.get("redaction"), source, doc, "redaction",
                 {"request", "response", "on_error", "attachments", "rule_timeout_ms", "max_body_bytes"})
    redaction = RedactionPolicy(
        request=_typed(r, "request", bool, True, source, "redaction"),
        response=_typed(r, "response", bool, True, source, "redaction"),
        on_error=_typed(r, "on_error", str, "block", source, "redaction", choices=("block",)),
        attachments=_typed(r, "attachments", str, "block", source, "redaction", choices=ATTACHMENT_POLICIES),
        rule_timeout_ms=_typed(r, "rule_timeout_ms", int, 500, source, "redaction"),
        max_body_bytes=_typed(r, "max_body_bytes", int, 32 * 1024 * 1024, source, "redaction"),
    )

    a = _mapping(doc.get("audit"), source, doc, "audit",
                 {"path", "fsync", "fsync_interval", "on_failure", "seal_key_file", "seal_every_records",
                  "seal_every_seconds", "rotate_bytes", "rotate"})
    seal = _typed(a, "seal_key_file", str, None, source, "audit")
    audit = AuditSettings(
        path=_expand(_typed(a, "path", str, os.path.join(state_dir, "audit", "audit.jsonl"), source, "audit"),
                     base_dir),
        fsync=_typed(a, "fsync", str, "always", source, "audit", choices=FSYNC_POLICIES),
        fsync_interval=float(_typed(a, "fsync_interval", (int, float), 1.0, source, "audit")),
        on_failure=_typed(a, "on_failure", str, "block", source, "audit", choices=("block",)),
        seal_key_file=_expand(seal, base_dir) if seal else None,
        seal_every_records=_typed(a, "seal_every_records", int, 1000, source, "audit"),
        seal_every_seconds=float(_typed(a, "seal_every_seconds", (int, float), 60.0, source, "audit")),
        rotate_bytes=_typed(a, "rotate_bytes", int, None, source, "audit"),
        rotate_daily=_typed(a, "rotate", str, "none", source, "audit", choices=("none", "daily")) == "daily",
    )

    admin = None
    if doc.get("admin") is not None:
        ad = _mapping(doc.get("admin"), source, doc, "admin", {"host", "port"})
        admin = AdminSettings(_typed(ad, "host", str, "127.0.0.1", source, "admin"),
                              _typed(ad, "port", int, 9090, source, "admin"))
    lg = _mapping(doc.get("logging"), source, doc, "logging", {"format", "level"})
    logging_settings = LoggingSettings(
        _typed(lg, "format", str, "auto", source, "logging", choices=("auto", "json", "console")),
        _typed(lg, "level", str, "info", source, "logging", choices=("debug", "info", "warning", "error")),
    )
    ruleset, rules_sources = _load_rules(doc, source, base_dir)
    return Settings(
        source=source,
        targets=_parse_targets(doc.get("targets"), source, doc),
        upstream=_parse_upstream(doc.get("upstream"), source, doc, base_dir),
        state_dir=state_dir,
        ruleset=ruleset,
        redaction=redaction,
        audit=audit,
        admin=admin,
        logging=logging_settings,
        rules_sources=rules_sources,
        cache_dir=cache_dir,
    )


def load_settings(path: str | None = None) -> Settings:
    """Load a config file (``None``: the bundled default)."""
    path = path or bundled_config_path()
    return parse_settings(_read(path), path)

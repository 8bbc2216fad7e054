"""Shared fixtures: small rule sets built from inline YAML, and the bundled rules."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from werker_proxy.config import Settings, load_settings, parse_settings
from werker_proxy.redact import Redactor

REPO = Path(__file__).resolve().parent.parent


def settings_from(yaml_text: str, tmp_path: Path, name: str = "config.yaml") -> Settings:
    path = tmp_path / name
    path.write_text(textwrap.dedent(yaml_text))
    return parse_settings(path.read_text(), str(path))


@pytest.fixture
def make_settings(tmp_path: Path):
    def make(yaml_text: str) -> Settings:
        return settings_from(yaml_text, tmp_path)

    return make


SMALL_RULES = """
version: 1
state_dir: {state}
audit: {{path: {state}/audit.jsonl}}
rules:
  - name: ssn
    label: SSN
    pattern: '(?<!\\d)\\d{{3}}[- ]?\\d{{2}}[- ]?\\d{{4}}(?!\\d)'
    validate: ssn
    examples: {{match: ["SSN 123-45-6789"], no_match: ["000-12-3456"]}}
  - name: phone
    label: PHONE
    pattern: '\\(?\\b\\d{{3}}\\)?[ .-]?\\d{{3}}[ .-]\\d{{4}}\\b'
  - name: patient_name
    label: NAME
    pattern: '(?:Patient|Name)\\s*:\\s*(?P<phi>[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+)'
    propagate: true
  - name: mrn
    label: MRN
    pattern: '\\b\\d{{6,10}}\\b'
    context: {{words: [MRN, medical record], window: 20, required: true}}
  - name: email
    label: EMAIL
    pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.-]+'
    directions: [request]
allow:
  - name: icd10
    pattern: '\\b[A-TV-Z]\\d{{2}}\\.\\d{{1,4}}\\b'
"""


@pytest.fixture
def small(tmp_path: Path) -> Settings:
    return settings_from(SMALL_RULES.format(state=tmp_path), tmp_path)


@pytest.fixture(scope="session")
def redactor() -> Redactor:
    """The bundled default rules (tests of the rule files)."""
    return load_settings(None).redactor


def red(redactor: Redactor, text: str) -> str:
    """``text`` as a request would carry it upstream."""
    return redactor.redact(text, direction="request").text


def gone(out: str, piece: str) -> bool:
    """``piece`` no longer appears in ``out`` as a whole word."""
    return re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", out) is None

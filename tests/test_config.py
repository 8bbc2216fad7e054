"""Config loading: errors name file:line and say what to change."""

from __future__ import annotations

import pytest

from werker_proxy.config import load_settings
from werker_proxy.errors import ConfigError
from tests.conftest import settings_from


def _err(tmp_path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as e:
        settings_from(text, tmp_path)
    return e.value


@pytest.mark.parametrize(
    "body, line, needle",
    [
        ("version: 1\nbogus: 3\n", 2, "unknown key 'bogus'"),
        ("version: 1\nrules:\n  - name: a\n    label: A\n    pattern: '(ab'\n", 5, "invalid regex"),
        ("version: 1\nrules:\n  - label: A\n    pattern: 'x'\n", 3, "needs a `name`"),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n  - name: a\n    pattern: 'y'\n", 5, "duplicate rule name"),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n    validate: mod97\n", 5, "unknown validator"),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n    replacement: '[{nope}]'\n", 5, "unknown placeholder"),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n    replacement: 'a\"b'\n", 5, 'must not contain'),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n    replacement: 'a\\\\b'\n", 5, 'must not contain'),
        ("version: 1\nrules:\n  - name: a\n    pattern: 'x'\n    colour: red\n", 5, "unknown key 'colour'"),
        ("version: 2\n", 1, "version: must be 1"),
        ("version: 1\nredaction:\n  attachments: maybe\n", 3, "must be one of block, strip, allow"),
        ("version: 1\nrules_files: [nope.yaml]\n", 2, "no such file"),
        ("version: 1\nrules: [\n", 3, "invalid YAML"),
        ("version: 1\ncache_dir: 3\n", 2, "cache_dir must be a path, or false"),
        ("version: 1\nallow:\n  - 'ok'\n  - '(['\n", 4, "invalid regex"),
        ("version: 1\nallow: ['ok', '([']\n", 2, "invalid regex"),
    ],
)
def test_bad_config_names_file_line_and_fix(tmp_path, body, line, needle):
    """Each kind of mistake is reported as file:line with a message that says what to change."""
    e = _err(tmp_path, body)
    assert e.line == line, str(e)
    assert needle in str(e)
    assert str(e).startswith(f"{tmp_path / 'config.yaml'}:{line}: ")


def test_cache_dir_defaults_under_state_dir_and_can_be_switched_off(tmp_path):
    """Compiled rule databases go to <state_dir>/cache unless `cache_dir` says otherwise."""
    base = f"version: 1\nstate_dir: {tmp_path / 'st'}\n"
    assert settings_from(base, tmp_path).cache_dir == str(tmp_path / "st" / "cache")
    assert settings_from(base + "cache_dir: c\n", tmp_path).cache_dir == str(tmp_path / "c")
    assert settings_from(base + "cache_dir: false\n", tmp_path).cache_dir is None


def test_error_in_rules_file_points_into_that_file(tmp_path):
    """A broken rule in an included rules file is reported with that file's path and line."""
    (tmp_path / "r.yaml").write_text("rules:\n  - name: ok\n    pattern: 'x'\n  - name: bad\n    pattern: '[z'\n")
    e = _err(tmp_path, "version: 1\nrules_files: [r.yaml]\n")
    assert e.source == str(tmp_path / "r.yaml") and e.line == 5


def test_bundled_default_config_loads():
    """The bundled default config loads and targets the Werker API."""
    s = load_settings(None)
    assert s.targets[0].host == "api.werker.health"
    assert "/v1/responses" in s.targets[0].paths
    assert s.redaction.attachments == "block"


def test_bundled_prefix_reaches_shipped_rules(tmp_path):
    """`bundled:` in rules_files resolves against the config shipped inside the package."""
    from werker_proxy.config import bundled_config_path
    import os
    rules_dir = os.path.join(os.path.dirname(bundled_config_path()), "rules")
    s = settings_from("version: 1\nrules_files: ['bundled:rules/*.yaml']\n", tmp_path)
    assert s.rules_sources and all(p.startswith(rules_dir) for p in s.rules_sources)

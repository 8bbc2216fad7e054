"""The command line: check, redact, ca, exit codes; the shipped configs pass `check`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "werker_proxy.cli"]


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_check_default_config_runs_every_example():
    """`check` on the bundled config runs every rule's examples and exits 0."""
    r = run("check")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK:") and "examples passed" in r.stdout


@pytest.mark.parametrize("config", ["systemd/config.yaml", "deploy/container-config.yaml"])
def test_shipped_deployment_configs_pass_check(config):
    """The configs shipped for systemd and containers are valid and carry the default rules."""
    r = run("check", "--config", str(REPO / config))
    assert r.returncode == 0, r.stderr


def test_check_broken_config_prints_file_line(tmp_path):
    """A broken rule makes `check` print file:line: message and exit non-zero."""
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("version: 1\nrules:\n  - name: broken\n    pattern: '(unclosed'\n")
    r = run("check", "--config", str(cfg))
    assert r.returncode == 1
    assert r.stderr.startswith(f"{cfg}:4: ") and "invalid regex" in r.stderr


def test_check_reports_failing_example(tmp_path):
    """A rule whose own match example does not match fails `check` with its location."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\nrules:\n  - name: digits\n    pattern: '\\d{5}'\n"
                   "    examples: {match: ['12 34'], no_match: ['abc']}\n")
    r = run("check", "--config", str(cfg))
    assert r.returncode == 1 and f"{cfg}:3: rule digits: finds nothing in match example" in r.stderr


def test_redact_plain_text_from_stdin_prints_counts(tmp_path):
    """`redact` prints scrubbed text on stdout and counts per rule on stderr."""
    r = run("redact", "-", stdin="Patient SSN 123-45-6789 and 123-45-6780.\n")
    assert r.returncode == 0, r.stderr
    assert "6789" not in r.stdout and "6780" not in r.stdout
    assert "redactions: 2" in r.stderr


def test_redact_json_and_jsonl(tmp_path):
    """`--json` scrubs one body keeping structure; `--jsonl` scrubs one document per line."""
    body = {"model": "gpt-4o-2024-08-06", "input": "SSN 123-45-6789"}
    r = run("redact", "--json", "-", stdin=json.dumps(body))
    out = json.loads(r.stdout)
    assert out["model"] == body["model"] and "6789" not in out["input"]
    lines = "\n".join(json.dumps({"input": f"SSN 123-45-678{i}"}) for i in range(3))
    r = run("redact", "--jsonl", "-", stdin=lines)
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(docs) == 3 and all("678" not in d["input"] for d in docs)


def test_redact_refuses_malformed_json_and_prints_nothing():
    """Input that cannot be scrubbed exits 3 and nothing reaches stdout (fail closed)."""
    r = run("redact", "--json", "-", stdin='{"input": "SSN 123-45-6789"')
    assert r.returncode == 3 and r.stdout == "" and "malformed_body" in r.stderr


def test_ca_prints_path_under_state_dir(tmp_path):
    """`ca` prints <state_dir>/mitmproxy-ca-cert.pem for the given config."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"version: 1\nstate_dir: {tmp_path}/st\nrules: [{{name: x, pattern: 'x'}}]\n")
    r = run("ca", "--config", str(cfg))
    assert r.returncode == 0 and r.stdout.strip() == f"{tmp_path}/st/mitmproxy-ca-cert.pem"


def test_help_documents_exit_codes():
    """`--help` lists the exit codes."""
    r = run("--help")
    assert r.returncode == 0 and "Exit codes" in r.stdout and "3  input that cannot be scrubbed" in r.stdout


def test_config_from_environment(tmp_path):
    """WERKER_PROXY_CONFIG is used when --config is absent."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("version: 1\nbogus: 1\n")
    import os
    r = subprocess.run([*CLI, "check"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "WERKER_PROXY_CONFIG": str(cfg)})
    assert r.returncode == 1 and str(cfg) in r.stderr

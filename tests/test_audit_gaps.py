"""Audit gaps found by a black-box probe: a cut log start, raw PHI in copied strings, byte edits."""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from tests.test_audit_cli import run, write_log
from werker_proxy import audit, audit_cli
from werker_proxy.audit import (
    GENESIS, build_record, encode_line, scrub_fields, scrub_text, verify_files, verify_lines,
)
from werker_proxy.auditlog import AuditLog, rotated_files
from werker_proxy.errors import AuditError

T0 = datetime(2026, 11, 29, 14, 0, 0, 123456, tzinfo=timezone.utc)
SSN = "123-45-6789"


def chain(n: int) -> list[bytes]:
    lines, prev = [], GENESIS
    for seq in range(1, n + 1):
        rec = build_record({"event": "request", "flow_id": f"f{seq}"}, seq=seq, prev=prev,
                           now=T0 + timedelta(seconds=seq))
        lines.append(encode_line(rec))
        prev = rec["hash"]
    return lines


def fake_redact(text: str) -> str:
    """Stands in for the configured redactor: word-bounded SSNs, like the default rule."""
    import re
    return re.sub(r"(?<!\w)\d{3}-\d{2}-\d{4}(?!\w)", "[SSN]", text)


# --- 1. a log whose first records were deleted ---------------------------------------------


@pytest.mark.parametrize("cut", [1, 2, 5])
def test_series_that_does_not_start_at_seq_1_fails_on_its_first_line(cut):
    """Deleting the first records is a deletion, named at the first line, not a note."""
    result = verify_lines(chain(10)[cut:], name="a.jsonl")
    assert not result.ok
    assert (result.problem.file, result.problem.line, result.problem.kind) == \
        ("a.jsonl", 1, audit.DELETED)
    assert f"seq {cut + 1}" in result.problem.message and "--from-seq" in result.problem.message


def test_pruned_series_verifies_when_the_start_is_declared():
    """start=N accepts exactly a series starting at seq N; start=None accepts any start."""
    lines = chain(10)[3:]
    assert verify_lines(lines, start=4).ok
    assert verify_lines(lines, start=None).ok
    for wrong, kind in ((1, audit.DELETED), (3, audit.DELETED), (5, audit.BAD_START)):
        result = verify_lines(lines, start=wrong)
        assert not result.ok and result.problem.line == 1 and result.problem.kind == kind
    ok = verify_lines(lines, start=None)
    assert any("seq 4" in n and orjson.loads(lines[0])["prev"] in n for n in ok.notes)


def test_declared_start_still_catches_a_deletion_after_it():
    """--from-seq only excuses records before N."""
    lines = chain(10)[3:]
    del lines[4]
    result = verify_lines(lines, start=4)
    assert not result.ok and result.problem.kind == audit.DELETED and result.problem.line == 5


def test_start_one_still_requires_the_genesis_prev():
    """A first record claiming seq 1 with another prev is a broken link."""
    rec = build_record({"event": "request"}, seq=1, prev="1" * 64, now=T0)
    result = verify_lines([encode_line(rec)])
    assert not result.ok and result.problem.kind == audit.BROKEN_LINK


def test_cli_rejects_a_log_with_its_first_line_deleted(tmp_path, capsys):
    """`sed -i 1d audit.jsonl` with the head file present exits 1 and names line 1."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 10)
    lines = open(path, "rb").readlines()
    open(path, "wb").writelines(lines[1:])
    assert run("verify", path) == 1
    assert f"{path}:1: deleted: " in capsys.readouterr().err
    assert run("verify", "--from-seq", "2", path) == 0
    assert run("verify", "--allow-pruned", path) == 0
    out = capsys.readouterr().out
    assert "seq 2" in out
    assert run("verify", "--from-seq", "3", path) == 1


def test_cli_from_config_rejects_two_deleted_first_records(tmp_path, capsys):
    """`audit verify --config F` without rotated files exits 1 when records 1-2 are gone."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 10)
    lines = open(path, "rb").readlines()
    open(path, "wb").writelines(lines[2:])
    parser = argparse.ArgumentParser()
    audit_cli.add_audit_subcommands(parser.add_subparsers(dest="command"),
                                    load_audit_path=lambda config: path)
    args = parser.parse_args(["audit", "verify", "--config", "c.yaml"])
    assert args.func(args) == 1
    assert ":1: deleted: " in capsys.readouterr().err


def test_cli_missing_oldest_rotated_file_fails_unless_declared(tmp_path, capsys):
    """Leaving out the oldest rotated file is caught; --allow-pruned checks the rest."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 30, rotate_bytes=1000)
    olds = rotated_files(path)
    assert len(olds) >= 2
    assert run("verify", *olds[1:], path) == 1
    assert f"{olds[1]}:1: deleted: " in capsys.readouterr().err
    assert run("verify", "--allow-pruned", *olds[1:], path) == 0


def test_cli_from_seq_and_allow_pruned_are_exclusive(tmp_path):
    """The two ways to declare a pruned log cannot be combined; --from-seq must be >= 1."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 3)
    with pytest.raises(SystemExit):
        run("verify", "--from-seq", "2", "--allow-pruned", path)
    assert run("verify", "--from-seq", "0", path) == 2


def test_emptied_log_with_head_file_is_truncated(tmp_path, capsys):
    """Emptying the current file while its head file names records is a truncation."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 5)
    open(path, "wb").close()
    assert run("verify", path) == 1
    assert ": truncated: " in capsys.readouterr().err


# --- 3. any byte edit ---------------------------------------------------------------------


@pytest.mark.parametrize("edit", [
    lambda line: line[:-1] + b"\r\n",           # CRLF line end
    lambda line: line[:-1] + b" \n",            # trailing space
    lambda line: line[:-1] + b"\r\r\n",
])
def test_any_byte_added_to_a_line_is_an_edit(edit):
    """Each line must be exactly the canonical serialization of its record."""
    lines = chain(5)
    lines[2] = edit(lines[2])
    result = verify_lines(lines, name="a.jsonl")
    assert not result.ok
    assert (result.problem.line, result.problem.kind) == (3, audit.EDITED)


def test_trailing_cr_on_the_last_line_is_an_edit():
    """The last line too (a trailing CR there is not a half-written line either)."""
    lines = chain(5)
    lines[-1] = lines[-1][:-1] + b"\r\n"
    result = verify_lines(lines)
    assert not result.ok and result.problem.kind == audit.EDITED


# --- 2. copied strings are scrubbed -------------------------------------------------------


def test_scrub_text_catches_values_glued_by_underscores():
    """Upstream ids join parts with `_`, which hides a value from word-bounded rules."""
    assert scrub_text(f"ssn-{SSN}", fake_redact) == "ssn-[SSN]"
    assert scrub_text(f"resp_{SSN}", fake_redact) == "resp_[SSN]"
    assert scrub_text(f"a_{SSN}_b", fake_redact) == "a_[SSN]_b"
    assert scrub_text("resp_67ab12cd34ef", fake_redact) == "resp_67ab12cd34ef"


def test_scrub_fields_scrubs_every_copied_string_but_codes_and_digests():
    """model, response_id, method, path, metadata keys and values and usage keys. (``host`` is the
    configured target the call matched, copied as it is: a domain would read as a URL.)"""
    fields = {
        "event": "response", "flow_id": "f1", "outcome": "completed", "reason": None,
        "method": SSN, "host": "api.werker.health", "path": f"/v1/{SSN}", "model": f"ssn-{SSN}",
        "response_id": f"resp_{SSN}", "metadata": {SSN: [f"x {SSN}", 1, {"k": SSN}]},
        "usage": {SSN: 3, "input_tokens": 5}, "request_sha256": "a" * 64,
        "redactions": {"request": {"ssn": 1}}, "status": 200, "stream": False,
    }
    out = scrub_fields(fields, fake_redact)
    assert SSN not in orjson.dumps(out).decode()
    assert out["model"] == "ssn-[SSN]" and out["response_id"] == "resp_[SSN]"
    assert out["metadata"] == {"[SSN]": ["x [SSN]", 1, {"k": "[SSN]"}]}
    for k in ("event", "flow_id", "outcome", "reason", "request_sha256", "redactions", "status",
              "stream", "host"):
        assert out[k] == fields[k]
    assert fields["model"] == f"ssn-{SSN}"  # the input is not changed


def test_writer_scrubs_before_hashing_and_writing(tmp_path):
    """AuditLog(scrub=...) never writes the raw value; the chain still verifies."""
    path = str(tmp_path / "audit.jsonl")
    with AuditLog(path, fsync="never", scrub=fake_redact) as log:
        rec = log.append({"event": "request", "model": f"ssn-{SSN}", "response_id": f"resp_{SSN}"})
    data = open(path, "rb").read()
    assert SSN.encode() not in data and rec["model"] == "ssn-[SSN]"
    assert verify_files([(path, data.splitlines(keepends=True))]).ok


def test_writer_scrub_failure_writes_nothing(tmp_path):
    """A scrubber that raises fails the append (the call is blocked); nothing raw is written."""
    def broken(text: str) -> str:
        raise RuntimeError("rule timed out")

    path = str(tmp_path / "audit.jsonl")
    with AuditLog(path, fsync="never", scrub=broken) as log:
        with pytest.raises(AuditError):
            log.append({"event": "request", "model": f"ssn-{SSN}"})
        assert log.seq == 0
    assert SSN.encode() not in open(path, "rb").read()


def test_writer_scrubber_can_be_replaced_on_reload(tmp_path):
    """The addon swaps the scrubber when a new config (new rules) is loaded."""
    path = str(tmp_path / "audit.jsonl")
    with AuditLog(path, fsync="never") as log:
        log.scrub = fake_redact
        rec = log.append({"event": "request", "model": SSN})
    assert rec["model"] == "[SSN]"


def test_default_rules_scrub_the_probe_values(tmp_path):
    """With the default redactor, the probe's model and response id leave no SSN in the log."""
    from werker_proxy.config import load_settings
    redactor = load_settings(None).redactor
    path = str(tmp_path / "audit.jsonl")
    with AuditLog(path, fsync="never",
                  scrub=lambda text: redactor.redact(text, "request").text) as log:
        log.append({"event": "request", "model": f"ssn-{SSN}", "response_id": None})
        log.append({"event": "response", "model": f"ssn-{SSN}", "response_id": f"resp_{SSN}"})
    assert SSN.encode() not in open(path, "rb").read()
    assert os.path.exists(path)


def test_missing_start_names_the_rotated_file_it_continues(tmp_path, capsys):
    """When the first file given starts with a `rotated` record, the message names the file
    that is missing."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 30, rotate_bytes=1000)
    olds = rotated_files(path)
    assert run("verify", *olds[1:], path) == 1
    assert f"continues {os.path.basename(olds[0])}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["werker-123-45-6789", "chatcmpl-123-45-6789", "ft:model:123-45-6789",
                                   "org/123-45-6789", "resp_123-45-6789", "x.maria.lopez@mail.org"])
def test_copied_values_hiding_an_identifier_behind_a_separator_are_scrubbed(value):
    """The default rules do not read an SSN right after a hyphen (it could be the end of a longer
    number); a copied model name or chat id is built exactly like that (black-box probe)."""
    from werker_proxy.config import load_settings
    redactor = load_settings(None).redactor
    out = scrub_text(value, lambda t: redactor.redact(t, direction="request").text)
    assert "6789" not in out and "lopez" not in out, out
    assert scrub_text("gpt-4o-mini", lambda t: redactor.redact(t, direction="request").text) == "gpt-4o-mini"

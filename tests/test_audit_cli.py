"""`audit verify` and `audit keygen`: output and exit codes, run in-process."""

from __future__ import annotations

import argparse
import os
import stat

import pytest

from werker_proxy import audit_cli
from werker_proxy.audit import parse_key_file
from werker_proxy.auditlog import AuditLog, rotated_files


def run(*argv: str) -> int:
    return audit_cli.main(["audit", *argv])


def write_log(path: str, n: int = 20, **kw) -> None:
    with AuditLog(path, fsync="never", **kw) as log:
        for i in range(n):
            log.append({"event": "request", "flow_id": f"f{i}"})


@pytest.fixture
def keyed(tmp_path):
    """(seal key path, verify key path) made by `audit keygen`."""
    seal, verify = str(tmp_path / "seal.key"), str(tmp_path / "verify.key")
    assert run("keygen", "--seal-key", seal, "--verify-key", verify) == 0
    return seal, verify


def test_verify_ok_prints_summary(tmp_path, capsys):
    """A good rotated series given in any order exits 0 with `OK: N records, S seals, F files`."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 30, rotate_bytes=1000)
    files = [path, *rotated_files(path)]
    assert run("verify", *files, path + ".head") == 0  # as a shell glob `audit.jsonl*` gives
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {30 + len(files) - 1} records, 0 seals, {len(files)} files\n")


def test_verify_names_the_first_bad_line(tmp_path, capsys):
    """An edited record exits 1 with `FILE:LINE: kind: why`."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 5)
    lines = open(path, "rb").read().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"f2"', b'"f9"')
    open(path, "wb").write(b"".join(lines))
    assert run("verify", path) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:3: edited: ")


def test_verify_uses_the_head_file(tmp_path, capsys):
    """Cutting the last records is a failure because of the head file next to the log."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 5)
    lines = open(path, "rb").read().splitlines(keepends=True)
    open(path, "wb").write(b"".join(lines[:3]))
    assert run("verify", path) == 1
    assert f"{path}:4: truncated: " in capsys.readouterr().err


def test_verify_with_key(tmp_path, keyed, capsys):
    """With the verification key seals are checked; the wrong key exits 1."""
    seal, verify = keyed
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 25, seal_key_file=seal, seal_every_records=10)
    assert run("verify", "--key", verify, path) == 0
    assert " 0 seals" not in capsys.readouterr().out
    other = str(tmp_path / "other")
    assert run("keygen", "--seal-key", other + ".s", "--verify-key", other) == 0
    assert run("verify", "--key", other, path) == 1
    assert ": seal: " in capsys.readouterr().err


def test_keygen_files_are_private_and_not_overwritten(keyed, capsys):
    """keygen writes the same key 0 to both files, mode 0600, and refuses to overwrite."""
    seal, verify = keyed
    assert open(seal, "rb").read() == open(verify, "rb").read()
    assert parse_key_file(open(seal, "rb").read()).index == 0
    assert stat.S_IMODE(os.stat(seal).st_mode) == 0o600
    assert run("keygen", "--seal-key", seal, "--verify-key", verify) == 2
    assert "--force" in capsys.readouterr().err
    assert run("keygen", "--seal-key", seal, "--verify-key", verify, "--force") == 0


def test_keygen_can_print_the_verification_key(tmp_path, capsys):
    """`--verify-key -` prints the key so it never lands on this host's disk."""
    seal = str(tmp_path / "seal.key")
    assert run("keygen", "--seal-key", seal, "--verify-key", "-") == 0
    out = capsys.readouterr().out
    assert parse_key_file(out.encode()) == parse_key_file(open(seal, "rb").read())
    assert os.listdir(tmp_path) == ["seal.key"]


def test_usage_and_io_errors_exit_2(tmp_path, capsys):
    """A missing file, an unreadable key or no FILE at all exits 2."""
    assert run("verify", str(tmp_path / "nope")) == 2
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 2)
    (tmp_path / "bad.key").write_text("not a key")
    assert run("verify", "--key", str(tmp_path / "bad.key"), path) == 2
    assert run("verify") == 2
    assert "FILE" in capsys.readouterr().err


def test_verify_takes_the_path_from_the_config_loader(tmp_path, capsys):
    """Without FILE, the injected loader names the log; it and its rotated files are checked."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 30, rotate_bytes=1000)
    seen = []

    def loader(config):
        seen.append(config)
        return path

    parser = argparse.ArgumentParser()
    audit_cli.add_audit_subcommands(parser.add_subparsers(dest="command"), load_audit_path=loader)
    args = parser.parse_args(["audit", "verify", "--config", "c.yaml"])
    assert args.func(args) == 0 and seen == ["c.yaml"]
    assert f"{len(rotated_files(path)) + 1} files" in capsys.readouterr().out


def test_verify_from_config_catches_a_deleted_current_file(tmp_path, capsys):
    """If the current log is deleted, its head file still shows that records are missing."""
    path = str(tmp_path / "audit.jsonl")
    write_log(path, 30, rotate_bytes=1000)
    os.unlink(path)
    parser = argparse.ArgumentParser()
    audit_cli.add_audit_subcommands(parser.add_subparsers(dest="command"),
                                    load_audit_path=lambda config: path)
    args = parser.parse_args(["audit", "verify"])
    assert args.func(args) == 1
    assert ": truncated: " in capsys.readouterr().err

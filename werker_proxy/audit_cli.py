"""``werker-proxy audit verify`` and ``werker-proxy audit keygen`` (argparse glue).

``cli.py`` calls ``add_audit_subcommands(subparsers, load_audit_path=...)``; each subcommand
sets ``func`` (call ``args.func(args)`` to get the exit code): 0 ok, 1 the log failed
verification, 2 usage or I/O error. ``load_audit_path(config_or_None) -> str`` gives the audit
path from the config; ``verify`` without FILE then checks that file and its rotated files.
Also runnable as ``python -m werker_proxy.audit_cli audit verify FILE...``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from werker_proxy.audit import Head, SealKey, format_key_file, new_key, parse_head, parse_key_file
from werker_proxy.audit import verify_files
from werker_proxy.auditlog import rotated_files

AuditPathLoader = Callable[[str | None], str]

OK, FAILED, USAGE = 0, 1, 2


def add_audit_subcommands(
    subparsers: Any, *, load_audit_path: AuditPathLoader | None = None
) -> argparse.ArgumentParser:
    """Add ``audit verify`` and ``audit keygen`` to ``subparsers``; returns the ``audit`` parser."""
    audit = subparsers.add_parser("audit", help="check or key the tamper-evident audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="{verify,keygen}", required=True)

    verify = sub.add_parser(
        "verify", help="check the hash chain (and seals) of audit files",
        description="Check the hash chain across rotated audit files given in any order, the "
        "head file next to each, and with --key every seal. Prints `OK: N records, S seals, "
        "F files` (exit 0) or `FILE:LINE: KIND: WHY` for the first bad line (exit 1). The "
        "series must start at seq 1 unless --from-seq or --allow-pruned says it was pruned.")
    verify.add_argument("files", nargs="*", metavar="FILE",
                        help="audit files; default: the config's audit path and its rotated files")
    verify.add_argument("--key", metavar="F", help="verification key from `audit keygen`")
    verify.add_argument("--config", metavar="F", help="config that names the audit path")
    pruned = verify.add_mutually_exclusive_group()
    pruned.add_argument("--from-seq", type=int, metavar="N",
                        help="the records before seq N were archived or removed on purpose: the "
                        "series must start exactly at seq N (default: 1, the whole log)")
    pruned.add_argument("--allow-pruned", action="store_true",
                        help="accept a series starting at any seq (e.g. one day's files); a note "
                        "gives its first seq and prev to match against the earlier files")
    verify.set_defaults(func=cmd_verify, load_audit_path=load_audit_path)

    keygen = sub.add_parser(
        "keygen", help="create the forward-secure sealing key",
        description="Create key 0. The seal key file goes on the host (audit.seal_key_file; the "
        "proxy replaces it by the next key after each seal). Keep the verification key OFF "
        "the host: it re-derives every later key, so whoever holds it could forge seals.")
    keygen.add_argument("--seal-key", required=True, metavar="F",
                        help="key file for the proxy (created 0600)")
    keygen.add_argument("--verify-key", required=True, metavar="F",
                        help="verification copy; `-` prints it to stdout so it never "
                        "touches this host's disk")
    keygen.add_argument("--force", action="store_true", help="overwrite existing key files")
    keygen.set_defaults(func=cmd_keygen)
    return audit


def _load_key(path: str) -> SealKey:
    with open(path, "rb") as f:
        return parse_key_file(f.read())


def _head_for(path: str) -> Head | None:
    try:
        with open(path + ".head", "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    try:
        return parse_head(data) if data else None
    except ValueError as e:
        raise ValueError(f"{path}.head: {e}") from e


def cmd_verify(args: argparse.Namespace) -> int:
    """Run ``audit verify``; prints the result and returns the exit code."""
    # `audit.jsonl*` also matches the head file (and its temp file): they are not logs
    files: list[str] = [f for f in args.files if not f.endswith((".head", ".head.tmp"))]
    from_seq = getattr(args, "from_seq", None)
    if from_seq is not None and from_seq < 1:
        print("audit verify: --from-seq must be 1 or more", file=sys.stderr)
        return USAGE
    start = None if getattr(args, "allow_pruned", False) else (from_seq or 1)
    path = ""
    if not args.files:
        loader: AuditPathLoader | None = getattr(args, "load_audit_path", None)
        if loader is None:
            print("audit verify: give the audit FILEs to check", file=sys.stderr)
            return USAGE
        try:
            path = loader(args.config)
        except Exception as e:  # the loader's own error (bad config) is a usage error
            print(f"audit verify: {e}", file=sys.stderr)
            return USAGE
        files = [*rotated_files(path), *([path] if os.path.exists(path) else [])]
        if not files:
            print(f"audit verify: no audit files at {path}", file=sys.stderr)
            return USAGE
    elif not files:
        print("audit verify: no audit FILE among the arguments", file=sys.stderr)
        return USAGE
    try:
        key = _load_key(args.key) if args.key else None
        heads = {f: h for f in files if (h := _head_for(f)) is not None}
        if path and not os.path.exists(path) and (h := _head_for(path)) is not None:
            heads[files[-1]] = h  # the current file is gone; its head still counts
        with contextlib.ExitStack() as stack:
            opened = [(f, stack.enter_context(open(f, "rb"))) for f in files]
            result = verify_files(opened, key=key, heads=heads, start=start)
    except (OSError, ValueError) as e:
        where = getattr(e, "filename", None) or ""
        print(f"audit verify: {where + ': ' if where else ''}{getattr(e, 'strerror', None) or e}",
              file=sys.stderr)
        return USAGE
    if not result.ok:
        print(result.summary(), file=sys.stderr)
        print(f"FAILED after {result.records} good records (last good seq {result.last_seq})",
              file=sys.stderr)
        return FAILED
    print(result.summary())
    for note in result.notes:
        print(f"note: {note}")
    return OK


def _create(path: str, data: bytes, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def cmd_keygen(args: argparse.Namespace) -> int:
    """Run ``audit keygen``: write key 0 to the seal key file and the verification copy."""
    key = new_key(os.urandom(32))
    data = format_key_file(key)
    try:
        _create(args.seal_key, data, args.force)
        if args.verify_key != "-":
            try:
                _create(args.verify_key, data, args.force)
            except OSError:
                os.unlink(args.seal_key)  # no seal key without its verification copy
                raise
    except OSError as e:
        print(f"audit keygen: {e.filename}: {e.strerror}"
              + (" (use --force to replace it)" if isinstance(e, FileExistsError) else ""),
              file=sys.stderr)
        return USAGE
    if args.verify_key == "-":
        sys.stdout.write(data.decode())
    print(f"audit keygen: key id {key.key_id}: seal key {args.seal_key}; move the verification "
          "key off this host and keep it safe", file=sys.stderr)
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="werker-proxy")
    add_audit_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

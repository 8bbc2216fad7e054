"""``werker-proxy`` command line: run, check, redact, ca, health, audit.

Exit codes:
  0  success
  1  invalid config or rules (``file:line: message`` on stderr), a failed rule example,
     or (``audit verify``) a tampered / broken audit trail
  2  usage error (bad flags, unreadable input file)
  3  input that cannot be scrubbed (malformed JSON, blocked attachment, rule time-out):
     nothing is printed on stdout
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import ConfigError, WerkerError

EXIT_OK, EXIT_CONFIG, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3
CONFIG_ENV = "WERKER_PROXY_CONFIG"


def _config_path(args: argparse.Namespace) -> str | None:
    return args.config or os.environ.get(CONFIG_ENV) or None


def _load_path(config: str | None) -> str:
    from .config import load_settings

    return load_settings(config or os.environ.get(CONFIG_ENV) or None).audit.path


def _load(args: argparse.Namespace):  # -> Settings
    from .config import load_settings

    return load_settings(_config_path(args))


def cmd_check(args: argparse.Namespace) -> int:
    from .examples import run_examples

    settings = _load(args)
    failures, n_examples = run_examples(settings)
    for f in failures:
        print(f, file=sys.stderr)
    rules = settings.ruleset.rules
    if not rules:
        print(f"{settings.source}: no rules are configured; nothing would be scrubbed", file=sys.stderr)
        return EXIT_CONFIG
    if failures:
        print(f"FAILED: {len(failures)} of {n_examples} rule examples", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"OK: {settings.source}: {len(rules)} rules, {len(settings.ruleset.allow)} allow patterns, "
        f"{n_examples} examples passed ({len(settings.rules_sources)} rule files)"
    )
    return EXIT_OK


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _print_counts(counts: dict[str, int]) -> None:
    if not counts:
        print("redactions: none", file=sys.stderr)
        return
    total = sum(counts.values())
    print(f"redactions: {total}", file=sys.stderr)
    for name in sorted(counts):
        print(f"  {name}: {counts[name]}", file=sys.stderr)


def cmd_redact(args: argparse.Namespace) -> int:
    from .payload import scrub_body_bytes
    from .redact import add_counts

    settings = _load(args)
    try:
        raw = _read_input(args.file)
    except OSError as e:
        print(f"werker-proxy redact: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return EXIT_USAGE
    redactor = settings.redactor
    policy = settings.redaction.attachments
    counts: dict[str, int] = {}
    try:
        if args.json:
            out, report, _ = scrub_body_bytes(raw, redactor, args.direction, attachments=policy)
            counts = report.counts
            result = out + b"\n"
        elif args.jsonl:
            lines = []
            for n, line in enumerate(raw.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    out, report, _ = scrub_body_bytes(line, redactor, args.direction, attachments=policy)
                except WerkerError as e:
                    raise WerkerError(f"line {n}: {e.message}", code=e.code, status=e.status) from None
                add_counts(counts, report.counts)
                lines.append(out)
            result = b"\n".join(lines) + (b"\n" if lines else b"")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                print("werker-proxy redact: input is not UTF-8 text", file=sys.stderr)
                return EXIT_INPUT
            r = redactor.redact(text, args.direction)
            counts = r.counts
            result = r.text.encode("utf-8")
    except WerkerError as e:
        print(f"werker-proxy redact: {e.code}: {e.message}", file=sys.stderr)
        return EXIT_INPUT
    sys.stdout.buffer.write(result)
    sys.stdout.buffer.flush()
    _print_counts(counts)
    return EXIT_OK


def cmd_ca(args: argparse.Namespace) -> int:
    settings = _load(args)
    print(settings.ca_cert_path)
    if not os.path.exists(settings.ca_cert_path):
        print("(not created yet: it is generated the first time `werker-proxy run` starts)", file=sys.stderr)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run

    return run(_config_path(args), args.listen_host, args.listen_port, args.mode)


def cmd_health(args: argparse.Namespace) -> int:
    from .runner import health

    return health(_config_path(args), args.url)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="werker-proxy",
        description="Scrub PHI from calls to the Werker Health LLM API.",
        epilog=__doc__.split("\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"werker-proxy {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", "-c", metavar="FILE",
                        help=f"config file (default: ${CONFIG_ENV}, else the bundled default)")
        return sp

    r = with_config(sub.add_parser("run", help="start the proxy"))
    r.add_argument("--listen-host", default=None, help="address to listen on (default 127.0.0.1)")
    r.add_argument("--listen-port", type=int, default=None, help="port to listen on (default 8080)")
    r.add_argument("--mode", choices=("regular", "reverse"), default="regular",
                   help="regular: HTTPS_PROXY forward proxy; reverse: apps use base_url=http://HOST:PORT/v1")
    r.set_defaults(func=cmd_run)

    c = with_config(sub.add_parser("check", help="validate config and rules, run every rule example"))
    c.set_defaults(func=cmd_check)

    d = with_config(sub.add_parser("redact", help="dry run: print the redacted input, counts on stderr"))
    d.add_argument("--direction", choices=("request", "response"), default="request")
    mode = d.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="input is one JSON request/response body")
    mode.add_argument("--jsonl", action="store_true", help="input is one JSON document per line")
    d.add_argument("file", nargs="?", default="-", metavar="FILE", help="input file, or - for stdin (default)")
    d.set_defaults(func=cmd_redact)

    ca = with_config(sub.add_parser("ca", help="print the path of the CA certificate clients must trust"))
    ca.set_defaults(func=cmd_ca)

    h = with_config(sub.add_parser("health", help="exit 0 if the running proxy's admin /healthz is OK"))
    h.add_argument("--url", default=None, help="admin base URL (default: from the config's admin section)")
    h.set_defaults(func=cmd_health)

    try:
        from .audit_cli import add_audit_subcommands
    except ImportError:  # pragma: no cover - audit module is part of the package
        pass
    else:
        add_audit_subcommands(sub, load_audit_path=lambda c: _load_path(c))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as e:  # every command that loads a config reports it the same way
        print(str(e), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

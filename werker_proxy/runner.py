"""``werker-proxy run``: mitmproxy in-process with our addon registered before options apply.

A bad config therefore exits non-zero at start (systemd sees it) instead of being logged by a
script loader. SIGHUP, or a change of the config or rules files, reloads; a bad new config is
refused with ``file:line`` in the log and the old one keeps serving. SIGTERM/SIGINT stop cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import urllib.error
import urllib.request

import structlog

from .config import Settings, bundled_config_path, load_settings
from .errors import ConfigError
from .logs import configure_logging

log = structlog.get_logger("werker_proxy")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
WATCH_INTERVAL_S = 1.0
CA_BUNDLE_NAME = "werker-ca-bundle.pem"


def write_ca_bundle(settings: Settings) -> str | None:
    """System roots + our CA in one file, so SSL_CERT_FILE can point at it without breaking other hosts."""
    try:
        import certifi

        with open(certifi.where(), "rb") as f:
            roots = f.read()
        with open(settings.ca_cert_path, "rb") as f:
            ours = f.read()
    except OSError:
        return None
    path = os.path.join(settings.state_dir, CA_BUNDLE_NAME)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(roots.rstrip(b"\n") + b"\n" + ours)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _print_banner(settings: Settings, host: str, port: int, mode: str, bundle: str | None) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    lines = [f"werker-proxy listening on {host}:{port} ({mode} mode), config {settings.source}"]
    lines.append(f"CA certificate: {settings.ca_cert_path}")
    if mode == "reverse":
        lines.append(f"Point an app at it:  export OPENAI_BASE_URL=http://{shown}:{port}/v1")
    else:
        lines.append("Point an app at it:")
        lines.append(f"  export HTTPS_PROXY=http://{shown}:{port}")
        if bundle:
            lines.append(f"  export SSL_CERT_FILE={bundle} REQUESTS_CA_BUNDLE={bundle}   # Python")
        lines.append(f"  export NODE_EXTRA_CA_CERTS={settings.ca_cert_path}   # Node")
    lines.append(f"Audit log: {settings.audit.path}")
    print("\n".join(lines), flush=True)


def run(config_path: str | None, listen_host: str | None, listen_port: int | None, mode: str) -> int:
    try:
        settings = load_settings(config_path)
    except ConfigError as e:
        print(f"werker-proxy: {e}", file=sys.stderr)
        return 1
    configure_logging(settings.logging.format, settings.logging.level)
    os.makedirs(settings.state_dir, mode=0o700, exist_ok=True)
    try:
        return asyncio.run(_main(settings, config_path, listen_host or DEFAULT_HOST,
                                 DEFAULT_PORT if listen_port is None else listen_port, mode))
    except KeyboardInterrupt:
        return 0


async def _main(settings: Settings, config_path: str | None, host: str, port: int, mode: str) -> int:
    from mitmproxy import exceptions, options
    from mitmproxy.tools.dump import DumpMaster

    from .addon import WerkerProxy
    from .admin import AdminServer

    opts = options.Options()
    master = DumpMaster(opts, with_termlog=True, with_dumper=False)
    proxy = WerkerProxy(config_path)
    master.addons.add(proxy)
    target = settings.targets[0].host
    try:
        opts.update(
            confdir=settings.state_dir,
            listen_host=host,
            listen_port=port,
            mode=[f"reverse:https://{target}/"] if mode == "reverse" else ["regular"],
            connection_strategy="lazy",
            upstream_cert=False,
            termlog_verbosity="warn",
        )
    except exceptions.OptionsError as e:
        print(f"werker-proxy: {e}", file=sys.stderr)
        return 1
    if proxy.settings is None:
        print(f"werker-proxy: {proxy.config_error or 'no configuration loaded'}", file=sys.stderr)
        return 1

    loop = asyncio.get_running_loop()
    path = config_path or bundled_config_path()

    def on_loop_error(_loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return  # connections cancelled at shutdown: not an error
        log.error("event_loop_error", error_type=exc.__class__.__name__ if exc else None)

    loop.set_exception_handler(on_loop_error)
    master._asyncio_exception_handler = on_loop_error  # mitmproxy installs this one while running

    def reload(reason: str) -> None:
        log.info("reload_requested", reason=reason)
        if proxy.reload(config_path, raise_errors=False):
            write_ca_bundle(proxy.settings)

    loop.add_signal_handler(signal.SIGHUP, reload, "SIGHUP")
    loop.add_signal_handler(signal.SIGTERM, master.shutdown)
    loop.add_signal_handler(signal.SIGINT, master.shutdown)

    admin = None
    if settings.admin is not None:
        admin = AdminServer(proxy, settings.admin.host, settings.admin.port)
        try:
            await admin.start()
        except OSError as e:
            print(f"werker-proxy: cannot start the admin listener: {e}", file=sys.stderr)
            return 1

    async def watch() -> None:
        def stamp() -> tuple:
            files = [path, *(proxy.settings.rules_sources if proxy.settings else ())]
            out = []
            for f in files:
                try:
                    st = os.stat(f)
                    out.append((f, st.st_mtime_ns, st.st_size))
                except OSError:
                    out.append((f, None, None))
            return tuple(out)

        last = stamp()
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            now = stamp()
            if now != last:
                last = now  # a change made during the reload shows up at the next tick
                reload("file_changed")

    async def announce() -> None:
        # the CA is written when mitmproxy's TLS addon configures; wait for the listener too
        for _ in range(100):
            if os.path.exists(settings.ca_cert_path):
                break
            await asyncio.sleep(0.05)
        bundle = write_ca_bundle(settings)
        _print_banner(settings, host, port, mode, bundle)

    watcher = asyncio.create_task(watch())
    banner = asyncio.create_task(announce())
    sealer = asyncio.create_task(_seal_timer(proxy))
    try:
        await master.run()
    finally:
        for t in (watcher, banner, sealer):
            t.cancel()
        if admin is not None:
            await admin.stop()
    return 0


async def _seal_timer(proxy) -> None:
    while True:
        await asyncio.sleep(5)
        try:
            if proxy.audit is not None:
                proxy.audit.maybe_seal()
        except Exception as e:  # noqa: BLE001 - the next append reports audit trouble
            log.error("audit_seal_failed", error_type=e.__class__.__name__)


def health(config_path: str | None, url: str | None) -> int:
    if url is None:
        try:
            settings = load_settings(config_path)
        except ConfigError as e:
            print(f"werker-proxy: {e}", file=sys.stderr)
            return 1
        if settings.admin is None:
            print("werker-proxy health: the config has no `admin:` section (admin listener is off)", file=sys.stderr)
            return 2
        host = "127.0.0.1" if settings.admin.host in ("0.0.0.0", "::") else settings.admin.host
        url = f"http://{host}:{settings.admin.port}"
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=5) as r:
            body = r.read().decode()
            print(body.strip())
            return 0 if r.status == 200 else 1
    except urllib.error.HTTPError as e:
        print(e.read().decode().strip() or f"HTTP {e.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as e:
        print(f"werker-proxy health: cannot reach {url}: {e}", file=sys.stderr)
        return 1

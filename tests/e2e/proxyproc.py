"""Start a real `werker-proxy run` process (real mitmproxy, real TLS) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
WERKER = [sys.executable, "-m", "werker_proxy.cli"]
# compiled rule databases shared by every test proxy (a cold build costs ~9 s of CPU)
TEST_CACHE = str(Path(tempfile.gettempdir()) / f"werker-proxy-test-cache-{os.getuid()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


@dataclass
class ProxyProcess:
    """A running proxy; `client()` gives an openai client that goes through it."""

    workdir: Path
    config_path: Path
    port: int
    admin_port: int
    mode: str = "regular"
    proc: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / "proxy.log"

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    @property
    def ca_cert(self) -> Path:
        return self.state_dir / "mitmproxy-ca-cert.pem"

    @property
    def ca_bundle(self) -> Path:
        return self.state_dir / "werker-ca-bundle.pem"

    @property
    def audit_path(self) -> Path:
        return self.workdir / "audit" / "audit.jsonl"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "ProxyProcess":
        logf = open(self.log_path, "ab")
        args = [*WERKER, "run", "--config", str(self.config_path), "--listen-port", str(self.port),
                "--mode", self.mode]
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, cwd=str(self.workdir),
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"proxy exited with {self.proc.returncode}:\n{self.log()}")
            if self.ca_bundle.exists() and "listening on" in self.log():
                try:
                    wait_port(self.port, 0.5)
                    return self
                except TimeoutError:
                    pass
            time.sleep(0.05)
        raise TimeoutError(f"proxy did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        return stop_process(self.proc) if self.proc else None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def http_client(self, **kw) -> httpx.Client:
        kw.setdefault("timeout", 30)
        if self.mode == "reverse":
            return httpx.Client(**kw)
        return httpx.Client(proxy=self.proxy_url, verify=ssl.create_default_context(cafile=str(self.ca_bundle)),
                            **kw)

    def raw_exchange(self, request: bytes, timeout: float = 10.0, host: str = "api.werker.health") -> bytes:
        """Every byte the client receives for ``request`` (sent over CONNECT and TLS as it is),
        read until the proxy closes the connection or ``timeout`` passes without data."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError(f"proxy closed the CONNECT: {head!r}")
                head += chunk
            assert head.split(b" ", 2)[1] == b"200", head
            tls = ssl.create_default_context(cafile=str(self.ca_bundle)).wrap_socket(sock, server_hostname=host)
            tls.sendall(request)
            out = b""
            try:
                while chunk := tls.recv(65536):
                    out += chunk
            except (TimeoutError, socket.timeout, ssl.SSLError, ConnectionError):
                pass
            return out

    def client(self, **kw):
        from openai import OpenAI

        base = f"http://127.0.0.1:{self.port}/v1" if self.mode == "reverse" else "https://api.werker.health/v1"
        return OpenAI(base_url=base, api_key="sk-test-not-a-real-key", max_retries=0,
                      http_client=self.http_client(), **kw)

    def audit_records(self) -> list[dict]:
        import orjson

        if not self.audit_path.exists():
            return []
        return [orjson.loads(line) for line in self.audit_path.read_bytes().splitlines() if line.strip()]


def stop_process(proc: subprocess.Popen, grace: float = 10) -> int | None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def write_config(workdir: Path, upstream_url: str, upstream_ca: str, admin_port: int, extra: str = "") -> Path:
    cfg = workdir / "config.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        version: 1
        state_dir: {workdir / 'state'}
        rules_files: ['bundled:rules/*.yaml']
        cache_dir: {TEST_CACHE}
        upstream:
          url: {upstream_url}
          ca_file: {upstream_ca}
        audit:
          path: {workdir / 'audit' / 'audit.jsonl'}
          fsync: never
        admin: {{host: 127.0.0.1, port: {admin_port}}}
        """) + textwrap.dedent(extra))
    return cfg


def start_proxy(workdir: Path, upstream, *, mode: str = "regular", extra: str = "") -> ProxyProcess:
    admin_port = free_port()
    cfg = write_config(workdir, upstream.url, upstream.ca_file, admin_port, extra)
    return ProxyProcess(workdir, cfg, free_port(), admin_port, mode).start()

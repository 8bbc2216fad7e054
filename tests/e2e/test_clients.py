"""Every client recipe in the README ("Pointing apps at the proxy"), run for real through a proxy process.

Each client asks about an SSN and gets an answer holding another one: the upstream must never see
the request's SSN and the client must only ever see ``[SSN]``. Python clients run in subprocesses
so the README's environment variables are what configures them; Node runs the official ``openai``
npm package, installed at test time into the pytest cache (skipped if npm cannot install it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.proxyproc import ProxyProcess, start_proxy

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).parent / "node"
QUESTION = "Summarise: patient SSN 123-45-6789, seen today."
ANSWER = "Your SSN 987-65-4321 is on file."
API_KEY = "sk-test-not-a-real-key"
# variables that would send a client elsewhere or change what it trusts: never inherited
_AMBIENT = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ssl_cert_file", "ssl_cert_dir",
            "requests_ca_bundle", "curl_ca_bundle", "node_extra_ca_certs", "node_use_env_proxy",
            "node_options", "openai_base_url", "openai_api_key"}

OPENAI_APP = """\
import json, sys
from openai import OpenAI

client = OpenAI(base_url="https://api.werker.health/v1")   # unchanged app code (README)
r = client.responses.create(model="werker-clinical-1", input=sys.argv[1])
s = client.responses.create(model="werker-clinical-1", input=sys.argv[1], stream=True)
streamed = "".join(e.delta for e in s if e.type == "response.output_text.delta")
print(json.dumps({"text": r.output_text, "streamed": streamed}))
"""

# reverse mode: the app takes its base URL from OPENAI_BASE_URL (a hard-coded base_url would win)
OPENAI_REVERSE_APP = OPENAI_APP.replace('OpenAI(base_url="https://api.werker.health/v1")', "OpenAI()")

REQUESTS_APP = """\
import json, sys
import requests

r = requests.post("https://api.werker.health/v1/responses", timeout=30,
                  headers={"Authorization": "Bearer sk-test-not-a-real-key"},
                  json={"model": "werker-clinical-1", "input": sys.argv[1]})
r.raise_for_status()
text = "".join(c["text"] for item in r.json()["output"] if item["type"] == "message"
               for c in item["content"] if c["type"] == "output_text")
print(json.dumps({"text": text}))
"""

CURL_README = (
    "curl --proxy {proxy} --cacert {ca} \\\n"
    "  https://api.werker.health/v1/responses -H \"Authorization: Bearer $WERKER_API_KEY\" \\\n"
    "  -H 'content-type: application/json' -d '{{\"model\":\"m\",\"input\":\"SSN 123-45-6789\"}}'"
)


# --- helpers ---------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in _AMBIENT}
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 60) -> dict:
    """Run a client; it prints one JSON line as its last line of output."""
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd[0]} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr[-3000:]}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def assert_scrubbed_both_ways(up, answers: list[str]) -> None:
    assert up.requests, "the upstream received nothing"
    for req in up.requests:
        assert b"123-45-6789" not in req.body
        assert b"[SSN]" in req.body
    for text in answers:
        assert "987-65-4321" not in text
        assert text == ANSWER.replace("987-65-4321", "[SSN]")


@pytest.fixture
def answering(up):
    """The upstream answers every call with an SSN, streamed 4 characters per delta."""
    up.reply_always(ANSWER, chunking=4)
    return up


@pytest.fixture(scope="module")
def reverse_proxy(upstream, tmp_path_factory) -> ProxyProcess:
    p = start_proxy(tmp_path_factory.mktemp("reverse"), upstream, mode="reverse")
    yield p
    p.stop()


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --- Python ------------------------------------------------------------------------------------------


def test_openai_python_with_https_proxy_and_ssl_cert_file(proxy, answering, tmp_path):
    """The README's env-var recipe: unchanged openai app, HTTPS_PROXY + SSL_CERT_FILE=werker-ca-bundle.pem."""
    env = clean_env(HTTPS_PROXY=proxy.proxy_url, SSL_CERT_FILE=str(proxy.ca_bundle), OPENAI_API_KEY=API_KEY)
    out = run([sys.executable, script(tmp_path, "app.py", OPENAI_APP), QUESTION], env)
    assert_scrubbed_both_ways(answering, [out["text"], out["streamed"]])


def test_openai_python_with_explicit_httpx_proxy_and_verify(proxy, answering):
    """The README's explicit recipe: httpx.Client(proxy=..., verify=ssl context on the CA bundle)."""
    from openai import OpenAI

    ctx = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    with httpx.Client(proxy=proxy.proxy_url, verify=ctx) as http_client:
        client = OpenAI(base_url="https://api.werker.health/v1", api_key=API_KEY, max_retries=0,
                        http_client=http_client)
        r = client.responses.create(model="werker-clinical-1", input=QUESTION)
        with client.responses.create(model="werker-clinical-1", input=QUESTION, stream=True) as s:
            streamed = "".join(e.delta for e in s if e.type == "response.output_text.delta")
    assert_scrubbed_both_ways(answering, [r.output_text, streamed])


def test_requests_with_https_proxy_and_requests_ca_bundle(proxy, answering, tmp_path):
    """requests honours HTTPS_PROXY + REQUESTS_CA_BUNDLE=werker-ca-bundle.pem."""
    env = clean_env(HTTPS_PROXY=proxy.proxy_url, REQUESTS_CA_BUNDLE=str(proxy.ca_bundle))
    out = run([sys.executable, script(tmp_path, "app.py", REQUESTS_APP), QUESTION], env)
    assert_scrubbed_both_ways(answering, [out["text"]])


def test_requests_without_the_ca_gets_certificate_verify_failed(proxy, answering, tmp_path):
    """Troubleshooting: without REQUESTS_CA_BUNDLE (SSL_CERT_FILE alone is not enough) requests fails verification."""
    env = clean_env(HTTPS_PROXY=proxy.proxy_url, SSL_CERT_FILE=str(proxy.ca_bundle))
    p = subprocess.run([sys.executable, script(tmp_path, "app.py", REQUESTS_APP), QUESTION], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in p.stderr
    assert answering.requests == []


def test_openai_python_reverse_mode_with_openai_base_url(reverse_proxy, answering, tmp_path):
    """Reverse mode: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1, no proxy variable and no CA."""
    env = clean_env(OPENAI_BASE_URL=f"http://127.0.0.1:{reverse_proxy.port}/v1", OPENAI_API_KEY=API_KEY)
    out = run([sys.executable, script(tmp_path, "app.py", OPENAI_REVERSE_APP), QUESTION], env)
    assert_scrubbed_both_ways(answering, [out["text"], out["streamed"]])


# --- curl ----------------------------------------------------------------------------------------------


def test_curl_readme_command(proxy, answering):
    """The README's curl line (--proxy, --cacert mitmproxy-ca-cert.pem) returns the scrubbed answer."""
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    cmd = CURL_README.format(proxy=proxy.proxy_url, ca=proxy.ca_cert)
    env = clean_env(WERKER_API_KEY=API_KEY)
    p = subprocess.run(["bash", "-c", cmd + " --silent --show-error --fail-with-body"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    text = body["output"][0]["content"][0]["text"]
    assert_scrubbed_both_ways(answering, [text])
    assert answering.requests[-1].headers["authorization"] == f"Bearer {API_KEY}"


# --- Node ----------------------------------------------------------------------------------------------


def _node_version() -> tuple[int, int, int] | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    return tuple(int(x) for x in out.lstrip("v").split(".")[:3])  # type: ignore[return-value]


@pytest.fixture(scope="module")
def node_app(request, tmp_path_factory) -> Path:
    """A folder with tests/e2e/node/* and node_modules (openai, undici), cached across runs."""
    if _node_version() is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed")
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("werker-proxy-node") if cache is not None else tmp_path_factory.mktemp("node")
    for f in NODE_DIR.iterdir():
        if f.is_file():
            shutil.copy2(f, folder / f.name)
    wanted = hashlib.sha256((NODE_DIR / "package.json").read_bytes()).hexdigest()
    stamp = folder / "node_modules" / ".werker-installed"
    if not stamp.exists() or stamp.read_text() != wanted:
        try:
            p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts",
                                "--loglevel=error", "--fetch-retries=1", "--fetch-retry-mintimeout=2000",
                                "--fetch-retry-maxtimeout=5000", "--fetch-timeout=30000"],
                               cwd=folder, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install of openai/undici timed out (registry unreachable?)")
        if p.returncode != 0:
            pytest.skip(f"npm could not install openai/undici: {p.stderr.strip()[-500:]}")
        stamp.write_text(wanted)
    return folder


def test_node_openai_with_extra_ca_certs_and_undici_preload(proxy, answering, node_app):
    """Node: NODE_EXTRA_CA_CERTS + HTTPS_PROXY + `node --import ./proxy.mjs app.mjs` (undici EnvHttpProxyAgent)."""
    env = clean_env(NODE_EXTRA_CA_CERTS=str(proxy.ca_cert), HTTPS_PROXY=proxy.proxy_url, OPENAI_API_KEY=API_KEY)
    out = run(["node", "--import", "./proxy.mjs", "app.mjs", QUESTION], env, cwd=node_app)
    assert_scrubbed_both_ways(answering, [out["text"], out["streamed"]])


def test_node_openai_with_node_use_env_proxy(proxy, answering, node_app):
    """Node >= 22.21 / 24: NODE_USE_ENV_PROXY=1 + HTTPS_PROXY + NODE_EXTRA_CA_CERTS, no preload."""
    v = _node_version()
    assert v is not None
    if not (v >= (24, 0, 0) or (22, 21, 0) <= v < (23, 0, 0)):
        pytest.skip(f"Node v{'.'.join(map(str, v))} ignores NODE_USE_ENV_PROXY (fetch honours it from "
                    "Node 22.21 / 24.0): use the undici preload or reverse mode")
    env = clean_env(NODE_USE_ENV_PROXY="1", NODE_EXTRA_CA_CERTS=str(proxy.ca_cert), HTTPS_PROXY=proxy.proxy_url,
                    OPENAI_API_KEY=API_KEY)
    out = run(["node", "app.mjs", QUESTION], env, cwd=node_app)
    assert_scrubbed_both_ways(answering, [out["text"], out["streamed"]])


def test_node_openai_reverse_mode_with_openai_base_url(reverse_proxy, answering, node_app):
    """Node in reverse mode: OPENAI_BASE_URL=http://127.0.0.1:PORT/v1, no proxy and no CA."""
    env = clean_env(OPENAI_BASE_URL=f"http://127.0.0.1:{reverse_proxy.port}/v1", OPENAI_API_KEY=API_KEY)
    out = run(["node", "app.mjs", QUESTION], env, cwd=node_app)
    assert_scrubbed_both_ways(answering, [out["text"], out["streamed"]])

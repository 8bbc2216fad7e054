"""A plain (non-editable) install into a fresh virtualenv ships the default config and rules."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_fresh_venv_wheel_install_runs_check(tmp_path):
    """`pip install .` into a new venv, then `werker-proxy check` from another directory exits 0."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # reuse the test environment's already-installed dependencies instead of downloading them
    site = next(p for p in sys.path if p.endswith("site-packages"))
    (next((env_dir / "lib").glob("python*")) / "site-packages" / "deps.pth").write_text(site + "\n")
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                            "--target", str(tmp_path / "target"), str(REPO)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (next((env_dir / "lib").glob("python*")) / "site-packages" / "werker.pth").write_text(
        str(tmp_path / "target") + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([str(py), "-c", "import werker_proxy, sys; print(werker_proxy.__file__); "
                        "from werker_proxy.cli import main; sys.exit(main(['check']))"],
                       capture_output=True, text=True, cwd=elsewhere, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(tmp_path / "target") in r.stdout  # the installed copy, not the checkout
    assert "OK:" in r.stdout

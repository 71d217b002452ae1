"""The interactive page (SolaraViz) in a real browser: load it, step the model, see a metric change."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_page(cmd: list[str], what: str, env: dict | None = None):  # noqa: ANN201 - generator
    """Start a local page server with ``cmd`` (a ``{port}`` placeholder), wait until it answers,
    yield its URL and stop it afterwards (shared by the page tests)."""
    port = free_port()
    proc = subprocess.Popen([c.format(port=port) for c in cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"{what} did not start: " + proc.stderr.read().decode()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def server():
    exe = Path(sys.executable).with_name("solara")
    yield from serve_page([str(exe), "run", str(ROOT / "src/allocsim/simulate/app.py"), "--port", "{port}",
                           "--host", "127.0.0.1", "--no-open"], "solara server")



@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium); .ci/run installs it")
def test_page_steps_the_model_and_the_metric_changes(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.goto(server, timeout=90_000)
        page.wait_for_selector("#disbursed", timeout=90_000)
        before = float(page.inner_text("#disbursed").replace(",", ""))
        step = page.get_by_role("button", name=re.compile("^step$", re.I))
        value = before
        for k in range(60):  # disbursement starts after planning and procurement (~15 weeks)
            step.click()
            # wait for the model to take the step (a loaded machine queues clicks)
            page.wait_for_function(f"document.body.innerText.match(/Step: (\\d+)/) && "
                                   f"+document.body.innerText.match(/Step: (\\d+)/)[1] >= {k + 1}",
                                   timeout=60_000)
            value = float(page.inner_text("#disbursed").replace(",", ""))
            if value > before:
                break
        steps = int(re.search(r"Step: (\d+)", page.inner_text("body")).group(1))
        page.screenshot(path=str(tmp_path / "app.png"))
        browser.close()
    assert before == 0.0
    assert value > before, f"disbursed did not change after {steps} steps"
    assert steps > 1

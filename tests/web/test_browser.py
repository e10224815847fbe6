"""Every page driven in real headless Chromium against a real ``infercost serve`` process:
load, fill the form, submit, the chart is drawn, the key numbers equal the library's for the
same inputs, no console errors; one screenshot per page.

One server process and one browser session serve every test (module fixtures). Screenshots
go to ``$INFERCOST_SCREENSHOT_DIR`` (default: pytest's temporary folder, printed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from infercost.api.simulate import SimulateRequest, run_simulate
from infercost.plan.breakeven import breakeven, inputs_from_names
from infercost.plan.compare import compare_gpus
from infercost.plan.fleet import replica_from_search, size_fleet
from infercost.plan.search import search
from infercost.plan.traffic import traffic
from infercost.predict import predict

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic month of 20,000 requests (``usage demo``) for the /usage page."""
    path = tmp_path_factory.mktemp("ledger") / "demo.duckdb"
    subprocess.run(
        [sys.executable, "-m", "infercost", "usage", "demo", "--out", str(path), "--rows",
         "20000"], check=True, capture_output=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def server(ledger: Path) -> Iterator[str]:
    """``infercost serve --ledger`` on a free loopback port, stopped at the end."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infercost",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--ledger",
            str(ledger),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "exited")
        else:
            raise RuntimeError("infercost serve did not start in 60 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    env = os.environ.get("INFERCOST_SCREENSHOT_DIR")
    folder = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium session for every page."""
    profile = tempfile.mkdtemp(prefix="infercost-chromium-")
    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser: Any, url: str) -> None:
    browser.get(url)
    browser.get_log("browser")  # start each page with an empty console


def _fill_and_submit(browser: Any, inputs: dict[str, str]) -> None:
    """Type the inputs into the form and submit it (the new state lands in the URL)."""
    for name, value in inputs.items():
        box = browser.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 120).until(lambda d: old.id != d.find_element(By.TAG_NAME, "html").id)


def _drawn(browser: Any) -> list[str]:
    """Wait until every chart is drawn by plotly; returns their ids."""
    WebDriverWait(browser, 60).until(
        lambda d: all(
            c.get_attribute("data-drawn") == "1"
            for c in d.find_elements(By.CSS_SELECTOR, ".chart")
        )
    )
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart")
    for c in charts:  # plotly drew SVG into it
        assert c.find_elements(By.CSS_SELECTOR, "svg.main-svg"), c.get_attribute("id")
    return [str(c.get_attribute("id")) for c in charts]


def _value(browser: Any, key: str) -> Any:
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-key="{key}"]')
    return json.loads(str(card.get_attribute("data-value")))


def _no_console_errors(browser: Any) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def _same(a: Any) -> Any:
    return json.loads(json.dumps(a))


def _shoot(browser: Any, shots: Path, name: str) -> None:
    height = browser.execute_script("return document.body.scrollHeight")
    width = browser.execute_script("return window.innerWidth")
    browser.set_window_size(max(width, 400), min(max(height + 120, 800), 4000))
    path = shots / f"{name}.png"
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    browser.set_window_size(1280, 1000)


def test_predict_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/predict")
    _fill_and_submit(
        browser,
        {
            "model": "llama-3.1-70b",
            "gpu": "H100",
            "tp": "4",
            "isl": "2000",
            "osl": "400",
            "concurrency": "32",
        },
    )
    assert "tp=4" in browser.current_url and "concurrency=32" in browser.current_url
    assert _drawn(browser) == ["chart-latency"]
    lib = predict("llama-3.1-70b", "H100", 2000, 400, tp=4, concurrency=32).to_dict()
    for key in (
        "ttft_s",
        "tpot_s",
        "e2e_s",
        "output_tok_s",
        "usd_per_m_output",
        "usd_per_m_input",
        "usd_per_gpu_hour",
        "max_concurrency",
    ):
        assert _value(browser, key) == _same(lib[key]), key
    trail = browser.find_elements(By.CSS_SELECTOR, "#explain tbody tr")
    assert len(trail) == len(
        predict("llama-3.1-70b", "H100", 2000, 400, tp=4, concurrency=32, explain=True).explain
        or []
    )
    _no_console_errors(browser)
    _shoot(browser, shots, "predict")
    # the link reproduces the page
    url = browser.current_url
    _open(browser, url)
    assert _value(browser, "ttft_s") == _same(lib["ttft_s"])
    # a phone-sized view of the same page
    browser.set_window_size(390, 1400)
    _drawn(browser)
    browser.save_screenshot(str(shots / "predict-phone.png"))
    browser.set_window_size(1280, 1000)


def test_predict_page_shows_the_library_error(server: str, browser: Any, shots: Path) -> None:
    # a link computes from exactly its inputs, so it names all that predict needs
    q = {"model": "llama-3.1-8b", "gpu": "H1000", "isl": 1000, "osl": 300, "concurrency": 8}
    _open(browser, f"{server}/predict?{urlencode(q)}")
    message = browser.find_element(By.ID, "error").text
    assert "H1000" in message
    assert "Traceback" not in browser.page_source


def test_compare_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/compare")
    _fill_and_submit(
        browser, {"model": "llama-3.1-8b", "isl": "1000", "osl": "300", "max_tpot_ms": "40"}
    )
    assert _drawn(browser) == ["chart-compare"]
    lib = compare_gpus("llama-3.1-8b", 1000, 300, max_tpot_s=0.04).to_dict()["results"]
    best = next(r for r in lib if r["usd_per_m_output"] is not None)
    assert _value(browser, "best_offer") == best["offer"]
    assert _value(browser, "best_usd_per_m_output") == _same(best["usd_per_m_output"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#offers tbody tr")) == len(lib)
    _no_console_errors(browser)
    _shoot(browser, shots, "compare")


def test_search_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/search")
    _fill_and_submit(
        browser,
        {
            "model": "llama-3.1-70b",
            "gpu_list": "H100,A100,H200",
            "max_tpot_ms": "60",
            "max_ttft_s": "2",
        },
    )
    assert _drawn(browser) == ["chart-search"]
    lib = search(
        "llama-3.1-70b", 1000, 300, max_ttft_s=2.0, max_tpot_s=0.06, gpus=["H100", "A100", "H200"]
    ).to_dict()["winner"]
    for key in ("gpu", "num_gpus", "weight_dtype", "concurrency", "usd_per_m_output", "tpot_s"):
        assert _value(browser, f"winner_{key}") == _same(lib[key]), key
    _no_console_errors(browser)
    _shoot(browser, shots, "search")


def test_breakeven_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/breakeven")
    _fill_and_submit(
        browser,
        {
            "model": "llama-3.1-8b",
            "gpu": "H100",
            "api_model": "gpt-4o-mini",
            "ops_usd_per_month": "8000",
        },
    )
    assert _drawn(browser) == ["chart-breakeven", "chart-ops"]
    inp = inputs_from_names(
        "llama-3.1-8b", "H100", 1000, 300, "gpt-4o-mini", ops_usd_per_month=8000.0
    )
    b = breakeven(inp).to_dict()
    assert _value(browser, "breakeven_tokens_per_day") == _same(b["breakeven_tokens_per_day"])
    assert _value(browser, "api_blended_usd_per_m") == _same(b["api_blended_usd_per_m"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ops tbody tr")) == 5
    _no_console_errors(browser)
    _shoot(browser, shots, "breakeven")


def test_fleet_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/fleet")
    _fill_and_submit(browser, {"output_tokens_per_day": "5e9", "peak_to_average": "3"})
    assert _drawn(browser) == ["chart-fleet"]
    replica, _ = replica_from_search("llama-3.1-8b", "H100", 1000, 300, max_tpot_s=0.05)
    plan = size_fleet(
        traffic(
            isl=1000,
            osl=300,
            output_tokens_per_day=5e9,
            peak_to_average=3.0,
            growth_per_month=0.0,
            months=0.0,
        ),
        replica,
        headroom=0.3,
    ).to_dict()
    for key in ("static_replicas", "autoscaled_peak_replicas", "static_usd_per_month"):
        assert _value(browser, key) == _same(plan[key]), key
    _no_console_errors(browser)
    _shoot(browser, shots, "fleet")


def test_simulate_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, f"{server}/simulate")
    _fill_and_submit(browser, {"rates": "4,12,40", "num_requests": "250"})
    assert _drawn(browser) == ["chart-simulate"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    assert len(rows) == 3
    lib = run_simulate(
        SimulateRequest(
            model="llama-3.1-8b", gpu="H100", tp=1, isl=1000, osl=300, rate=40, num_requests=250
        )
    ).data["result"]
    assert lib["overloaded"] is True  # 40 req/s is past one H100's ~16 req/s
    assert "OVERLOADED" in rows[2].text
    stats = lib["ttft_s"] or lib["unstable_latency"]["ttft_s"]
    assert _value(browser, "last_ttft_p99_s") == _same(stats["p99"])
    _no_console_errors(browser)
    _shoot(browser, shots, "simulate")


def test_usage_page(server: str, browser: Any, ledger: Path, shots: Path) -> None:
    from infercost.usage import queries

    _open(browser, f"{server}/usage")
    _fill_and_submit(browser, {"by": "model", "budget_usd": "3000"})
    assert _drawn(browser) == [
        "chart-usage-report",
        "chart-usage-over-time",
        "chart-usage-anomalies",
        "chart-usage-forecast",
    ]
    lib = queries.report(ledger, ["model"]).to_dict()
    assert _value(browser, "total_usd") == _same(float(lib["total_usd"]))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#usage-rows tbody tr")) == len(lib["rows"])
    assert browser.find_elements(By.CSS_SELECTOR, "#anomalies li")  # the demo's spike
    _no_console_errors(browser)
    _shoot(browser, shots, "usage")


def test_index_links_every_page(server: str, browser: Any, shots: Path) -> None:
    _open(browser, server + "/")
    links = {
        a.get_attribute("href").removeprefix(server)
        for a in browser.find_elements(By.CSS_SELECTOR, "ul.pages a")
    }
    assert links == {
        "/predict",
        "/compare",
        "/search",
        "/breakeven",
        "/fleet",
        "/simulate",
        "/usage",
    }
    _no_console_errors(browser)
    _shoot(browser, shots, "index")

"""The committee page in a real browser, offline: open a real `robust` result folder, switch the
reform, and check that the numbers shown are the ones in robustness.csv, prim_boxes.csv,
robust_provinces.csv and plan_delivery.csv, while every request that does not go to the local
server is blocked and recorded (none may be attempted)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import write
from tests.test_app import ARGS, CHROMIUM, serve_page
from tests.test_robust import REAL

ROOT = Path(__file__).resolve().parents[1]
#: the robust tests' tiny real scenario, without its package search and with its own seed
TINY = REAL.split("[packages]")[0].replace("seed = 11", "seed = 5")


@pytest.fixture(scope="module")
def robust_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from allocsim.cli import main

    d = tmp_path_factory.mktemp("sc")
    write(d / "tiny.toml", TINY)
    write(d / "tiny_gateway.toml", 'extends = "tiny.toml"\nname = "tiny_gateway"\n[levers]\nsingle_gateway = true\n')
    write(d / "tiny_delegated.toml", 'extends = "tiny.toml"\nname = "tiny_delegated"\n[levers]\ndelegated_changes = true\n')
    out = d / "robust"
    assert main(["robust", str(d / "tiny.toml"), str(d / "tiny_gateway.toml"), str(d / "tiny_delegated.toml"),
                 "--futures", "4", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def server(robust_folder: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    yield from serve_page([sys.executable, "-m", "allocsim", "serve", str(robust_folder), "--port", "{port}",
                           "--no-open"], "committee page", env)



def test_serve_refuses_a_folder_that_is_not_a_result(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from allocsim.cli import main

    assert main(["serve", str(tmp_path)]) == 2
    assert "not a compare, robust or packages result folder" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium); .ci/run installs it")
@pytest.mark.skipif(shutil.which("solara", path=str(Path(sys.executable).parent)) is None, reason="Solara not installed")
def test_page_shows_the_csv_numbers_for_the_chosen_reform(server: str, robust_folder: Path, tmp_path: Path) -> None:
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    rob = pd.read_csv(robust_folder / "robustness.csv")
    metrics = ["effective_benefit_thb", "duplicate_money_thb", "mean_days_to_disbursement"]
    seen = {}
    external: list[str] = []     # every request the page attempted to a host other than this machine
    local: list[str] = []

    def guard(route) -> None:  # noqa: ANN001 - a playwright Route
        url = route.request.url
        if urlparse(url).hostname in ("127.0.0.1", "localhost"):
            local.append(url)
            route.continue_()
        else:
            external.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1300, "height": 1400})
        context.route("**/*", guard)
        page = context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(server, timeout=90_000)
        page.wait_for_selector("#robust-table", timeout=90_000)
        for reform in ("tiny_gateway", "tiny_delegated"):
            if page.get_attribute("#robust-table", "data-reform") != reform:
                page.locator(".detail-reform").get_by_role("button", name=reform).click()
                page.wait_for_selector(f'#robust-table[data-reform="{reform}"]', timeout=30_000)
            seen[reform] = {(k, m): (page.get_attribute(f"#{k}-{m}", "data-value"), page.inner_text(f"#{k}-{m}"))
                            for m in metrics for k in ("share", "median", "p10", "p90", "worst")}
            seen[reform]["box"] = page.inner_text(f"#box-{metrics[1]}")
            # the province map's table and plan against delivery, for this reform
            page.wait_for_selector(f'#province-table[data-reform="{reform}"]', timeout=30_000)
            seen[reform]["map_metric"] = page.get_attribute("#province-table", "data-metric")
            seen[reform]["provinces"] = {
                iso: {k: (page.get_attribute(f"#prov-{k}-{iso}", "data-value"), page.inner_text(f"#prov-{k}-{iso}"))
                      for k in ("median", "p10", "p90", "share")}
                for iso in page.eval_on_selector_all("#province-table tr[data-province]",
                                                     "rows => rows.map(r => r.dataset.province)")}
            seen[reform]["plan"] = {c: (page.get_attribute(f"#{c}", "data-value"), page.get_attribute(f"#{c}", "data-p10"),
                                        page.get_attribute(f"#{c}", "data-p90"), page.inner_text(f"#{c}"))
                                    for c in page.eval_on_selector_all("#plan-table td[id]", "tds => tds.map(t => t.id)")}
        page.screenshot(path=str(tmp_path / "committee.png"), full_page=True)
        browser.close()
    # offline: nothing but the local server was asked for (the page's own assets included)
    assert external == [], external
    assert local and all(urlparse(u).hostname in ("127.0.0.1", "localhost") for u in sockets), sockets
    from allocsim.report.format import fmt

    cols = {"share": "share_better", "median": "median_difference", "p10": "p10_difference",
            "p90": "p90_difference", "worst": "worst_difference"}
    for reform, vals in seen.items():
        for m in metrics:
            row = rob[(rob.scenario == reform) & (rob.metric == m)].iloc[0]
            for k, col in cols.items():
                raw, text = vals[(k, m)]
                assert float(raw) == pytest.approx(float(row[col]), rel=1e-12, abs=1e-9), (reform, m, k)
                want = f"{row[col]:.1%}" if k == "share" else fmt(m, row[col], signed=True)
                assert text.strip() == want, (reform, m, k, text)
    # the two reforms differ somewhere, so the page really switched
    assert seen["tiny_gateway"] != seen["tiny_delegated"]
    boxes = pd.read_csv(robust_folder / "prim_boxes.csv")
    b = boxes[(boxes.scenario == "tiny_delegated") & (boxes.metric == metrics[1])].iloc[0]
    want_box = b["box"] if isinstance(b["box"], str) else b["note"]
    assert seen["tiny_delegated"]["box"].strip() == want_box
    # province map: the table beside it shows robust_provinces.csv's numbers, for the ten provinces
    # the reform helps most and least (the CSV's own ordering, recomputed here)
    prov = pd.read_csv(robust_folder / "robust_provinces.csv")
    plan = pd.read_csv(robust_folder / "plan_delivery.csv")
    pcols = {"median": "median_difference", "p10": "p10_difference", "p90": "p90_difference", "share": "share_better"}
    for reform, vals in seen.items():
        m = vals["map_metric"]
        assert m == "effective_benefit_thb"  # the first chosen metric that exists per province
        r = prov[(prov.scenario == reform) & (prov.metric == m)].dropna(subset=["median_difference"])
        assert len(r) == 76 and r.n_futures.eq(4).all()
        order = r.assign(k=r.median_difference).sort_values(["k", "province"], ascending=[False, True])
        assert list(vals["provinces"]) == list(order.province.head(5)) + list(order.province.tail(5))
        r = r.set_index("province")
        for iso, cells in vals["provinces"].items():
            for k, col in pcols.items():
                raw, text = cells[k]
                assert float(raw) == pytest.approx(float(r.loc[iso, col]), rel=1e-12, abs=1e-12), (reform, iso, k)
                want = f"{r.loc[iso, col]:.1%}" if k == "share" else fmt(m, r.loc[iso, col], signed=True)
                assert text.strip() == want, (reform, iso, k, text)
        # plan against delivery: the baseline and the chosen reform, median [p10 – p90] per metric
        assert {c.split("-")[1] for c in vals["plan"]} == {"tiny", reform}
        assert len(vals["plan"]) == 2 * 6
        for cid, (med, p10, p90, text) in vals["plan"].items():
            _, name, metric = cid.split("-", 2)
            row = plan[(plan.scenario == name) & (plan.metric == metric)].iloc[0]
            assert (float(med), float(p10), float(p90)) == pytest.approx((row["median"], row.p10, row.p90), rel=1e-12)
            assert text.split("[")[0].strip() == fmt(metric, row["median"])
    assert seen["tiny_gateway"]["provinces"] != seen["tiny_delegated"]["provinces"]


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from allocsim.cli import main

    d = tmp_path_factory.mktemp("cmp")
    write(d / "tiny.toml", TINY.replace("years = 1\n", "years = 1\ncitizens_per_province = 10\n"))
    write(d / "tiny_gateway.toml", 'extends = "tiny.toml"\nname = "tiny_gateway"\n[levers]\nsingle_gateway = true\n')
    write(d / "tiny_delegated.toml", 'extends = "tiny.toml"\nname = "tiny_delegated"\n[levers]\ndelegated_changes = true\n')
    out = d / "compare"
    assert main(["compare", str(d / "tiny.toml"), str(d / "tiny_gateway.toml"), str(d / "tiny_delegated.toml"),
                 "--replicates", "2", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install chromium); .ci/run installs it")
@pytest.mark.skipif(shutil.which("solara", path=str(Path(sys.executable).parent)) is None, reason="Solara not installed")
def test_compare_folder_shows_several_reforms_side_by_side_with_the_csv_numbers(compare_folder: Path) -> None:
    """A compare folder, offline: both reforms side by side (difference and CI equal to
    comparison.csv), then one reform unpicked (its columns go, the other's numbers stay), then the
    single-reform detail table switched: every number equals comparison.csv."""
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    from allocsim.report.format import fmt

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmp = pd.read_csv(compare_folder / "comparison.csv")
    metrics = ["effective_benefit_thb", "duplicate_money_thb", "mean_days_to_disbursement"]
    external: list[str] = []

    def guard(route) -> None:  # noqa: ANN001 - a playwright Route
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    def side(page, reforms: list[str]) -> dict:  # noqa: ANN001
        return {(r, m, k): (page.get_attribute(f"#side-{k}-{r}-{m}", "data-value"),
                            page.inner_text(f"#side-{k}-{r}-{m}"))
                for r in reforms for m in metrics for k in ("diff", "lo", "hi")}

    gen = serve_page([sys.executable, "-m", "allocsim", "serve", str(compare_folder), "--port", "{port}", "--no-open"],
                     "committee page", env)
    url = next(gen)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            context = browser.new_context(viewport={"width": 1300, "height": 1400})
            context.route("**/*", guard)
            page = context.new_page()
            page.goto(url, timeout=90_000)
            page.wait_for_selector('#side-table[data-reforms="tiny_gateway,tiny_delegated"]', timeout=90_000)
            both = side(page, ["tiny_gateway", "tiny_delegated"])
            page.locator(".side-reforms").get_by_role("button", name="tiny_gateway").click()
            page.wait_for_selector('#side-table[data-reforms="tiny_delegated"]', timeout=30_000)
            one = side(page, ["tiny_delegated"])
            assert page.query_selector("#side-diff-tiny_gateway-duplicate_money_thb") is None
            page.locator(".detail-reform").get_by_role("button", name="tiny_delegated").click()
            page.wait_for_selector('#compare-table[data-reform="tiny_delegated"]', timeout=30_000)
            detail = {m: page.get_attribute(f"#diff-{m}", "data-value") for m in metrics}
            browser.close()
    finally:
        gen.close()
    assert external == [], external
    cols = {"diff": "difference", "lo": "ci_low", "hi": "ci_high"}
    for (r, m, k), (raw, text) in both.items():
        row = cmp[(cmp.scenario == r) & (cmp.metric == m)].iloc[0]
        assert float(raw) == pytest.approx(float(row[cols[k]]), rel=1e-12, abs=1e-9), (r, m, k)
        assert text.strip() == fmt(m, row[cols[k]], signed=True), (r, m, k, text)
    assert one == {k: v for k, v in both.items() if k[0] == "tiny_delegated"}
    assert {k: v[0] for k, v in both.items() if k[0] == "tiny_gateway"} != {
        (r2, m, k): v[0] for (r, m, k), v in both.items() if r == "tiny_delegated" for r2 in ["tiny_gateway"]}
    for m in metrics:
        row = cmp[(cmp.scenario == "tiny_delegated") & (cmp.metric == m)].iloc[0]
        assert float(detail[m]) == pytest.approx(float(row["difference"]), rel=1e-12, abs=1e-9)

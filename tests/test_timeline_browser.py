"""The timeline page in a real headless Chromium: behaviour, no network, no script injection, axe-core.

These tests are part of the normal run. Without /usr/bin/chromium they fail and say to run
`make browser`; only axe-core, fetched from the npm registry into a cache folder, may be skipped
when the registry cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import PERIODS_TTL, SAMPLE_TTL, XSS_TTL

from kb.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
AXE_CACHE = Path(os.environ.get("KB_TEST_CACHE", Path.home() / ".cache" / "cq-covid-kb")) / "npm"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` to install Chromium for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def _knowledge_base(root: Path, facts: str | None) -> Path:
    """A copy of the ontology and shared facts, plus `facts` as one article file."""
    shutil.copytree(ROOT / "ontology", root / "ontology")
    (root / "facts").mkdir(parents=True)
    for name in ("sources.ttl", "agents.ttl", "documents.ttl"):
        shutil.copy(ROOT / "facts" / name, root / "facts" / name)
    shutil.copytree(ROOT / "facts" / "reference", root / "facts" / "reference")
    shutil.copytree(ROOT / "facts" / "sources", root / "facts" / "sources")
    if facts is not None:
        (root / "facts" / "article-900.ttl").write_text(facts, "utf-8")
    return root


def _render(root: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["--root", str(root), "timeline", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("sample")
    return _render(_knowledge_base(base / "kb", SAMPLE_TTL), base / "timeline.html")


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    return _render(_knowledge_base(base / "kb", XSS_TTL), base / "timeline.html")


@pytest.fixture(scope="module")
def periods_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("periods")
    return _render(_knowledge_base(base / "kb", PERIODS_TTL), base / "timeline.html")


@pytest.fixture(scope="module")
def real_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render(ROOT, tmp_path_factory.mktemp("real") / "timeline.html")


class Visit:
    """A page opened from file:// with every request routed, logged, and refused unless file://."""

    def __init__(self, browser, path: Path, javascript: bool = True, fragment: str = "") -> None:  # type: ignore[no-untyped-def]
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1400, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri() + fragment)
        if javascript:
            self.page.wait_for_selector("html[data-ready]", state="attached")

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible_ids(self) -> set[str]:
        return set(
            self.page.eval_on_selector_all("li.m", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")
        )

    def network(self) -> list[str]:
        return [url for url in self.requests if not url.startswith("file://")]


@pytest.fixture
def visit(browser) -> Iterator:  # type: ignore[no-untyped-def]
    opened: list[Visit] = []

    def open_page(path: Path, **options) -> Visit:  # type: ignore[no-untyped-def]
        opened.append(Visit(browser, path, **options))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()


ALL = {"t-daily-testing", "t-open-end", "t-no-mass-testing", "t-undated", "t-2020-briefing"}


def test_real_page_makes_no_network_request_and_is_screenshotted(visit, real_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(real_page)
    shown.page.get_by_role("button", name="中文").focus()
    ARTIFACTS.mkdir(exist_ok=True)
    shown.page.screenshot(path=str(ARTIFACTS / "timeline.png"))
    shown.page.click("li.m summary")
    shown.page.screenshot(path=str(ARTIFACTS / "timeline-selected.png"), full_page=False)
    assert shown.requests, "the route handler saw no request at all"
    assert shown.network() == []
    assert shown.errors == []
    count = shown.page.locator("li.m").count()
    assert shown.page.locator(".tl-shown").first.inner_text() == str(count)


def test_filters_change_the_visible_set(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    assert shown.visible_ids() == ALL
    shown.page.select_option("#tl-category", "testing")
    assert shown.visible_ids() == {"t-daily-testing", "t-no-mass-testing"}
    shown.page.uncheck("input[name=strength][value=relaxation]")
    assert shown.visible_ids() == {"t-daily-testing"}
    shown.page.click("button[type=reset]")
    shown.page.wait_for_function("document.querySelector('.tl-shown').textContent === '5'")
    assert shown.visible_ids() == ALL
    shown.page.select_option("#tl-place", "shapingba")
    assert shown.visible_ids() == {"t-open-end", "t-daily-testing", "t-no-mass-testing", "t-2020-briefing"}
    assert shown.page.locator(".tl-shown").first.inner_text() == "4"


SEARCHES = [
    ("區域", {"t-daily-testing", "t-no-mass-testing"}),
    ("区域", {"t-daily-testing", "t-no-mass-testing"}),
    ("檢測", {"t-daily-testing", "t-no-mass-testing"}),
    ("LOCKDOWN shapingba", {"t-open-end"}),
    ("no such words", set()),
    ("", ALL),
]


def test_search_finds_both_scripts_and_english(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    found = {}
    for query, _ in SEARCHES:
        shown.page.fill("#tl-search", query)
        found[query] = shown.visible_ids()
    assert found == dict(SEARCHES)


def test_language_switch(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    title = shown.page.locator("#t-daily-testing .title")
    assert title.inner_text().strip() == "one area PCR test a day in the central districts"
    shown.page.click("#tl-lang")
    assert shown.page.evaluate("document.documentElement.lang") == "zh"
    assert title.inner_text().strip() == "中心城区各区实行一天一次的区域核酸检测"
    assert "措施" in shown.page.locator("#tl-timeline-heading").inner_text()
    assert shown.page.locator("#tl-category option").first.inner_text() == "全部类别"
    shown.page.click("#tl-lang")
    assert title.inner_text().strip() == "one area PCR test a day in the central districts"


def test_lanes_by_place_keep_every_measure_once(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    lanes = shown.page.locator("#tl-lanes .lane h3")
    assert "PCR testing" in lanes.all_inner_texts()
    shown.page.check("input[name=lanes][value=place]")
    assert {"Shapingba District", "Chongqing"} <= set(lanes.all_inner_texts())
    assert sorted(shown.page.eval_on_selector_all("li.m", "els => els.map(e => e.id)")) == sorted(ALL)
    assert shown.visible_ids() == ALL


def test_selecting_a_measure_shows_its_quote_and_links_navigate(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    quote = shown.page.locator("#t-daily-testing mark").first
    assert not quote.is_visible()
    shown.page.click("#t-daily-testing summary")
    assert quote.is_visible() and quote.inner_text() == "中心城区各区将实行一天一次的区域核酸检测"
    assert shown.page.evaluate("location.hash") == "#t-daily-testing"
    shown.page.locator("#t-daily-testing a[href='#t-no-mass-testing']").click()
    shown.page.wait_for_function("document.querySelector('#t-no-mass-testing details').open")
    assert shown.page.locator("#t-no-mass-testing mark").first.is_visible()


def test_permalink_opens_the_measure_and_arrow_keys_move(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page, fragment="#t-open-end")
    assert shown.page.locator("#t-open-end details").evaluate("d => d.open")
    assert shown.page.evaluate("document.activeElement.closest('li.m').id") == "t-open-end"
    shown.page.keyboard.press("ArrowUp")
    after = shown.page.evaluate("document.activeElement.closest('li.m').id")
    assert after != "t-open-end" and after in ALL


def test_readable_without_javascript(visit, sample_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page, javascript=False)
    assert shown.visible_ids() == ALL
    assert not shown.page.locator("#tl-filters").is_visible()
    order = shown.page.eval_on_selector_all("#tl-measures > li.m", "els => els.map(e => e.id)")
    # 2020 first (the undated measure of article 004 sits on that article's reporting days), then 2022
    assert set(order[:2]) == {"t-undated", "t-2020-briefing"}
    assert order[2:] == ["t-daily-testing", "t-open-end", "t-no-mass-testing"]
    assert shown.page.locator("#t-daily-testing time[datetime='2022-11-10']").count() >= 1
    shown.page.click("#t-daily-testing summary")
    assert shown.page.locator("#t-daily-testing mark").first.is_visible()
    assert shown.network() == []


def test_hostile_labels_and_quotes_stay_inert(visit, hostile_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(hostile_page)
    shown.page.fill("#tl-search", "img")
    shown.page.click("li.m summary")
    shown.page.check("input[name=lanes][value=place]")
    shown.page.click("#tl-lang")
    assert shown.dialogs == []
    assert shown.errors == []
    assert shown.page.locator("img").count() == 0
    assert "<script>alert(1)</script>" in shown.page.locator("li.m .title").inner_text()


BAR_STYLES = """els => els.map(e => {
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {cls: e.className, image: s.backgroundImage, color: s.backgroundColor, opacity: Number(s.opacity),
          border: s.borderTopStyle, cap: s.borderLeftStyle, left: r.left, right: r.right, width: r.width};
})"""


def test_period_bars_are_drawn_by_basis_and_the_panel_shows_the_basis(visit, periods_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(periods_page)
    page = shown.page
    attested, presumed, unknown = page.locator("#p-attested .track .sp").evaluate_all(BAR_STYLES)
    assert "repeating-linear-gradient" in attested["image"] and attested["opacity"] == 1
    assert presumed["opacity"] < 0.5 and presumed["color"] not in ("", "rgba(0, 0, 0, 0)")
    assert unknown["border"] == "dashed" and "open" in unknown["cls"]
    assert attested["width"] > 0 and attested["left"] < presumed["left"] < unknown["left"]
    (stated,) = page.locator("#p-stated .track .sp").evaluate_all(BAR_STYLES)
    assert stated["image"] == "none" and stated["opacity"] == 1 and stated["color"] != "rgba(0, 0, 0, 0)"
    (ended,) = page.locator("#p-old .track .cap").evaluate_all(BAR_STYLES)
    (possibly,) = page.locator("#p-maybe .track .cap").evaluate_all(BAR_STYLES)
    assert (ended["cap"], possibly["cap"]) == ("solid", "dashed")
    (old_bar,) = page.locator("#p-old .track .sp").evaluate_all(BAR_STYLES)
    new_bar = page.locator("#p-new .track .sp").evaluate_all(BAR_STYLES)[0]
    assert abs(old_bar["right"] - new_bar["left"]) < 1.5  # ended the day before the later measure starts
    assert page.locator("#p-nodate .track .sp").count() == 0
    assert "not drawn on the axis" in page.locator("#p-nodate .when").inner_text()
    until = page.locator("#p-old .bound-until")
    assert not until.is_visible()
    page.click("#p-old summary")
    assert until.is_visible()
    assert "ended by measure:p-new on 2022-11-25" in until.inner_text()
    link = page.locator("#p-old li.link")
    assert "ended by · relaxed by" in link.inner_text() and "2022-11-25" in link.inner_text()
    assert "presumed in force" in page.locator("#p-old ul.spans").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "timeline-periods.png"))
    page.click("#tl-lang")
    assert "被终止" in until.inner_text()
    link.locator("a").click()
    page.wait_for_function("document.querySelector('#p-new details').open")
    assert shown.network() == [] and shown.errors == []


def test_period_bars_are_drawn_without_javascript(visit, periods_page: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(periods_page, javascript=False)
    styles = shown.page.locator("#p-attested .track .sp").evaluate_all(BAR_STYLES)
    assert [s["cls"].split()[1] for s in styles] == ["sp-attested", "sp-presumed", "sp-unknown"]
    assert all(s["width"] > 0 for s in styles)
    assert shown.page.locator(".legend .sp-presumed").is_visible()
    assert shown.network() == []


@pytest.fixture(scope="session")
def axe_script() -> Path:
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so axe-core cannot be fetched from the npm registry")
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--prefix", str(AXE_CACHE), "--no-audit", "--no-fund", "axe-core@4"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0 or not script.exists():
        pytest.skip(f"the npm registry is unreachable, so axe-core could not be installed: {done.stderr[-300:]}")
    return script


AXE_RUN = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
)


def test_axe_finds_no_violations_on_the_real_page(visit, real_page: Path, axe_script: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(real_page)
    shown.page.click("li.m summary")
    shown.page.click("details.more-stats summary")
    shown.page.add_script_tag(path=str(axe_script))
    assert shown.page.evaluate(AXE_RUN) == []
    assert shown.network() == []


def test_axe_finds_no_violations_in_chinese(visit, sample_page: Path, axe_script: Path) -> None:  # type: ignore[no-untyped-def]
    shown = visit(sample_page)
    shown.page.click("#tl-lang")
    shown.page.check("input[name=lanes][value=place]")
    shown.page.click("#t-daily-testing summary")
    shown.page.add_script_tag(path=str(axe_script))
    assert shown.page.evaluate(AXE_RUN) == []

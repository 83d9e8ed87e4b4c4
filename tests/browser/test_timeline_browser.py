"""The timeline page in a real headless Chromium: behaviour, no network, no script injection, axe-core.

These tests are part of the normal run. Without /usr/bin/chromium they fail and say to run
`make browser`; only axe-core, fetched from the npm registry into a cache folder, may be skipped
when the registry cannot be reached.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest
from click.testing import CliRunner
from samples import PERIODS_TTL, ROOT, SAMPLE_TTL, XSS_TTL, axe_core, chromium

import kb.timeline.context
from kb.cli import main

if TYPE_CHECKING:  # imported where the browser starts, so that collecting the tests stays fast
    from playwright.sync_api import Browser, Dialog, Route, ViewportSize

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


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

    def __init__(
        self,
        browser: Browser,
        path: Path,
        javascript: bool = True,
        fragment: str = "",
        size: tuple[int, int] = (1400, 900),
    ) -> None:
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        viewport: ViewportSize = {"width": size[0], "height": size[1]}
        self.context = browser.new_context(java_script_enabled=javascript, viewport=viewport)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri() + fragment)
        if javascript:
            self.page.wait_for_selector("html[data-ready]", state="attached")

    def _route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible_ids(self) -> set[str]:
        return set(
            self.page.eval_on_selector_all("li.m", "els => els.filter(e => e.offsetParent !== null).map(e => e.id)")
        )

    def network(self) -> list[str]:
        return [url for url in self.requests if not url.startswith("file://")]


class OpenPage(Protocol):
    def __call__(
        self, path: Path, javascript: bool = True, fragment: str = "", size: tuple[int, int] = (1400, 900)
    ) -> Visit: ...


@pytest.fixture
def visit(browser: Browser) -> Iterator[OpenPage]:
    opened: list[Visit] = []

    def open_page(
        path: Path, javascript: bool = True, fragment: str = "", size: tuple[int, int] = (1400, 900)
    ) -> Visit:
        opened.append(Visit(browser, path, javascript, fragment, size))
        return opened[-1]

    yield open_page
    for page in opened:
        page.context.close()


ALL = {"t-daily-testing", "t-open-end", "t-no-mass-testing", "t-undated", "t-2020-briefing"}


def test_real_page_makes_no_network_request_and_is_screenshotted(visit: OpenPage, real_page: Path) -> None:
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


def test_filters_change_the_visible_set(visit: OpenPage, sample_page: Path) -> None:
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


def test_search_finds_both_scripts_and_english(visit: OpenPage, sample_page: Path) -> None:
    shown = visit(sample_page)
    found = {}
    for query, _ in SEARCHES:
        shown.page.fill("#tl-search", query)
        found[query] = shown.visible_ids()
    assert found == dict(SEARCHES)


def test_language_switch(visit: OpenPage, sample_page: Path) -> None:
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


def test_lanes_by_place_keep_every_measure_once(visit: OpenPage, sample_page: Path) -> None:
    shown = visit(sample_page)
    lanes = shown.page.locator("#tl-lanes .lane h3")
    assert "PCR testing" in lanes.all_inner_texts()
    shown.page.check("input[name=lanes][value=place]")
    assert {"Shapingba District", "Chongqing"} <= set(lanes.all_inner_texts())
    assert sorted(shown.page.eval_on_selector_all("li.m", "els => els.map(e => e.id)")) == sorted(ALL)
    assert shown.visible_ids() == ALL


def test_selecting_a_measure_shows_its_quote_and_links_navigate(visit: OpenPage, sample_page: Path) -> None:
    shown = visit(sample_page)
    quote = shown.page.locator("#t-daily-testing mark").first
    assert not quote.is_visible()
    shown.page.click("#t-daily-testing summary")
    assert quote.is_visible() and quote.inner_text() == "中心城区各区将实行一天一次的区域核酸检测"
    assert shown.page.evaluate("location.hash") == "#t-daily-testing"
    shown.page.locator("#t-daily-testing a[href='#t-no-mass-testing']").click()
    shown.page.wait_for_function("document.querySelector('#t-no-mass-testing details').open")
    assert shown.page.locator("#t-no-mass-testing mark").first.is_visible()


def test_permalink_opens_the_measure_and_arrow_keys_move(visit: OpenPage, sample_page: Path) -> None:
    shown = visit(sample_page, fragment="#t-open-end")
    assert shown.page.locator("#t-open-end details").evaluate("d => d.open")
    assert shown.page.evaluate("document.activeElement.closest('li.m').id") == "t-open-end"
    shown.page.keyboard.press("ArrowUp")
    after = shown.page.evaluate("document.activeElement.closest('li.m').id")
    assert after != "t-open-end" and after in ALL


def test_readable_without_javascript(visit: OpenPage, sample_page: Path) -> None:
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


def test_hostile_labels_and_quotes_stay_inert(visit: OpenPage, hostile_page: Path) -> None:
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


def test_period_bars_are_drawn_by_basis_and_the_panel_shows_the_basis(visit: OpenPage, periods_page: Path) -> None:
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


def test_period_bars_are_drawn_without_javascript(visit: OpenPage, periods_page: Path) -> None:
    shown = visit(periods_page, javascript=False)
    styles = shown.page.locator("#p-attested .track .sp").evaluate_all(BAR_STYLES)
    assert [s["cls"].split()[1] for s in styles] == ["sp-attested", "sp-presumed", "sp-unknown"]
    assert all(s["width"] > 0 for s in styles)
    assert shown.page.locator(".legend .sp-presumed").is_visible()
    assert shown.network() == []


@pytest.fixture(scope="session")
def axe_script() -> Path:
    return axe_core()


AXE_RUN = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
)


def test_axe_finds_no_violations_on_the_real_page(visit: OpenPage, real_page: Path, axe_script: Path) -> None:
    shown = visit(real_page)
    shown.page.click("li.m summary")
    shown.page.click("details.more-stats summary")
    shown.page.add_script_tag(path=str(axe_script))
    assert shown.page.evaluate(AXE_RUN) == []
    assert shown.network() == []


def test_axe_finds_no_violations_in_chinese(visit: OpenPage, sample_page: Path, axe_script: Path) -> None:
    shown = visit(sample_page)
    shown.page.click("#tl-lang")
    shown.page.check("input[name=lanes][value=place]")
    shown.page.click("#t-daily-testing summary")
    shown.page.add_script_tag(path=str(axe_script))
    assert shown.page.evaluate(AXE_RUN) == []


# ---------------------------------------------------------------- issue 15: the page people read, at both sizes

DESKTOP, PHONE = (1440, 900), (390, 844)
SIZES = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]
# A label's text and box, and the boxes of every label shown on each axis (tick labels and segment titles).
BOX_OF = """e => { const r = e.getBoundingClientRect();
  return {text: e.innerText.replace(/\\s+/g, ' '), left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""
AXIS_LABELS = f"""() => Array.from(document.querySelectorAll('.row.axis')).map(axis =>
  Array.from(axis.querySelectorAll('.tick > .lab, .segment-title'))
    .filter(e => getComputedStyle(e).display !== 'none' && e.getClientRects().length).map({BOX_OF}))"""


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    ]


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@pytest.mark.parametrize("size", SIZES)
def test_first_screen_shows_the_overview_with_measures(visit, real_page: Path, size: tuple[int, int]) -> None:
    shown = visit(real_page, size=size)
    page = shown.page
    _screenshot(page, f"timeline-{size[0]}x{size[1]}.png")
    links = page.eval_on_selector_all(
        "#tl-overview a[href^='#']",
        "els => els.map(e => ({href: e.getAttribute('href'), top: e.getBoundingClientRect().top,"
        " bottom: e.getBoundingClientRect().bottom, visible: e.offsetParent !== null}))",
    )
    measure_ids = set(
        page.evaluate("JSON.parse(document.getElementById('tl-data').textContent).measures.map(m => m[0])")
    )
    first_screen = [a for a in links if a["visible"] and a["bottom"] <= size[1] and a["href"][1:] in measure_ids]
    assert len(first_screen) >= 3, links[:5]
    # an overview link opens the measure it names
    page.click(f"#tl-overview a[href='{first_screen[0]['href']}']")
    page.wait_for_function(f"document.getElementById('{first_screen[0]['href'][1:]}').querySelector('details').open")
    assert shown.network() == [] and shown.errors == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["en", "zh", "no-js"])
def test_axis_labels_never_overlap_and_nothing_scrolls_sideways(visit, real_page: Path, size, language) -> None:
    shown = visit(real_page, size=size, javascript=language != "no-js")
    page = shown.page
    if language == "zh":
        page.click("#tl-lang")
        assert page.evaluate("document.documentElement.lang") == "zh"
    axes = page.evaluate(AXIS_LABELS)
    assert len(axes) == 2  # the measures' axis and the chart's
    for labels in axes:
        assert len(labels) >= 4, labels  # both segment titles and at least a tick label each
        assert _overlaps(labels) == []
        assert all(b["left"] >= 0 and b["right"] <= size[0] for b in labels), labels
    # the break never hides a label: every label starts right of the break it follows
    breaks = page.eval_on_selector_all(".row.axis .break", "els => els.map(e => e.getBoundingClientRect().right)")
    for labels in axes:
        for b in labels:
            assert not any(b["left"] < right - 1 < b["right"] for right in breaks), (b, breaks)
    if language == "zh":
        assert any(b["text"].startswith("11月") for b in axes[0]), axes[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.evaluate("document.querySelector('#tl-chart').scrollIntoView()")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    if language != "no-js":
        page.evaluate("document.querySelector('li.m details').open = true")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    _screenshot(page, f"timeline-axis-{language}-{size[0]}x{size[1]}.png")


@pytest.mark.parametrize("size", SIZES)
def test_the_axis_sticks_and_lane_headings_stay_above_the_bars(visit, real_page: Path, size) -> None:
    shown = visit(real_page, size=size)
    page = shown.page
    page.evaluate("document.querySelectorAll('#tl-lanes li.m')[20].scrollIntoView()")
    axis = page.eval_on_selector(".timeline > .axis", "e => e.getBoundingClientRect().top")
    assert abs(axis) < 1
    heading = page.eval_on_selector_all(
        "#tl-lanes .lane h3",
        "els => els.map(e => e.getBoundingClientRect()).filter(r => r.top < innerHeight && r.bottom > 0)"
        ".map(r => ({top: r.top, x: r.left + r.width - 5, y: r.top + r.height / 2}))",
    )[0]
    axis_bottom = page.eval_on_selector(".timeline > .axis", "e => e.getBoundingClientRect().bottom")
    assert heading["top"] >= axis_bottom - 1
    # what is painted at the heading is the heading, not a bar under it
    hit = page.evaluate(f"document.elementFromPoint({heading['x']}, {heading['y']}).closest('h3') !== null")
    assert hit


DAILY = "central-daily-area-testing"
ENDED_BY = "no-area-wide-testing-by-administrative-region-30-nov"


def _tick_left(page, day: str) -> float:
    return page.eval_on_selector(f".timeline > .axis .tick[data-day='{day}']", "e => e.getBoundingClientRect().left")


@pytest.mark.parametrize("size", SIZES)
def test_daily_testing_is_drawn_as_a_range_that_ends_when_the_later_measures_end_it(
    visit, real_page: Path, size
) -> None:
    shown = visit(real_page, size=size, fragment=f"#{DAILY}")
    page = shown.page
    bars = page.locator(f"#{DAILY} .track .sp").evaluate_all(BAR_STYLES)
    start, end = min(b["left"] for b in bars), max(b["right"] for b in bars)
    day_px = _tick_left(page, "2022-11-10") - _tick_left(page, "2022-11-09")
    assert abs(start - _tick_left(page, "2022-11-09")) < 1.5  # from the announcement, 9 Nov
    assert abs(end - _tick_left(page, "2022-11-30")) < 1.5  # to 29 Nov inclusive: the 30 Nov measures end it
    assert end - start > 15 * day_px  # a range, not a dot
    (cap,) = page.locator(f"#{DAILY} .track .cap").evaluate_all(BAR_STYLES)
    assert cap["cls"] == "cap b-ended-by" and abs(cap["left"] + 1.5 - end) < 2
    assert "ended by measure:" in page.locator(f"#{DAILY} .bound-until").inner_text()
    _screenshot(page, f"timeline-daily-testing-{size[0]}x{size[1]}.png")


def test_a_change_link_is_drawn_on_the_axis_dated_in_the_details_and_navigable(visit, real_page: Path) -> None:
    shown = visit(real_page, fragment=f"#{DAILY}")
    page = shown.page
    marker = page.locator(f"#{DAILY} .track .chg[data-target='{ENDED_BY}']")
    assert marker.get_attribute("data-day") == "2022-11-30"
    box = marker.bounding_box()
    assert box is not None and abs(box["x"] + box["width"] / 2 - _tick_left(page, "2022-11-30")) < 2
    # dated in the details: the link to the later measure says on which day it ended this one
    link = page.locator(
        f"#{DAILY} li.link[data-way='in'][data-effect='ends']", has=page.locator(f"a[href='#{ENDED_BY}']")
    )
    assert link.locator("time.link-day").inner_text() == "2022-11-30"
    marker.click()
    page.wait_for_function(f"location.hash === '#{ENDED_BY}'")
    page.wait_for_function(f"document.getElementById('{ENDED_BY}').querySelector('details').open")
    assert page.evaluate("document.activeElement.closest('li.m').id") == ENDED_BY
    assert shown.network() == [] and shown.errors == []


@pytest.mark.parametrize("size", SIZES)
def test_the_chart_has_scales_values_on_focus_and_a_legend_that_selects_areas(visit, real_page: Path, size) -> None:
    shown = visit(real_page, size=size)
    page = shown.page
    chart = page.locator("#chart-new-confirmed-cases")
    chart.scroll_into_view_if_needed()
    panels = chart.locator(".row.stat")
    assert panels.count() >= 2  # Chongqing (up to 109) and the districts (up to 30) do not share a scale
    for n in range(panels.count()):
        scale = [t.strip() for t in panels.nth(n).locator(".yaxis > span").all_inner_texts()]
        assert scale[0] == "0" and len(scale) == 3, scale
        assert float(scale[-1].replace(",", "")) > 0
        labels = panels.nth(n).locator(".yaxis > span").evaluate_all(f"els => els.map({BOX_OF})")
        assert _overlaps(labels) == []
    first_top = panels.nth(0).locator(".yaxis > span").last.inner_text()
    assert first_top != panels.nth(1).locator(".yaxis > span").last.inner_text()
    point = panels.nth(0).locator("a.pt").first
    value = point.locator("text.val")
    assert not value.is_visible()
    point.focus()
    assert value.is_visible()
    shown_value = value.text_content() or ""
    iri = point.locator("circle").get_attribute("data-iri")
    # the one table row the point links to (the ids read in one call, not a round trip per row)
    rows = page.locator("#tl-statistics tbody tr")
    href = point.get_attribute("href")
    assert href is not None
    (index,) = [n for n, id_ in enumerate(rows.evaluate_all("els => els.map(e => e.id)")) if id_ == href[1:]]
    assert shown_value.split(" · ")[0] in (rows.nth(index).text_content() or "") and iri
    # the legend names each area with its colour; unticking one hides its series
    box = panels.nth(1).locator("input[data-series]").first
    series = panels.nth(1).locator(f".series[data-series='{box.get_attribute('data-series')}']")
    assert series.is_visible()
    box.uncheck()
    assert not series.is_visible()
    _screenshot(page, f"timeline-chart-{size[0]}x{size[1]}.png")


def _changes(params: dict[str, str]) -> list[tuple[str, str]]:
    from kb.project import Project
    from kb.query import get_named_query, run_query
    from kb.store import open_store
    from kb.timeline import slug_of

    question = get_named_query("changes-between")
    rows = run_query(open_store(Project(ROOT)), question.text, params).records()
    return [(slug_of(str(r["measure"])), str(r["change"])) for r in rows]


@pytest.mark.parametrize(
    "fragment, params",
    [
        (
            "#between=2022-11-29,2022-12-01,shapingba",
            {"from": "2022-11-29", "to": "2022-12-01", "place": "place:shapingba"},
        ),
        ("#between=2020-01-01,2020-02-28", {"from": "2020-01-01", "to": "2020-02-28"}),
    ],
)
def test_the_two_day_view_lists_what_changes_between_answers(visit, real_page: Path, fragment, params) -> None:
    expected = _changes(params)
    assert expected
    shown = visit(real_page, fragment=fragment)
    page = shown.page
    rows = page.eval_on_selector_all(
        "#tl-between-result li.change-row", "els => els.map(e => [e.dataset.measure, e.dataset.change])"
    )
    assert [tuple(r) for r in rows] == expected
    assert page.input_value("#tl-from") == params["from"] and page.input_value("#tl-to") == params["to"]
    assert shown.network() == [] and shown.errors == []


def test_the_two_day_view_from_the_form_is_shareable(visit, real_page: Path) -> None:
    shown = visit(real_page, size=PHONE)
    page = shown.page
    page.fill("#tl-from", "2022-11-29")
    page.fill("#tl-to", "2022-11-30")
    page.select_option("#tl-between-place", "shapingba")
    page.click("#tl-between-form button[type=submit]")
    assert page.evaluate("location.hash") == "#between=2022-11-29,2022-11-30,shapingba"
    listed = page.eval_on_selector_all("#tl-between-result li.change-row", "els => els.map(e => e.dataset.measure)")
    assert listed == [m for m, _ in _changes({"from": "2022-11-29", "to": "2022-11-30", "place": "place:shapingba"})]
    assert "daily" in page.locator("#tl-between-result").inner_text()
    page.locator("#tl-between-result a").first.click()
    page.wait_for_function("document.querySelector('li.m.selected details[open]') !== null")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    _screenshot(page, "timeline-between-390x844.png")


@pytest.mark.parametrize("size", SIZES)
def test_without_javascript_both_languages_are_readable(visit, sample_page: Path, size) -> None:
    shown = visit(sample_page, javascript=False, size=size)
    page = shown.page
    title = page.locator("#t-daily-testing .title")
    assert title.locator(".l-en").is_visible() and title.locator(".l-zh").is_visible()
    text = title.inner_text()
    assert "one area PCR test a day" in text and "中心城区各区实行一天一次的区域核酸检测" in text
    heading = page.locator("#tl-overview-heading").inner_text()
    assert "Key changes" in heading and "关键变化" in heading
    assert not page.locator("#tl-between").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    _screenshot(page, f"timeline-nojs-{size[0]}x{size[1]}.png")
    assert shown.network() == []


def test_find_in_page_reaches_every_quote_of_the_shipped_kb(visit: OpenPage, real_page: Path) -> None:
    shown = visit(real_page)
    page = shown.page
    built = page.eval_on_selector_all("#tl-lanes li.m", "els => els.length")
    assert built == int(page.locator(".tl-shown").first.inner_text())  # every row built, none left for later
    marks = page.eval_on_selector_all("#tl-lanes li.m mark", "ms => ms.map(m => m.textContent)")
    assert len(marks) == real_page.read_text("utf-8").count("<mark>")  # every quote of the list is in the page
    assert page.evaluate("text => window.find(text)", marks[-1][:20])  # the browser's own find reaches the last


# ---------------------------------------------------------------- a page over the full-list size (issue 15, 10k)


def _render_large(tmp_path_factory: pytest.TempPathFactory, name: str, facts: str) -> Path:
    """The knowledge base rendered as a page with more measures than the full list holds (the limit lowered to 2):
    rows drawn by the script from its data, details shipped compressed two measures a block."""
    base = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kb.timeline.context, "FULL_LIST_MAX", 2)
        patch.setattr(kb.timeline.context, "DETAIL_CHUNK", 2)
        return _render(_knowledge_base(base / "kb", facts), base / "timeline.html")


@pytest.fixture(scope="module")
def large_sample_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render_large(tmp_path_factory, "large-sample", SAMPLE_TTL)


@pytest.fixture(scope="module")
def large_periods_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render_large(tmp_path_factory, "large-periods", PERIODS_TTL)


# Each built row as the browser serialises it, whitespace between tags dropped (the template indents, the script not).
ROWS = """els => els.map(e => [e.id,
  e.querySelector('summary').outerHTML.replace(/>\\s+</g, '><').replace(/\\s+/g, ' ')])"""


def _all_rows(shown: Visit) -> list[list[str]]:
    total = shown.page.locator(".tl-shown").first.inner_text()
    shown.page.wait_for_function(f"document.querySelectorAll('#tl-lanes li.m').length === {total}")
    return sorted(shown.page.eval_on_selector_all("#tl-lanes li.m", ROWS))


def test_a_large_page_draws_the_rows_the_full_list_has(
    visit: OpenPage, sample_page: Path, large_sample_page: Path, periods_page: Path, large_periods_page: Path
) -> None:
    for full, large in ((sample_page, large_sample_page), (periods_page, large_periods_page)):
        expected = _all_rows(visit(full))
        shown = visit(large)
        assert _all_rows(shown) == expected
        assert shown.network() == [] and shown.errors == []


def _detail(shown: Visit, measure: str) -> str:
    return " ".join(shown.page.locator(f"#{measure} .detail").inner_html().split()).replace("> <", "><")


def test_a_large_page_fills_a_detail_on_opening_as_the_full_list_has_it(
    visit: OpenPage, sample_page: Path, large_sample_page: Path
) -> None:
    expected = {m: _detail(visit(sample_page), m) for m in ("t-daily-testing", "t-no-mass-testing")}
    shown = visit(large_sample_page)
    page = shown.page
    assert page.locator("mark").count() == 0  # no detail is in the page before it is opened
    page.click("#t-daily-testing summary")
    page.wait_for_selector("#t-daily-testing mark")
    assert _detail(shown, "t-daily-testing") == expected["t-daily-testing"]
    page.locator("#t-daily-testing a[href='#t-no-mass-testing']").click()  # a measure of another block
    page.wait_for_selector("#t-no-mass-testing details[open] mark")
    assert _detail(shown, "t-no-mass-testing") == expected["t-no-mass-testing"]
    page.select_option("#tl-category", "testing")
    assert shown.visible_ids() == {"t-daily-testing", "t-no-mass-testing"}
    assert shown.network() == [] and shown.errors == []


def test_a_large_page_opens_at_a_permalink_and_passes_axe(
    visit: OpenPage, large_sample_page: Path, axe_script: Path
) -> None:
    shown = visit(large_sample_page, fragment="#t-no-mass-testing")
    shown.page.wait_for_selector("#t-no-mass-testing details[open] mark")
    assert shown.page.evaluate("document.activeElement.closest('li.m').id") == "t-no-mass-testing"
    shown.page.add_script_tag(path=str(axe_script))
    assert shown.page.evaluate(AXE_RUN) == []


def test_a_large_page_without_javascript_lists_every_measure_and_says_where_the_details_are(
    visit: OpenPage, large_sample_page: Path
) -> None:
    shown = visit(large_sample_page, javascript=False)
    page = shown.page
    assert shown.visible_ids() == ALL
    note = page.locator(".lazy-note")
    assert "need JavaScript" in note.inner_text() and "需启用 JavaScript" in note.inner_text()
    assert page.locator("#t-daily-testing .track .sp").count() >= 1
    assert page.locator("#t-daily-testing time[datetime='2022-11-10']").count() >= 1
    assert page.locator("mark").count() == 0
    assert shown.network() == []


def test_a_large_page_draws_hostile_labels_and_quotes_as_text(
    visit: OpenPage, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shown = visit(_render_large(tmp_path_factory, "large-hostile", XSS_TTL))
    page = shown.page
    page.wait_for_function("document.querySelectorAll('#tl-lanes li.m').length > 0")
    page.click("li.m summary")
    page.wait_for_selector("li.m details[open] .detail:not([data-lazy])")
    page.check("input[name=lanes][value=place]")
    assert shown.dialogs == [] and shown.errors == []
    assert page.locator("img").count() == 0
    titles = " ".join(page.locator("li.m .title").all_text_contents())  # both languages
    assert "<script>alert(1)</script>" in titles and "<img src=x onerror=alert(1)>" in titles

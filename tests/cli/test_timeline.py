"""The timeline page: what it contains (parsed HTML), its safety, and the `kb timeline` command."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from samples import PERIODS_TTL, SAMPLE_TTL, XSS_TTL

from kb.cli import main
from kb.project import Project
from kb.query import run_query
from kb.store import open_store
from kb.timeline import TEMPLATE_DIR as TEMPLATES
from kb.timeline import Axis, build_char_map, fold, json_for_script, quote_in_context, slug_of
from kb.timeline.model import TimelineContext


class PageParser(HTMLParser):
    """Collects what the tests look at: elements by tag, ids, classes, attributes and script text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def with_class(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and cls in a.get("class", "").split()]

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.elements if "id" in a]


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text("utf-8"))
    return parser


def item_html(html: str, measure_id: str) -> str:
    """The markup of one measure's list item (up to the next measure or the end of the list)."""
    start = html.index(f'<li class="m" id="{measure_id}"')
    ends = [i for i in (html.find('<li class="m" ', start + 1), html.find("</ol>", start)) if i > 0]
    return html[start : min(ends)]


def item(html: str, measure_id: str) -> PageParser:
    parser = PageParser()
    parser.feed(item_html(html, measure_id))
    return parser


def pieces(part: PageParser) -> list[tuple[str, bool]]:
    """The drawn status spans of one measure's bar: (style, open), left to right."""
    found = []
    for attrs in part.with_class("span", "sp"):
        classes = attrs["class"].split()
        if "style" in attrs:
            found.append((next(c[3:] for c in classes if c.startswith("sp-")), "open" in classes))
    return found


def geometry(attrs: dict[str, str]) -> tuple[float, float]:
    """(left, width) in % from a drawn piece's style attribute."""
    found = dict(re.findall(r"(left|width):([\d.]+)%", attrs["style"]))
    return float(found["left"]), float(found.get("width", 0.0))


def text_of(markup: str) -> str:
    """The English text of some markup: the zh halves of bilingual labels and the tags removed."""
    markup = re.sub(r'<span class="l-zh" lang="zh">.*?</span>', "", markup)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(dt|dd|li)>", " ", markup))).split())


def zh_text_of(markup: str) -> str:
    markup = re.sub(r'<span class="l-en" lang="en">.*?</span>', "", markup)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(dt|dd|li)>", " ", markup))).split())


def field(markup: str, cls: str) -> str:
    """The markup of the <dd class=cls> of a details panel."""
    start = markup.index(f'<dd class="{cls}">')
    return markup[start : markup.index("</dd>", start)]


def add_facts(project: Project, name: str, text: str) -> None:
    (project.facts_dir / name).write_text(text, "utf-8")


def render(runner: CliRunner, project: Project, out: Path) -> Result:
    result = runner.invoke(main, ["--root", str(project.root), "timeline", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result


# ---------------------------------------------------------------- the real knowledge base


@pytest.fixture(scope="module")
def real_page(tmp_path_factory: pytest.TempPathFactory, project: Project) -> Path:
    out = tmp_path_factory.mktemp("timeline") / "timeline.html"
    render(CliRunner(), project, out)
    return out


def test_every_measure_of_the_kb_is_one_item(real_page: Path, project: Project) -> None:
    measures = run_query(open_store(project), "SELECT DISTINCT ?m WHERE { ?m a cq:Measure }").records()
    items = parse(real_page).with_class("li", "m")
    assert len(items) == len(measures)
    assert {slug_of(str(r["m"])) for r in measures} <= {i["id"] for i in items} | {
        i["id"].rsplit("-", 1)[0] for i in items
    }


def test_every_dated_statistic_is_one_point_in_the_chart_or_one_listed_value(real_page: Path, project: Project) -> None:
    query = "SELECT DISTINCT ?o WHERE { ?o a cq:Observation ; cq:statistic ?s ; cq:refDate ?d ; cq:value ?v }"
    observations = {str(r["o"]) for r in run_query(open_store(project), query).records()}
    page = parse(real_page)
    points = [p["data-iri"] for p in page.with_class("circle", "obs")]
    listed = [r["data-iri"] for r in page.with_class("tr", "obs-value")]
    assert points and listed
    assert sorted(points + listed) == sorted(observations)


def test_every_measure_of_the_kb_is_drawn_over_its_period_or_says_it_is_not(real_page: Path, project: Project) -> None:
    store = open_store(project)
    no_date = run_query(store, "SELECT ?m WHERE { ?m a cq:Measure ; cq:effectiveFromBasis cq:NoDateBasis }").records()
    html = real_page.read_text("utf-8")
    ids = [li["id"] for li in parse(real_page).with_class("li", "m")]
    undrawn = [i for i in ids if not pieces(item(html, i))]
    assert no_date and len(undrawn) == len(no_date)
    assert {slug_of(str(r["m"])) for r in no_date} == set(undrawn)
    for measure_id in undrawn:
        assert "no date known: not drawn on the axis" in text_of(item_html(html, measure_id))
    # the daily area testing is ended by the 30 Nov measures: drawn up to a cap, the basis in its panel
    testing = item_html(html, "central-daily-area-testing")
    assert 'class="cap b-ended-by"' in testing
    assert "ended by measure:" in text_of(field(testing, "bound-until"))


def test_permalinks_are_unique(real_page: Path) -> None:
    ids = parse(real_page).ids()
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


def test_every_announcement_is_a_marker_with_a_target(real_page: Path, project: Project) -> None:
    query = "SELECT DISTINCT ?a WHERE { ?a cq:date ?d ; a/rdfs:subClassOf* cq:Announcement }"
    count = len(run_query(open_store(project), query).records())
    page = parse(real_page)
    markers = page.with_class("a", "ev")
    assert len(markers) == count
    assert {m["href"][1:] for m in markers} <= set(page.ids())


def test_page_is_self_contained(real_page: Path) -> None:
    html = real_page.read_text("utf-8")
    page = parse(real_page)
    for tag, attrs in page.elements:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name, "")
            assert not re.match(r"\s*(https?:|//|ftp:)", value), (tag, name, value)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet"), attrs
        assert not (tag == "script" and "src" in attrs), attrs
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)


# ---------------------------------------------------------------- a small knowledge base with inline data


@pytest.fixture
def sample(mini_project: Project) -> Project:
    add_facts(mini_project, "article-900.ttl", SAMPLE_TTL)
    return mini_project


def test_sample_page_draws_each_measure_over_its_effective_period(
    runner: CliRunner, sample: Project, tmp_path: Path
) -> None:
    out = tmp_path / "t.html"
    result = render(runner, sample, out)
    assert "5 measures" in result.output
    page = parse(out)
    html = out.read_text("utf-8")
    ids = {li["id"] for li in page.with_class("li", "m")}
    assert ids == {"t-daily-testing", "t-open-end", "t-no-mass-testing", "t-undated", "t-2020-briefing"}
    drawn = {i: pieces(item(html, i)) for i in ids}
    # stated start and stated period, one solid piece ending at the stated end
    assert drawn["t-daily-testing"] == [("stated", False)]
    assert [a["class"] for a in item(html, "t-daily-testing").with_class("span", "cap")] == ["cap b-stated-end"]
    assert item(html, "t-daily-testing").with_class("span", "period")[0]["class"].split()[1] == "s-mandatory"
    # stated start day, then presumed while the sources cover it, then unknown (open, no cap)
    assert drawn["t-open-end"] == [("stated", False), ("presumed", False), ("unknown", True)]
    assert not item(html, "t-open-end").with_class("span", "cap")
    assert drawn["t-no-mass-testing"] == [("presumed", False), ("unknown", True)]
    assert drawn["t-2020-briefing"] == [("presumed", False), ("unknown", True)]
    # no date known: listed, not drawn, and it says so
    assert drawn["t-undated"] == [] and not item(html, "t-undated").with_class("span", "period")
    assert "no date known: not drawn on the axis" in text_of(item_html(html, "t-undated"))
    assert '<time datetime="2022-11-10">' in html
    assert "no end stated" in html and "still in force" not in html.replace("not “still in force”", "")


def test_sample_axis_is_broken_between_the_two_periods(runner: CliRunner, sample: Project, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    render(runner, sample, out)
    page = parse(out)
    axes = len(page.with_class("div", "axis"))  # the measures' axis and the chart's
    assert axes == 2
    assert len(page.with_class("span", "segment")) == 2 * axes
    assert len(page.with_class("span", "break")) == 1 * axes
    points = page.with_class("circle", "obs")
    assert len(points) == 3
    xs = [float(p["cx"].rstrip("%")) for p in points]
    assert xs == sorted(xs) and xs[-1] - xs[0] < 100


def test_selected_measure_shows_links_both_ways_and_quote_in_context(
    runner: CliRunner, sample: Project, tmp_path: Path
) -> None:
    out = tmp_path / "t.html"
    render(runner, sample, out)
    html = out.read_text("utf-8")
    item = html[html.index('id="t-daily-testing"') : html.index('id="t-open-end"')]
    assert 'href="#t-no-mass-testing"' in item and "relaxed by" in item and "ended by" in item
    assert 'href="#t-open-end"' in item and "tightened by" in item and "amended by" in item
    assert 'href="#ann-t-press-136"' in item
    assert "<mark>中心城区各区将实行一天一次的区域核酸检测</mark>" in item
    assert '<span class="context">' in item and "快速找出隐匿传染源," in item
    assert "test frequency" in item and "per day" in item
    other = html[html.index('id="t-no-mass-testing"') :]
    assert 'href="#t-daily-testing"' in other[: other.index("</details>")]
    assert 'lang="zh-Hant"' in other[: other.index("</details>")]


def _script_data(html: str, element: str) -> object:
    start = html.index(f'<script type="application/json" id="{element}">')
    return json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])


def test_a_large_page_ships_each_measures_detail_compressed_and_lists_summaries_only(
    runner: CliRunner, sample: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import gzip

    import kb.timeline.context

    full, large = tmp_path / "full.html", tmp_path / "large.html"
    render(runner, sample, full)
    monkeypatch.setattr(kb.timeline.context, "FULL_LIST_MAX", 4)  # the sample has 5 measures
    monkeypatch.setattr(kb.timeline.context, "DETAIL_CHUNK", 2)
    render(runner, sample, large)
    full_html, large_html = full.read_text("utf-8"), large.read_text("utf-8")
    assert 'id="tl-details"' not in full_html and "lazy-note" not in full_html
    ids = [a["id"] for a in parse(full).with_class("li", "m")]
    assert [a["id"] for a in parse(large).with_class("li", "m")] == ids
    blocks = _script_data(large_html, "tl-details")
    assert isinstance(blocks, list) and len(blocks) == 3  # 2 + 2 + 1
    details = [d for b in blocks for d in json.loads(gzip.decompress(base64.b64decode(b)))]
    for measure, detail in zip(ids, details, strict=True):
        markup = item_html(full_html, measure)
        shipped = markup[markup.index('<div class="detail">') + len('<div class="detail">') : markup.rindex("</div>")]
        assert " ".join(detail.split()) == " ".join(shipped.split()), measure
        lazy = item_html(large_html, measure)
        assert '<div class="detail" data-lazy></div>' in lazy and "<mark>" not in lazy
        summary = markup[: markup.index("</summary>")]
        assert " ".join(lazy[: lazy.index("</summary>")].split()) == " ".join(summary.split())
    data = _script_data(large_html, "tl-data")
    assert isinstance(data, dict) and data["chunk"] == 2 and len(data["rows"]) == len(ids)
    assert _script_data(full_html, "tl-data")["chunk"] == 0  # type: ignore[index]
    assert large_html.index("<script>") < large_html.index('<noscript id="tl-list-source">')
    assert "more than 4" in large_html and "need JavaScript" in large_html


@pytest.fixture
def periods_page(runner: CliRunner, mini_project: Project, tmp_path: Path) -> str:
    add_facts(mini_project, "article-902.ttl", PERIODS_TTL)
    out = tmp_path / "periods.html"
    render(runner, mini_project, out)
    return out.read_text("utf-8")


def test_stated_period_is_one_solid_piece_with_its_bases(periods_page: str) -> None:
    part = item(periods_page, "p-stated")
    assert pieces(part) == [("stated", False)]
    assert [a["class"] for a in part.with_class("span", "cap")] == ["cap b-stated-end"]
    (bar,) = [a for a in part.with_class("span", "sp") if "style" in a]
    left, width = geometry(bar)
    (cap,) = part.with_class("span", "cap")
    assert abs(left + width - geometry(cap)[0]) < 0.01
    markup = item_html(periods_page, "p-stated")
    assert text_of(field(markup, "bound-from")) == "10 Nov 2022 stated start"
    assert text_of(field(markup, "bound-until")) == "20 Nov 2022 stated end"
    assert "in effect 10 Nov 2022 – 20 Nov 2022 (stated end)" in text_of(markup)


def test_attestation_only_is_hatched_then_presumed_then_unknown_where_coverage_ends(periods_page: str) -> None:
    part = item(periods_page, "p-attested")
    assert pieces(part) == [("attested", False), ("presumed", False), ("unknown", True)]
    assert not part.with_class("span", "cap")
    markup = item_html(periods_page, "p-attested")
    assert text_of(field(markup, "bound-from")) == "9 Nov 2022 attested"
    assert text_of(field(markup, "bound-until")) == "1 Dec 2022 coverage ends on 2022-12-01: unknown after"
    assert zh_text_of(field(markup, "bound-until")) == "2022年12月1日 覆盖结束"
    assert [a["class"] for a in part.with_class("li", "span-attested")] == ["span-attested"]
    spans = text_of(markup[markup.index('<ul class="spans">') :])
    assert "in force 2022-11-09: attested on 2022-11-09" in spans
    assert "presumed in force 2022-11-10 – 2022-12-01: presumed: from 2022-11-09" in spans
    assert "unknown from 2022-12-02 on: outside the sources' coverage" in spans
    assert "Attested in force 9 Nov 2022" in text_of(markup)


def test_ended_by_pair_meets_on_the_axis_and_each_link_states_effect_direction_and_dates(periods_page: str) -> None:
    old, new = item(periods_page, "p-old"), item(periods_page, "p-new")
    assert pieces(old) == [("presumed", False)]
    assert [a["class"] for a in old.with_class("span", "cap")] == ["cap b-ended-by"]
    old_bar = [a for a in old.with_class("span", "sp") if "style" in a][-1]
    new_bar = [a for a in new.with_class("span", "sp") if "style" in a][0]
    assert abs(sum(geometry(old_bar)) - geometry(new_bar)[0]) < 0.01  # the day after the last day, no gap
    old_markup = item_html(periods_page, "p-old")
    until = field(old_markup, "bound-until")
    assert text_of(until) == ("24 Nov 2022 ended by measure:p-new on 2022-11-25 — measure that ends and relaxes it")
    assert 'href="#p-new"' in until
    (inbound,) = old.with_class("li", "link")
    assert (inbound["data-effect"], inbound["data-direction"], inbound["data-way"]) == ("ends", "relaxes", "in")
    links = text_of(old_markup[old_markup.index('<ul class="links">') :])
    assert "ended by · relaxed by: measure that ends and relaxes it (2022-11-25 stated start" in links
    (outbound,) = new.with_class("li", "link")
    assert (outbound["data-effect"], outbound["data-direction"], outbound["data-way"]) == ("ends", "relaxes", "out")
    new_markup = item_html(periods_page, "p-new")
    links = text_of(new_markup[new_markup.index('<ul class="links">') :])
    assert "ends · relaxes: measure ended by a later one (2022-11-12 announced – 2022-11-24 ended by)" in links
    assert "终止 · 放宽" in zh_text_of(new_markup)


def test_possible_end_by_a_blanket_repeal_is_a_dashed_cap_then_unknown(periods_page: str) -> None:
    part = item(periods_page, "p-maybe")
    assert pieces(part) == [("presumed", False), ("unknown", True)]
    assert [a["class"] for a in part.with_class("span", "cap")] == ["cap b-possibly-ended"]
    markup = item_html(periods_page, "p-maybe")
    assert "possibly ended by blanket repeal measure:p-repeal on 2022-11-28" in text_of(field(markup, "bound-until"))
    assert 'href="#p-repeal"' in markup[markup.index("Possibly ended by") :]


def test_no_date_known_is_listed_not_drawn_and_the_legend_names_every_style(periods_page: str) -> None:
    part = item(periods_page, "p-nodate")
    assert not part.with_class("span", "period") and not part.with_class("span", "sp")
    markup = item_html(periods_page, "p-nodate")
    assert "no date known: not drawn on the axis" in text_of(markup)
    assert text_of(field(markup, "bound-from")) == "no date known"
    legend = periods_page[periods_page.index('<div class="legend">') : periods_page.index('<div class="row axis"')]
    shown = {c for cls in re.findall(r'class="((?:sp|cap) [^"]+)"', legend) for c in cls.split()}
    assert {"sp-stated", "sp-attested", "sp-presumed", "sp-unknown", "b-ended-by", "b-possibly-ended"} <= shown
    assert "presumed in force" in text_of(legend) and "推定有效" in zh_text_of(legend)


def test_search_text_is_folded_to_simplified(runner: CliRunner, sample: Project, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    render(runner, sample, out)
    page = parse(out)
    data = json.loads(next(s for s in page.scripts if '"chars"' in s))
    (item,) = [m for m in data["measures"] if m[0] == "t-no-mass-testing"]
    assert "不再按行政区域开展全员核酸检测" in item[-1]
    assert data["chars"]["區"] == "区" and data["chars"]["檢"] == "检"


def test_hostile_text_stays_inert(runner: CliRunner, mini_project: Project, tmp_path: Path) -> None:
    add_facts(mini_project, "article-901.ttl", XSS_TTL)
    out = tmp_path / "t.html"
    render(runner, mini_project, out)
    html = out.read_text("utf-8")
    page = parse(out)
    assert not [a for t, a in page.elements if t == "img"]
    assert not any("onerror" in a for _, a in page.elements)
    scripts = [a for t, a in page.elements if t == "script"]
    assert len(scripts) == len(page.scripts) == 3
    code = [text for attrs, text in zip(scripts, page.scripts, strict=False) if attrs.get("type") != "application/json"]
    assert [c.strip() for c in code] == [(TEMPLATES / "timeline.js").read_text("utf-8").strip()]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    lanes = json.loads(next(s for s in page.scripts if '"category"' in s))
    assert "</script><!--<script>alert(3)</script>" in [lane["en"] for lane in lanes["category"]]


def test_missing_output_folder_is_a_clean_error(runner: CliRunner, sample: Project, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "t.html"
    result = runner.invoke(main, ["--root", str(sample.root), "timeline", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert not out.parent.exists()


def test_output_that_is_a_folder_is_refused(runner: CliRunner, sample: Project, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--root", str(sample.root), "timeline", "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_a_failed_render_leaves_the_old_page(
    runner: CliRunner, sample: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.timeline.render

    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "t.html"
    out.write_text("old page", "utf-8")

    def broken(context: TimelineContext) -> str:
        raise kb.timeline.render.TimelineError("template failed")

    monkeypatch.setattr(kb.timeline.render, "render_timeline", broken)
    result = runner.invoke(main, ["--root", str(sample.root), "timeline", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "template failed" in result.output
    assert out.read_text("utf-8") == "old page"
    assert [p.name for p in out.parent.iterdir()] == ["t.html"]


def test_help_describes_the_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["timeline", "--help"])
    assert result.exit_code == 0, result.output
    assert "self-contained" in result.output and "--output" in result.output


# ---------------------------------------------------------------- units


def test_json_for_script_cannot_close_the_script() -> None:
    text = json_for_script({"a": "</script><!--<script>", "b": "\u2028&"})
    assert "</" not in text and "<!--" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!--<script>", "b": "\u2028&"}


def test_quote_is_found_across_line_breaks_with_its_sentence() -> None:
    source = "第一句。接下来,中心城区\n各区将实行一天一次的区域核酸\n检测,其他区县按需。第三句。"
    found = quote_in_context("中心城区各区将实行一天一次的区域核酸检测", source, "zh-Hans", None)
    assert found.found
    assert (found.before, found.after) == ("接下来,", ",其他区县按需。")
    missing = quote_in_context("不在原文", source, "zh-Hans", None)
    assert not missing.found and missing.text == "不在原文"


def test_char_map_folds_both_scripts_to_one_form() -> None:
    texts = ["不再按行政區域開展全員核酸檢測", "隔离"]
    chars = build_char_map(texts)
    assert fold("行政区域", chars) in fold(texts[0], chars)
    assert fold("隔離", chars) == fold("隔离", chars) == "隔离"
    assert fold("PCR Test", chars) == "pcr test"


def test_axis_breaks_far_apart_periods_and_keeps_order() -> None:
    days = [date(2020, 1, 26), date(2020, 1, 30), date(2022, 11, 9), date(2022, 12, 1)]
    axis = Axis.around(days)
    assert len(axis.segments) == 2 and len(axis.breaks()) == 1
    xs = [axis.x(d) for d in days]
    assert xs == sorted(xs) and xs[0] >= 0 and xs[-1] <= 100
    assert axis.segments[0].width < axis.segments[1].width


def test_timeline_package_never_imports_validate_export_or_serve() -> None:
    import ast

    import kb.timeline

    folder = Path(kb.timeline.__file__).parent
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module or ''}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if any(part in ("validate", "export", "serve") for part in name.split(".")):
                    found.setdefault(path.name, []).append(name)
    assert sorted(p.name for p in folder.glob("*.py")) == [
        "__init__.py",
        "axis.py",
        "chart.py",
        "context.py",
        "model.py",
        "overview.py",
        "render.py",
        "rows.py",
        "search.py",
    ]
    assert found == {}


def test_timeline_feeds_live_apart_from_the_user_questions() -> None:
    from kb.query import named_queries
    from kb.timeline.rows import QUERY_DIR

    feeds = sorted(p.stem for p in QUERY_DIR.glob("*.rq"))
    assert "measures" in feeds and "measure-facts" in feeds and len(feeds) >= 9
    assert not [name for name in named_queries() if name.startswith("timeline-")]


def test_axis_stretch_cuts_at_breaks_and_draws_open_spans_briefly() -> None:
    from kb.timeline.axis import OPEN_DAYS

    axis = Axis.around([date(2020, 1, 26), date(2020, 1, 30), date(2022, 11, 9), date(2022, 12, 1)])
    first, second = axis.segments
    across = axis.stretch(date(2020, 1, 29), date(2022, 11, 10))
    assert [round(left, 3) for left, _, _ in across] == [axis.x(date(2020, 1, 29)), round(second.left, 3)]
    assert abs(across[0][0] + across[0][1] - (first.left + first.width)) < 0.01
    assert abs(across[1][0] + across[1][1] - axis.x(date(2022, 11, 11))) < 0.01
    ((left, width, is_open),) = axis.stretch(date(2022, 11, 20), None)
    assert is_open and abs(left + width - axis.x(date(2022, 11, 20), OPEN_DAYS)) < 0.01
    assert axis.stretch(date(2021, 6, 1), date(2021, 6, 30)) == []


def _point(area: str, day: date, value: float):
    from kb.timeline.model import StatisticPoint, Term, Text

    statistic = Term("https://example.org/stat/s", "s", Text("统计", "statistic"))
    place = Term(f"https://example.org/place/{area}", area, Text(area, area))
    return StatisticPoint(
        f"obs-{area}-{day}", f"https://example.org/obs/{area}/{day}", statistic, place, day, None, "", value,
        Text("", ""), 50.0, 0.0, "", "",
    )  # fmt: skip


def test_areas_of_very_different_size_get_a_panel_and_a_labelled_scale_each() -> None:
    from kb.timeline.chart import STAT_HEIGHT, charts_of, nice_top

    points = [
        _point("chongqing", date(2022, 11, 28), 690.0),
        _point("chongqing", date(2022, 11, 29), 640.0),
        _point("yubei", date(2022, 11, 29), 120.0),
        _point("qijiang", date(2022, 11, 29), 20.0),
    ]
    (chart,) = charts_of(points)
    assert [[s.area.slug for s in p.series if s.area] for p in chart.panels] == [["chongqing", "yubei"], ["qijiang"]]
    big, small = chart.panels
    assert (big.top, small.top) == (1000.0, 20.0)
    assert [t.label.en for t in big.ticks] == ["0", "500", "1,000"] and [t.label.en for t in small.ticks] == [
        "0",
        "10",
        "20",
    ]
    assert big.ticks[0].y > big.ticks[-1].y  # 0 at the bottom
    (chongqing, _) = big.series
    assert len(chongqing.lines) == 1 and chongqing.colour != big.series[1].colour
    assert all(0 <= p.y <= STAT_HEIGHT for p in chongqing.points)
    assert [nice_top(v) for v in (0.0, 7.0, 109.0, 2239.0, 90147.0)] == [1.0, 10.0, 200.0, 2500.0, 100000.0]


def test_scale_labels_are_compact_in_both_languages() -> None:
    from kb.timeline.model import compact_text

    assert compact_text(500.0).en == "500" and compact_text(25000.0).en == "25k"
    assert compact_text(25000.0).zh == "2.5万" and compact_text(3e9).zh == "30亿" and compact_text(3e9).en == "3G"


def test_overview_names_what_started_was_relaxed_and_ended_on_which_day(
    runner, sample: Project, tmp_path: Path
) -> None:
    out = tmp_path / "t.html"
    render(runner, sample, out)
    html = out.read_text("utf-8")
    overview = html[html.index('<section id="tl-overview"') : html.index('<section id="tl-between"')]
    days = {}
    for day_markup in overview.split('<span class="ov-day">')[1:]:
        day = re.search(r'datetime="([\d-]+)"', day_markup).group(1)  # type: ignore[union-attr]
        days[day] = {
            kind: re.findall(r'href="#([^"]+)"', entry)
            for kind, entry in re.findall(r'<li class="k-([a-z-]+)">(.*?)</li>', day_markup, flags=re.S)
        }
    assert days["2022-11-10"]["started"] == ["t-daily-testing"]
    assert days["2022-11-30"]["relaxed"] == ["t-no-mass-testing"]
    assert days["2022-11-20"]["ended"] == ["t-daily-testing"]
    assert days["2020-01-30"]["started"] == ["t-2020-briefing"]
    assert "t-undated" not in overview  # no date known: no day to put it on
    assert "1 relaxed" in text_of(overview) and "放宽" in zh_text_of(overview)

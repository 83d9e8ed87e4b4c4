"""Timeline benchmark (never a test): `python -m bench.bench_timeline [--size 10000] [--repeat 3]`.

Renders the timeline of a synthetic knowledge base with the real `kb timeline` command (a fresh
process each time, store already built), then opens the page from file:// in headless Chromium
(/usr/bin/chromium through Playwright) and measures how long it takes to load and to become
interactive (first render: the first screen and the first chunk of the list built and painted), and how long
each filter takes to apply and paint. Prints one JSON object, with the targets of issue 15 checked.

`--against DIR` also renders the page with the checkout in DIR (e.g. `git archive` of the base commit) from the same
knowledge base and opens the two pages alternately in one browser (before, after, before, after, …), so that load
elsewhere on the machine hits both alike; its figures go under "before".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.__main__ import _log, _run
from bench.synth import generate

if TYPE_CHECKING:  # playwright is imported where the browser starts
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# One filter step: what the user does, as a script run in the page. Each returns after the change has
# been applied (the page filters synchronously on input/change) and a frame has been painted.
_STEP = """async ([kind, target, value]) => {
  const form = document.getElementById('tl-filters');
  const start = performance.now();
  if (kind === 'select') {
    const el = document.querySelector(target); el.value = value;
    el.dispatchEvent(new Event('change', {bubbles: true}));
  } else if (kind === 'search') {
    const el = document.querySelector(target); el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
  } else if (kind === 'uncheck') {
    const el = document.querySelector(target); el.checked = false;
    el.dispatchEvent(new Event('change', {bubbles: true}));
  } else if (kind === 'lanes') {
    const el = document.querySelector(target); el.checked = true;
    el.dispatchEvent(new Event('change', {bubbles: true}));
  } else if (kind === 'reset') {
    form.reset();
    await new Promise(r => setTimeout(r, 0));
  }
  document.body.getBoundingClientRect(); void document.body.offsetHeight;
  const applied = performance.now();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const painted = performance.now();
  return {applied_ms: applied - start, painted_ms: painted - start,
          shown: document.querySelector('.tl-shown') ? document.querySelector('.tl-shown').textContent : ''};
}"""


def _steps(page: Page) -> list[tuple[str, str, str, str]]:
    """(name, kind, selector, value) of the filter steps, with a category and a place the page offers."""
    category = page.eval_on_selector_all("#tl-category option", "os => os.map(o => o.value).filter(v => v)")
    place = page.eval_on_selector_all("#tl-place option", "os => os.map(o => o.value).filter(v => v)")
    return [
        ("category", "select", "#tl-category", category[0]),
        ("reset", "reset", "", ""),
        ("place (with hierarchy)", "select", "#tl-place", place[0]),
        ("reset", "reset", "", ""),
        ("strength off", "uncheck", "input[name=strength]", ""),
        ("reset", "reset", "", ""),
        ("search zh (one word)", "search", "#tl-search", "核酸"),
        ("search en (two words)", "search", "#tl-search", "synthetic measure 42"),
        ("reset", "reset", "", ""),
        ("lanes by place", "lanes", "input[name=lanes][value=place]", ""),
        ("lanes by category", "lanes", "input[name=lanes][value=category]", ""),
    ]


class _Figures:
    """What one page measured over the repeats."""

    def __init__(self) -> None:
        self.loads: dict[str, list[float]] = {}
        self.steps: dict[str, list[float]] = {}
        self.shown: dict[str, str] = {}


def browse(page_path: Path, repeat: int) -> dict[str, object]:
    """Load and filter times of the page in headless Chromium (medians over `repeat` fresh pages)."""
    return browse_pages({"page": page_path}, repeat)["page"]


def browse_pages(pages: dict[str, Path], repeat: int) -> dict[str, dict[str, object]]:
    """Load and filter times of each page (medians over `repeat` fresh pages), the pages opened in turn."""
    from playwright.sync_api import sync_playwright

    figures = {name: _Figures() for name in pages}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for _ in range(repeat):
            for name, page_path in pages.items():
                _visit(browser, page_path, figures[name])
        browser.close()
    return {name: _summary(f) for name, f in figures.items()}


def _visit(browser: Browser, page_path: Path, figures: _Figures) -> None:
    loads, steps, shown = figures.loads, figures.steps, figures.shown
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(page_path.as_uri(), wait_until="load", timeout=600_000)
    page.wait_for_selector("html[data-ready]", state="attached", timeout=600_000)
    ready = time.perf_counter() - start
    timing = page.evaluate(
        """() => { const n = performance.getEntriesByType('navigation')[0];
           const paint = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
           return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd,
                   first_contentful_paint_ms: paint ? paint.startTime : -1,
                   first_render_ms: Number(
                     document.documentElement.getAttribute('data-first-render-ms') || -1)}; }"""
    )
    if timing["first_render_ms"] < 0:  # a page from before the first render was marked: ready is its first
        timing["first_render_ms"] = 1000 * ready
    loads.setdefault("first_contentful_paint_ms", []).append(timing["first_contentful_paint_ms"])
    loads.setdefault("first_render_ms", []).append(timing["first_render_ms"])
    loads.setdefault("dom_content_loaded_ms", []).append(timing["dom_content_loaded_ms"])
    loads.setdefault("load_event_ms", []).append(timing["load_ms"])
    loads.setdefault("ready_wall_ms", []).append(1000 * ready)
    for name, kind, target, value in _steps(page):
        result = page.evaluate(_STEP, [kind, target, value])
        if name != "reset":
            steps.setdefault(f"{name} applied_ms", []).append(result["applied_ms"])
            steps.setdefault(f"{name} painted_ms", []).append(result["painted_ms"])
            shown[name] = result["shown"]
    context.close()


def _summary(figures: _Figures) -> dict[str, object]:
    shown = figures.shown
    load = {k: round(statistics.median(v), 1) for k, v in figures.loads.items()}
    filters = {k: round(statistics.median(v), 1) for k, v in figures.steps.items()}
    painted = [v for k, v in filters.items() if k.endswith("painted_ms")]
    return {
        "load": load,
        "filters": filters,
        "shown_after": shown,
        # The targets of issue 15: first render <= 2 s in headless Chromium, every filter <= 200 ms (painted).
        "targets": {
            "first_render_le_2000_ms": load["first_render_ms"] <= 2000,
            "filters_le_200_ms": max(painted, default=0.0) <= 200,
        },
    }


# The checkout whose code is measured: this one, not whatever `kb` the environment has installed.
CODE = Path(__file__).resolve().parent.parent


def _renders(root: Path, work: Path, codes: dict[str, Path], repeat: int) -> dict[str, dict[str, object]]:
    """Build a store per checkout, then render each checkout's page `repeat` times, the checkouts in turn.

    Each child runs in its checkout's folder: `python -m` puts that first on sys.path, ahead of the PYTHONPATH that
    bench's _run gives every child (bench's own checkout), so each imports the kb it is meant to measure."""
    kb = [sys.executable, "-m", "kb"]
    envs = {
        name: {**os.environ, "KB_ROOT": str(root), "KB_STATE_DIR": str(work / f"state-{name}"), "PYTHONPATH": str(c)}
        for name, c in codes.items()
    }
    out: dict[str, dict[str, object]] = {name: {"code": str(c)} for name, c in codes.items()}
    for name, env in envs.items():
        out[name]["build_s"] = round(_run([*kb, "build"], env, codes[name])[0], 2)
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in codes}
    for _ in range(repeat):
        for name, env in envs.items():
            runs[name].append(_run([*kb, "timeline", "-o", str(work / f"timeline-{name}.html")], env, codes[name]))
    for name, found in runs.items():
        page = work / f"timeline-{name}.html"
        out[name]["render_s"] = round(statistics.median(r[0] for r in found), 2)
        out[name]["render_peak_mb"] = round(max(r[1] for r in found) / 1024, 1)
        out[name]["page_mb"] = round(page.stat().st_size / 1e6, 1)
        out[name]["page"] = str(page)
    return out


def bench_timeline(size: int, repeat: int, code: Path = CODE, against: Path | None = None) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"kb-bench-timeline-{size}-"))
    _log(f"timeline {size}: generating in {work}; code from {code}" + (f", before from {against}" if against else ""))
    root = generate(work / "kb", size)
    codes = {"before": against, "after": code} if against else {"after": code}
    renders = _renders(root, work, codes, repeat)
    for name, found in renders.items():
        _log(f"timeline {size} ({name}): render {found['render_s']} s, page {found['page_mb']} MB")
    _log(f"timeline {size}: opening in Chromium ({repeat} rounds of {', '.join(codes)})")
    browsed = browse_pages({name: Path(str(r["page"])) for name, r in renders.items()}, repeat)
    out: dict[str, object] = {"size": size, **renders["after"], **browsed["after"]}
    if against:
        out["before"] = {**renders["before"], **browsed["before"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_timeline", description=__doc__)
    parser.add_argument("--size", type=int, default=10000, help="measures in the synthetic KB")
    parser.add_argument("--repeat", type=int, default=3, help="renders and page loads per median")
    parser.add_argument("--code", type=Path, default=CODE, help="the checkout whose kb is measured (default: this one)")
    parser.add_argument(
        "--against", type=Path, help="a checkout to measure side by side, interleaved (e.g. the base commit's tree)"
    )
    args = parser.parse_args()
    against = args.against.resolve() if args.against else None
    result = bench_timeline(args.size, args.repeat, args.code.resolve(), against)
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

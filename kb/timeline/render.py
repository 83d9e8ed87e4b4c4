"""Rendering the context with jinja2 (autoescaped, strict) and writing the page atomically."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..errors import TimelineError
from ..fsio import write_atomic
from ..project import Project
from .context import build_context, json_for_script
from .model import TimelineContext, TimelineResult

if TYPE_CHECKING:  # jinja2 is imported where the page is rendered
    import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Inlined into <style> and <script>: neither may close its element or open a comment.
INLINE = ("timeline.css", "timeline.js")


def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def packed(markup: list[str], size: int) -> list[str]:
    """Markup in blocks of `size` (in page order), each a JSON array of strings, gzip-compressed (no timestamp, so the
    page is reproducible) and base64-encoded, for the page's script to inflate with the browser's DecompressionStream.
    """
    blocks = []
    for start in range(0, len(markup), max(size, 1)):
        text = json.dumps(markup[start : start + size], ensure_ascii=False, separators=(",", ":"))
        blocks.append(base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii"))
    return blocks


def render_timeline(context: TimelineContext) -> str:
    """The page as one HTML string (autoescaped, undefined names are errors).

    A page with more measures than FULL_LIST_MAX (context.lazy_details) has list items without their detail and
    ships the details compressed in blocks (`packed`, the measure_detail macro of measure.html.j2).
    """
    import jinja2

    environment = _environment()
    inline = {name: (TEMPLATE_DIR / name).read_text("utf-8") for name in INLINE}
    for name, text in inline.items():
        if "</" in text or "<!--" in text:
            raise TimelineError(f"{name} must not contain '</' or '<!--'", file=str(TEMPLATE_DIR / name))
    details = ""
    if context.lazy_details:
        detail = environment.get_template("measure.html.j2").module.measure_detail  # type: ignore[attr-defined]
        details = json_for_script(packed([str(detail(m)) for m in context.measures], context.detail_chunk))
    template = environment.get_template("timeline.html.j2")
    return template.render(
        page=context,
        css=jinja2.utils.markupsafe.Markup(inline["timeline.css"]),
        js=jinja2.utils.markupsafe.Markup(inline["timeline.js"]),
        details_json=details,
    )


def check_output(path: Path) -> None:
    """Refuse, before any work, an output whose folder is missing or that is a folder itself."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TimelineError(f"folder {folder} does not exist", hint="create it first or choose another -o PATH")
    if path.is_dir():
        raise TimelineError(f"{path} is a folder", hint="give a file name, e.g. -o timeline.html")


def write_timeline(store: ox.Store, project: Project, path: Path) -> TimelineResult:
    """Build the context, render it and write the page atomically."""
    check_output(path)
    context = build_context(store, project)
    html = render_timeline(context)
    size = write_atomic(path, html)
    return TimelineResult(path, len(context.measures), len(context.events), len(context.statistics), size)

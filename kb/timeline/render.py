"""Rendering the context with jinja2 (autoescaped, strict) and writing the page atomically."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..errors import TimelineError
from ..fsio import write_atomic
from ..project import Project
from .context import build_context
from .model import TimelineContext, TimelineResult

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Inlined into <style> and <script>: neither may close its element or open a comment.
INLINE = ("timeline.css", "timeline.js")


def render_timeline(context: TimelineContext) -> str:
    """The page as one HTML string (autoescaped, undefined names are errors)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    inline = {name: (TEMPLATE_DIR / name).read_text("utf-8") for name in INLINE}
    for name, text in inline.items():
        if "</" in text or "<!--" in text:
            raise TimelineError(f"{name} must not contain '</' or '<!--'", file=str(TEMPLATE_DIR / name))
    template = environment.get_template("timeline.html.j2")
    return template.render(
        page=context,
        css=jinja2.utils.markupsafe.Markup(inline["timeline.css"]),
        js=jinja2.utils.markupsafe.Markup(inline["timeline.js"]),
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

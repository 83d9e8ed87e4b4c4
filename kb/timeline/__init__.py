"""The timeline page: named queries → typed context → jinja2 → one self-contained HTML file.

Every measure is drawn on a broken time axis (the 2020 and 2022 periods without the years between)
over its derived effective period (graph derived/periods, computed by `kb build`): its status spans
styled by basis (stated, attested, presumed, unknown) and a cap where it ends (stated, by a later
measure, possibly by a blanket repeal). A measure with no date known is listed but not drawn.
The page reads only the store and, for the quotes' context, the source texts.

Modules: model (the typed context), rows (query feeds → terms), context (the layout), axis
(geometry), search (script folding), render (jinja2 and the atomic write), templates/.
"""

from __future__ import annotations

from .axis import Axis
from .context import build_context, json_for_script
from .model import TimelineContext, TimelineResult
from .render import TEMPLATE_DIR, TimelineError, render_timeline, write_timeline
from .rows import quote_in_context, slug_of
from .search import build_char_map, fold

__all__ = [
    "TEMPLATE_DIR",
    "Axis",
    "TimelineContext",
    "TimelineError",
    "TimelineResult",
    "build_char_map",
    "build_context",
    "fold",
    "json_for_script",
    "quote_in_context",
    "render_timeline",
    "slug_of",
    "write_timeline",
]

"""The catalogue of named queries: every .rq file under kb/queries/, by audience, with what its header says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import QueryError

QUERY_DIR = Path(__file__).resolve().parent.parent / "queries"
# Folders by audience (kb/queries/README.md): what --list and the endpoint page show, then the plumbing.
QUESTIONS_DIR = QUERY_DIR / "questions"
KINDS = {
    "question": (QUESTIONS_DIR, ""),
    "check": (QUERY_DIR / "checks", ""),
    "summary": (QUERY_DIR / "summary", ""),
    "timeline": (QUERY_DIR / "timeline", "timeline-"),
    "export": (QUERY_DIR / "export", "export-"),
}


@dataclass(frozen=True)
class Param:
    """A parameter a named query takes: bound as ?name."""

    name: str
    description: str
    required: bool
    # A value to try, read from the description ("e.g. measure:…"): what the page prefills and a refusal suggests.
    example: str = ""

    @property
    def form(self) -> str:
        """What kind of value the parameter takes, read from its example: "date", "iri", "boolean", "integer", or
        "" (any text). A value of another kind would be bound as a plain string and answer nothing."""
        return param_form(self.example)


# The forms a parameter's example can show, each with how a refusal describes it.
FORMS = {
    "date": "a calendar date written YYYY-MM-DD",
    "iri": "a name written prefix:name (e.g. place:shapingba) or a full <https://…> IRI",
    "boolean": "true or false",
    "integer": "a whole number",
}


def param_form(example: str) -> str:
    """The form an example value shows (a key of FORMS), or "" when it is plain text."""
    return next((form for form in FORMS if example and fits_form(form, example)), "")


def fits_form(form: str, value: str) -> bool:
    """Whether a value given for a parameter is of the form its example shows (FORMS): a real calendar date, a
    prefixed name of a known prefix or an <iri>, true/false, a whole number."""
    import datetime as dt

    from ..namespaces import expand

    if form == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if form == "iri":
        return expand(value) is not None  # whether the IRI is valid, binding it says (parse_term)
    if form == "boolean":
        return value.lower() in ("true", "false")
    if form == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    return True


@dataclass(frozen=True)
class NamedQuery:
    """A .rq file: its name, one-line description, parameters and text; a check also its severity and messages."""

    name: str
    path: Path
    description: str
    params: tuple[Param, ...]
    text: str
    kind: str = "question"
    severity: str = "violation"
    message_zh: str = ""
    hint: str = ""


def param_example(description: str) -> str:
    """The example a parameter's description gives: the value after "e.g." (quotes taken off), else the first
    prefixed name it lists (`cq:Mandatory, cq:Advisory …`), else ""."""
    match = re.search(r'e\.g\.\s+("[^"]+"|[^\s,;]+)', description)
    if match:
        return match.group(1).strip('"').rstrip(":.")
    listed = re.search(r"\b[a-z]+:[A-Za-z][\w-]*", description)
    return listed.group(0) if listed else ""


def parse_header(name: str, path: Path, text: str, kind: str = "question") -> NamedQuery:
    """Read the comment header: its first paragraph is the description (lines joined), `# param: ?x — …`
    lines the parameters, and a check's `# severity:`, `# message_zh:` and `# hint:` lines what its findings
    say. The description ends at an empty comment line or at the first parameter or field line."""
    lines: list[str] = []
    described = False
    params = []
    fields = {"severity": "violation", "message_zh": "", "hint": ""}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        match = re.match(r"param:\s*\?(\w+)\s*(\(optional\))?\s*[—:-]*\s*(.*)", body)
        field_match = re.match(r"(severity|message_zh|hint):\s*(.*)", body)
        if match or field_match or (not body and lines):
            described = True
        if match:
            about = match.group(3).strip()
            params.append(Param(match.group(1), about, match.group(2) is None, param_example(about)))
        elif field_match:
            fields[field_match.group(1)] = field_match.group(2).strip()
        elif body and not described:
            lines.append(body)
    return NamedQuery(name, path, " ".join(lines), tuple(params), text, kind, **fields)


def named_queries(directory: Path = QUESTIONS_DIR, kind: str = "question", prefix: str = "") -> dict[str, NamedQuery]:
    """The named queries of one folder, by name (the file name without .rq, after `prefix`): by default the
    user questions, which `kb query --list` and the endpoint page show."""
    queries = {}
    for path in sorted(directory.glob("*.rq")):
        name = prefix + path.stem
        queries[name] = parse_header(name, path, path.read_text("utf-8"), kind)
    return queries


def catalogue() -> dict[str, NamedQuery]:
    """Every query of the project: the questions, then the checks, summaries and the feeds of the page and exports."""
    queries: dict[str, NamedQuery] = {}
    for kind, (directory, prefix) in KINDS.items():
        queries.update(named_queries(directory, kind, prefix))
    return queries


def load_query(path: Path) -> NamedQuery:
    """One query file by its path, named by its file name (a feed outside the catalogue, e.g. queries/export/)."""
    return parse_header(path.stem, path, path.read_text("utf-8"))


def get_named_query(name: str) -> NamedQuery:
    """One query of the catalogue by name, or a QueryError listing near names."""
    queries = catalogue()
    if name not in queries:
        import difflib

        near = difflib.get_close_matches(name, list(queries), n=3)
        hint = f"did you mean {', '.join(near)}?" if near else "kb query --list shows the named queries"
        raise QueryError(f"no named query '{name}'", hint=hint)
    return queries[name]

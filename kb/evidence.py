"""Evidence checks: every quote must occur in one of its subject's source texts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .namespaces import CQ
from .query import select


def normalise(text: str) -> str:
    """Text as quotes are compared: line breaks (and only line breaks) removed."""
    return text.replace("\r", "").replace("\n", "")


def closest_passage(quote: str, text: str) -> str:
    """The passage of `text` most like `quote`, anchored on their longest common run."""
    if not quote or not text:
        return ""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    match = matcher.find_longest_match(0, len(text), 0, len(quote))
    start = max(0, match.a - match.b)
    return text[start : start + len(quote) + 4]


@dataclass(frozen=True)
class QuoteProblem:
    """A quote that is not in its sources, or a source whose text file is missing."""

    subject: str
    kind: str  # "not-found" | "no-source" | "source-file-missing"
    quote: str
    detail: str


_QUERY = """
SELECT ?s ?q ?src ?file WHERE {
  ?s cq:quote ?q .
  OPTIONAL { ?s cq:source ?src . OPTIONAL { ?src cq:fileName ?file } }
}"""


class SourceTexts:
    """Source texts by file name, read once and normalised."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        if name not in self._cache:
            path = self.directory / name
            try:
                self._cache[name] = normalise(path.read_text("utf-8"))
            except (OSError, UnicodeDecodeError):
                self._cache[name] = None
        return self._cache[name]


def check_quotes(store: ox.Store, texts: SourceTexts, subjects: set[str] | None = None) -> list[QuoteProblem]:
    """Every quote of every subject (or of the given subjects) checked against its sources."""
    by_subject: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for row in select(store.query(_QUERY, prefixes={"cq": CQ}, use_default_graph_as_union=True)):
        subject = row["s"].value
        if subjects is not None and subject not in subjects:
            continue
        src, file = row["src"], row["file"]
        entry = by_subject.setdefault((subject, row["q"].value), [])
        if src is not None:
            entry.append((src.value, None if file is None else file.value))
    problems = []
    for (subject, quote), sources in sorted(by_subject.items()):
        if not sources:
            problems.append(QuoteProblem(subject, "no-source", quote, ""))
            continue
        wanted = normalise(quote)
        found = False
        best = ""
        for _source, file in sources:
            if file is None:
                continue
            text = texts.get(file)
            if text is None:
                problems.append(QuoteProblem(subject, "source-file-missing", quote, f"{texts.directory.name}/{file}"))
                continue
            if wanted in text:
                found = True
                break
            passage = closest_passage(wanted, text)
            if len(passage) > len(best):
                best = passage
        if not found and any(f is not None and texts.get(f) is not None for _, f in sources):
            problems.append(QuoteProblem(subject, "not-found", quote, best))
    return problems

"""Evidence checks: every quote must occur in one of its subject's source texts."""

from __future__ import annotations

import difflib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import LoadError
from .loader import MAX_FILE_BYTES, printable, read_input
from .namespaces import CQ
from .query import select


def normalise(text: str) -> str:
    """Text as quotes are compared: line breaks (and only line breaks) removed."""
    return text.replace("\r", "").replace("\n", "")


SENTENCE_ENDS = "。！？!?；;"
CONTEXT_CHARS = 160  # at most this many characters of context on each side of a quote


def quote_context(quote: str, text: str | None) -> tuple[str, str] | None:
    """The rest of the quote's sentence in `text` (before, after), both compared without line breaks; None when
    the quote is not in the text."""
    needle, hay = normalise(quote), normalise(text or "")
    at = hay.find(needle) if needle else -1
    if at < 0:
        return None
    start = at
    while start > 0 and hay[start - 1] not in SENTENCE_ENDS and at - start < CONTEXT_CHARS:
        start -= 1
    end = at + len(needle)
    while end < len(hay) and hay[end - 1] not in SENTENCE_ENDS and end - at - len(needle) < CONTEXT_CHARS:
        end += 1
    return hay[start:at].lstrip(), hay[at + len(needle) : end].rstrip()


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

    subject: str  # an IRI, or _:id for a blank node
    kind: str  # "not-found" | "no-source" | "source-file-missing" | "source-file-refused"
    quote: str
    detail: str


_QUERY = """
SELECT ?s ?q ?src ?file WHERE {
  ?s cq:quote ?q .
  OPTIONAL {
    { SELECT ?s ?src WHERE { ?s cq:source ?src } }
    OPTIONAL { { SELECT ?src ?file WHERE { ?src cq:fileName ?file } } }
  }
}"""  # the OPTIONALs as sub-SELECTs: joined by hashing, not a lookup per quote (4x at 100k)


class SourceTexts:
    """Source texts by file name, read once and normalised; only regular files directly inside `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, str | None] = {}
        self._refused: dict[str, str | None] = {}

    def refusal(self, name: str) -> str | None:
        """Why `name` cannot be read as a source text (None when it can, or is simply missing)."""
        if name not in self._refused:
            self._refused[name] = self._why_not(name)
        return self._refused[name]

    def _why_not(self, name: str) -> str | None:
        if (
            not name.strip()
            or "/" in name
            or "\\" in name
            or ".." in name
            or os.path.isabs(name)
            or printable(name) != name
        ):
            return "must be the name of a file directly inside facts/sources/ (no folder, no absolute path, no '..')"
        path = self.directory / name
        try:
            inside = path.resolve().is_relative_to(self.directory.resolve())
            info = os.stat(path)
        except FileNotFoundError:
            return None if not path.is_symlink() else "is a symbolic link to nothing"
        except (OSError, RuntimeError):
            return "cannot be read"
        if not inside:
            return "is a symbolic link leading outside facts/sources/"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a folder, device, FIFO or socket)"
        if info.st_size > MAX_FILE_BYTES:
            return f"is larger than the limit of {MAX_FILE_BYTES // (1024 * 1024)} MB per file"
        return None

    def get(self, name: str) -> str | None:
        """The normalised text, or None when the file is missing or refused (nothing of it is read then)."""
        if name not in self._cache:
            self._cache[name] = None
            if self.refusal(name) is None:
                try:
                    self._cache[name] = normalise(read_input(self.directory / name).decode("utf-8"))
                except LoadError as exc:
                    if exc.message != "file not found":
                        self._refused[name] = exc.message
                except UnicodeDecodeError:
                    self._refused[name] = "is not UTF-8 text"
        return self._cache[name]


def _key(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


# Every quote with what the three checks that read quotes need of it, in one read: evidence (its subject's sources
# and their files), the sibling check (the measures' sources) and the target groups (the measures' sources' scripts).
_SHARED_QUERY = """
SELECT ?s ?q ?measure ?src ?file ?script WHERE {
  ?s cq:quote ?q .
  OPTIONAL { { SELECT DISTINCT ?s ?measure WHERE { ?s a cq:Measure BIND(true AS ?measure) } } }
  OPTIONAL {
    { SELECT ?s ?src WHERE { ?s cq:source ?src } }
    OPTIONAL { { SELECT ?src ?file WHERE { ?src cq:fileName ?file } } }
    OPTIONAL { { SELECT ?src ?script WHERE { ?src cq:script ?script } } }
  }
}"""  # each part its own sub-SELECT, joined by hashing (as _QUERY)


@dataclass(frozen=True)
class QuoteRow:
    """One quote of a subject, with one of its sources (if any) and that source's file name and script."""

    subject: str  # an IRI, or _:id for a blank node
    measure: bool  # the subject is an IRI typed cq:Measure
    quote: str
    source: str | None
    file: str | None
    script: str | None


class Quotes:
    """Every quote of the store read once (QuoteRow), in the projections each consumer reads: evidence
    (check_quotes), the sibling check (kb/query/onepass.py) and the target groups (kb/validate/checks.py)."""

    def __init__(self, store: ox.Store) -> None:
        rows = []
        for row in select(store.query(_SHARED_QUERY, prefixes={"cq": CQ}, use_default_graph_as_union=True)):
            subject, src, file, script = row["s"], row["src"], row["file"], row["script"]
            rows.append(
                QuoteRow(
                    _key(subject),
                    isinstance(subject, ox.NamedNode) and row["measure"] is not None,
                    row["q"].value,
                    _value(src),
                    _value(file),
                    _value(script),
                )
            )
        self.rows = rows

    def sources(self) -> list[tuple[str, str, str | None, str | None]]:
        """(subject, quote, source, file name): as check_quotes' own query gives them."""
        return list(dict.fromkeys((r.subject, r.quote, r.source, r.file) for r in self.rows))

    def of_measures(self) -> list[tuple[str, str, str]]:
        """(measure, source, quote) of every measure's quote and source (the sibling check)."""
        return list(
            dict.fromkeys((r.subject, r.source, r.quote) for r in self.rows if r.measure and r.source is not None)
        )

    def measure_scripts(self) -> list[tuple[str, str, str | None]]:
        """(measure, quote, script): each script of the measure's sources, or None when no source has one (the
        target groups)."""
        scripts: dict[tuple[str, str], dict[str | None, None]] = {}
        for r in self.rows:
            if r.measure:
                found = scripts.setdefault((r.subject, r.quote), {})
                if r.source is not None and r.script is not None:
                    found[r.script] = None
        return [(m, q, s) for (m, q), found in scripts.items() for s in (found or {None: None})]


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str | None:
    return None if term is None else term.value


def _read_sources(store: ox.Store) -> list[tuple[str, str, str | None, str | None]]:
    rows = select(store.query(_QUERY, prefixes={"cq": CQ}, use_default_graph_as_union=True))
    return [(_key(r["s"]), r["q"].value, _value(r["src"]), _value(r["file"])) for r in rows]


def check_quotes(
    store: ox.Store, texts: SourceTexts, subjects: set[str] | None = None, quotes: Quotes | None = None
) -> list[QuoteProblem]:
    """Every quote of every subject (or of the given subjects) checked against its sources; `quotes`: the store's
    quotes when already read (Quotes), else they are read here."""
    by_subject: dict[tuple[str, str], dict[tuple[str, str | None], None]] = {}
    for subject, quote, src, file in _read_sources(store) if quotes is None else quotes.sources():
        if subjects is not None and subject not in subjects:
            continue
        entry = by_subject.setdefault((subject, quote), {})
        if src is not None:
            entry[(src, file)] = None
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
            refusal = texts.refusal(file)
            if refusal is not None:
                problems.append(QuoteProblem(subject, "source-file-refused", quote, refusal))
                continue
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

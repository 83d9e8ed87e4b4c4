"""Full tables kept by their first answer (kb/query/tables.py) are exactly the store's answer, in every format.

Every kept table is compared with the same text run on the same database opened directly (which the module does not
know, so the store answers, ORDER BY included), on a copy of the shipped knowledge base: rows, order and cell
terms, and the text of every output format `kb query` offers, written whole and streamed. A rebuilt store never gets
the old snapshot's rows; a truncated, garbled, foreign or unreadable kept file is not read (the query runs on the
store and keeps a good file again), and a folder that cannot take the file keeps nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import ROOT

from kb.cli import main
from kb.project import Project
from kb.query import catalogue, format_result, get_named_query, run_query
from kb.query import tables as tables_module
from kb.query.results import STREAMED, select_chunks
from kb.query.run import QueryResult, kept_answer
from kb.query.summary import SUMMARISED
from kb.query.tables import KINDS, TABLES, KeptTable, kept_stream, kept_table, tabled, tabled_name
from kb.store import build, open_snapshot, store_link

FORMATS = ("table", "csv", "tsv", "json")


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A copy of the shipped knowledge base with its own build folder (kept tables are written into it)."""
    root = tmp_path / "kb"
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "facts", root / "facts")
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KB_ROOT", str(root))
    project = Project(root)
    build(project)
    return project


def _cells(result: QueryResult) -> list[list[str | None]]:
    return [[None if term is None else str(term) for term in row] for row in result.rows]


def _folder(project: Project) -> Path:
    return store_link(project).resolve()


def test_the_kept_tables_are_every_parameterless_feed_and_question() -> None:
    kept = set(tabled().values())
    for name, query in catalogue().items():
        expected = query.kind in KINDS and not query.params and name not in SUMMARISED
        assert (name in kept) == expected, name
    assert {"measures", "export-measures-table", "timeline-measures", "timeline-spans"} <= kept
    assert not any(name.endswith("-violation") for name in kept)  # the checks are a validation's to keep


def test_every_kept_table_is_the_stores_answer_in_every_format(shipped: Project) -> None:
    snapshot = open_snapshot(store_link(shipped))
    direct = ox.Store.read_only(str(_folder(shipped)))
    nonempty = 0
    for name in sorted(tabled().values()):
        text = get_named_query(name).text
        assert kept_table(_folder(shipped), text) is None, f"{name}: kept before any answer"
        store_answer = run_query(direct, text)  # the store's own run (the direct store has no snapshot)
        assert kept_answer(direct, text) is None
        first = run_query(snapshot, text)  # answered on the store, and kept
        assert kept_table(_folder(shipped), text) is not None, f"{name}: not kept by its first answer"
        kept = kept_answer(snapshot, text)
        assert kept is not None, f"{name}: not answered from its kept table"
        assert kept.variables == store_answer.variables == first.variables
        assert _cells(kept) == _cells(store_answer) == _cells(first), f"{name}: the kept rows differ"
        for fmt in FORMATS:
            assert format_result(kept, fmt, 100) == format_result(store_answer, fmt, 100), f"{name} {fmt}"
        stream = kept_stream(snapshot, text)
        assert stream is not None
        for fmt in STREAMED:
            streamed = "".join(select_chunks(stream.variables, stream.rows(), fmt))
            assert streamed == format_result(store_answer, fmt), f"{name} {fmt}: the streamed text differs"
        nonempty += bool(store_answer.rows)
    assert nonempty >= 15  # the shipped KB fills most of them


def test_kb_query_prints_the_kept_table_as_it_printed_the_stores(shipped: Project) -> None:
    runner = CliRunner()
    for fmt in FORMATS:
        shutil.rmtree(_folder(shipped) / TABLES, ignore_errors=True)
        first = runner.invoke(main, ["query", "measures", "--format", fmt, "--full-width"])
        assert first.exit_code == 0, first.output
        assert (_folder(shipped) / TABLES).is_dir()
        again = runner.invoke(main, ["query", "measures", "--format", fmt, "--full-width"])
        assert again.exit_code == 0, again.output
        assert again.output == first.output, fmt
        assert first.output.count("\n") > 200


def test_a_rebuilt_store_never_gets_the_old_snapshots_rows(shipped: Project) -> None:
    text = get_named_query("measures").text
    before = run_query(open_snapshot(store_link(shipped)), text)
    old = _folder(shipped)
    assert kept_table(old, text) is not None
    column = before.variables.index("label_en")
    label = next(str(cell.value) for row in before.rows if (cell := row[column]) is not None and '"' not in cell.value)
    written = f'"{label}"@en'
    changed = next(p for p in sorted((shipped.root / "facts").rglob("*.ttl")) if written in p.read_text("utf-8"))
    changed.write_text(changed.read_text("utf-8").replace(written, f'"Renamed {label}"@en', 1), "utf-8")
    build(shipped)
    assert _folder(shipped) != old
    after = run_query(open_snapshot(store_link(shipped)), text)
    renamed = [row for row in _cells(after) if any(cell and "Renamed " in cell for cell in row)]
    assert len(renamed) == 1  # the new row, not the kept one of the old snapshot
    assert not any(any(cell and "Renamed " in cell for cell in row) for row in _cells(before))
    direct = ox.Store.read_only(str(_folder(shipped)))
    assert _cells(after) == _cells(run_query(direct, text))


def test_a_table_kept_for_another_store_is_not_read(shipped: Project) -> None:
    text = get_named_query("timeline-periods").text
    snapshot = open_snapshot(store_link(shipped))
    run_query(snapshot, text)
    folder = _folder(shipped)
    assert kept_table(folder, text) is not None
    manifest = folder / tables_module.MANIFEST
    manifest.write_text(manifest.read_text("utf-8").replace("}", ', "planted": 1}', 1), "utf-8")
    assert kept_table(folder, text) is None  # the store's digest changed: the kept rows are not this store's


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif how == "garbled":
        middle = len(data) * 2 // 3
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    elif how == "header cut":
        path.write_bytes(data[:40])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not json":
        path.write_bytes(b"\xff\xfe garbage\n" + data[200:])
    elif how == "another text":
        first, _, rest = data.partition(b"\n")
        header = json.loads(first)
        header["query"] = "0" * 64
        path.write_bytes(json.dumps(header).encode().ljust(len(first)) + b"\n" + rest)
    elif how == "row of another width":
        first, _, rest = data.partition(b"\n")
        lines = rest.split(b"\n")
        lines[0] = b'["I0x"]'
        body = b"\n".join(lines)
        header = json.loads(first)
        import zlib

        header["bytes"], header["crc"] = len(body), zlib.crc32(body)
        path.write_bytes(json.dumps(header).encode().ljust(len(first)) + b"\n" + body)
    else:
        raise AssertionError(how)


DAMAGES = ("truncated", "garbled", "header cut", "empty", "not json", "another text")


def _kept_then_damaged(project: Project, how: str) -> tuple[str, Path, ox.Store, QueryResult, KeptTable]:
    """`measures` answered once (so kept), its store's own answer, and the kept file damaged `how`; the kept answer
    must then be refused."""
    text = get_named_query("measures").text
    folder = _folder(project)
    snapshot = open_snapshot(store_link(project))
    store_answer = run_query(ox.Store.read_only(str(folder)), text)
    run_query(snapshot, text)
    kept = kept_table(folder, text)
    assert kept is not None
    _damage(kept.path, how)
    assert kept_answer(snapshot, text) is None
    return text, folder, snapshot, store_answer, kept


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_kept_table_is_recomputed(shipped: Project, how: str) -> None:
    text, folder, snapshot, store_answer, kept = _kept_then_damaged(shipped, how)
    assert kept_stream(snapshot, text) is None
    result = CliRunner().invoke(main, ["query", "measures", "--format", "csv"])
    assert result.exit_code == 0 and "Traceback" not in result.output
    # the store's answer, recomputed (click's test runner reads the CSV's CRLF back as LF)
    assert result.output == format_result(store_answer, "csv").replace("\r\n", "\n")
    assert kept_table(folder, text) is not None  # written again, whole
    assert _cells(run_query(snapshot, text)) == _cells(store_answer)


def test_a_row_that_breaks_off_a_streamed_table_is_an_error_not_a_traceback(shipped: Project) -> None:
    """A file whose header and checksum hold but whose rows do not (only a writer's bug makes one): the rows read
    whole refuse it; kb query, which streams it, stops with a message and removes it, and the next run is right."""
    text, folder, snapshot, store_answer, kept = _kept_then_damaged(shipped, "row of another width")
    broken = CliRunner().invoke(main, ["query", "measures", "--format", "csv"])
    assert broken.exit_code != 0 and "Traceback" not in broken.output
    assert "broke off" in broken.output and not kept.path.exists()
    again = CliRunner().invoke(main, ["query", "measures", "--format", "csv"])
    assert again.exit_code == 0
    assert again.output == format_result(store_answer, "csv").replace("\r\n", "\n")


def test_a_folder_that_cannot_take_the_table_keeps_nothing(shipped: Project) -> None:
    folder = _folder(shipped)
    (folder / TABLES).write_text("a file where the folder would go", "utf-8")
    text = get_named_query("measures").text
    snapshot = open_snapshot(store_link(shipped))
    expected = _cells(run_query(ox.Store.read_only(str(folder)), text))
    assert _cells(run_query(snapshot, text)) == expected
    assert kept_table(folder, text) is None
    assert not list(folder.glob(".*.tmp")) and (folder / TABLES).is_file()


def test_a_table_over_the_limit_is_not_kept(shipped: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables_module, "LIMIT", 1000)
    text = get_named_query("measures").text
    snapshot = open_snapshot(store_link(shipped))
    assert len(run_query(snapshot, text).rows) > 100
    assert kept_table(_folder(shipped), text) is None
    assert not [p for p in (_folder(shipped) / TABLES).iterdir()]  # no file left behind, not even a temporary one


def test_only_the_exact_text_without_parameters_is_kept(shipped: Project) -> None:
    text = get_named_query("measures").text
    assert tabled_name(text) == "measures"
    assert tabled_name(text + " ") is None
    assert tabled_name(get_named_query("counts-by-class").text) is None  # the build's summary answers it
    assert tabled_name(get_named_query("measures-in-place").text) is None  # a parameter
    snapshot = open_snapshot(store_link(shipped))
    run_query(snapshot, text + " ")
    assert not (_folder(shipped) / TABLES).exists()


def test_every_kind_of_cell_comes_back_as_it_was(tmp_path: Path) -> None:
    """Cells of every kind, in and out of the project's namespaces, with the characters the line format uses."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    terms: list[ox.NamedNode | ox.BlankNode | ox.Literal | None] = [
        ox.NamedNode("https://w3id.org/cq-covid/id/measure/a-b"),
        ox.NamedNode("urn:x:not-in-a-namespace"),
        ox.NamedNode("https://w3id.org/cq-covid/def/"),  # a namespace itself: an empty local name
        ox.BlankNode("b0"),
        ox.Literal(""),
        ox.Literal('"I< @zh ^0 _x\n\t\\ | 中文'),
        ox.Literal("一 二", language="zh-Hans"),
        ox.Literal("x", language="en-GB"),
        ox.Literal("2022-11-20", datatype=ox.NamedNode(xsd + "date")),
        ox.Literal("-0012", datatype=ox.NamedNode(xsd + "integer")),
        ox.Literal("odd", datatype=ox.NamedNode("urn:dt:own")),
        None,
    ]
    codes = tables_module._Codes(sorted(set(tables_module.PREFIXES.values())), [])
    for term in terms:
        again = codes.decode(codes.encode(term))
        assert type(again) is type(term) and str(again) == str(term), term
    with pytest.raises(ValueError):
        codes.decode("?unknown")

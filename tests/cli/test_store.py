"""The persistent store: published snapshots, a failed build keeps the last good one, debris is cleaned."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from samples import CLI_MEASURE as MEASURE
from samples import add_fact, run

from kb import store as kb_store
from kb.derive import DERIVED_GRAPH, derive, period_lines
from kb.errors import LoadError
from kb.periods import Basis, Bound, Period, Span, Status
from kb.project import Project


def published(state: Path) -> str:
    """The folder the store link names; asserts the state folder holds nothing else but the lock."""
    link = state / "store"
    assert link.is_symlink()
    target = os.readlink(link)
    assert target.startswith("store.") and "/" not in target
    assert sorted(p.name for p in state.iterdir()) == sorted(["build.lock", "store", target])
    return target


def test_failed_build_keeps_the_last_good_store_and_leaves_no_debris(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    assert run(runner, mini_project, "build").exit_code == 0
    state = mini_project.state_dir
    good = published(state)
    good_index = (state / "store" / "index.json").read_text("utf-8")
    add_fact(mini_project, MEASURE.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory"), "broken.ttl")
    failed = run(runner, mini_project, "build")
    assert failed.exit_code == 2, failed.output
    assert "facts/broken.ttl:" in failed.output and "Traceback" not in failed.output
    assert published(state) == good
    assert (state / "store" / "index.json").read_text("utf-8") == good_index


def test_removing_a_file_rebuilds_without_its_facts(runner: CliRunner, mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE)
    assert "test-daily-testing" in run(runner, mini_project, "query", "measures").output
    path.unlink()
    output = run(runner, mini_project, "query", "measures").output
    assert "test-daily-testing" not in output and "(0 rows)" in output


def test_debris_of_a_killed_build_is_removed_by_the_next_build(runner: CliRunner, mini_project: Project) -> None:
    assert run(runner, mini_project, "build").exit_code == 0
    state = mini_project.state_dir
    # What a build killed at various points leaves: a half-written database, a link not yet renamed, a temp file.
    half = state / "store.k1lled00"
    half.mkdir()
    (half / "000009.sst").write_bytes(b"\0" * 100)
    (half / "LOCK").write_bytes(b"")
    os.symlink("store.k1lled00", state / "store.link.99999")
    (state / "store.old.4242").mkdir()
    (half / ".index.json.abc.tmp").write_text("{", "utf-8")
    result = run(runner, mini_project, "build", "--force")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "store built" in result.output
    published(state)
    assert not half.exists() and not (state / "store.link.99999").is_symlink()


def test_a_pinned_snapshot_survives_rebuilds_until_it_is_released(runner: CliRunner, mini_project: Project) -> None:
    add_fact(mini_project, MEASURE)
    store = kb_store.open_store(mini_project)
    state = mini_project.state_dir
    old = os.readlink(state / "store")
    before = len(store)
    add_fact(mini_project, MEASURE.replace("test-daily-testing", "test-other"), "other.ttl")
    for _ in range(2):
        result = run(runner, mini_project, "build", "--force")
        assert result.exit_code == 0, result.output
    new = os.readlink(state / "store")
    assert new != old and (state / old / "index.json").is_file()
    assert len(store) == before  # the reader still answers from the folder it opened, whole
    assert len(kb_store.open_store(mini_project)) > before
    del store
    assert run(runner, mini_project, "build", "--force").exit_code == 0
    assert not (state / old).exists()
    published(state)


def test_store_of_the_layout_before_snapshots_is_replaced(runner: CliRunner, unbuilt_mini_project: Project) -> None:
    state = unbuilt_mini_project.state_dir
    (state / "store").mkdir(parents=True)
    (state / "store" / "index.json").write_text("{}", "utf-8")
    (state / "manifest.json").write_text('{"format": 1, "files": {}, "triples": 0}', "utf-8")
    add_fact(unbuilt_mini_project, MEASURE)
    result = run(runner, unbuilt_mini_project, "query", "measures")
    assert result.exit_code == 0, result.output
    assert "test-daily-testing" in result.output
    published(state)


def test_a_build_waits_for_the_lock_and_times_out_with_exit_2(
    runner: CliRunner, unbuilt_mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_LOCK_TIMEOUT", "0.3")
    with kb_store.build_lock(unbuilt_mini_project):
        result = run(runner, unbuilt_mini_project, "build", "--force")
    assert result.exit_code == 2, result.output
    assert f"waiting for another build (pid {os.getpid()}) to finish" in result.output
    assert f"error: another build (pid {os.getpid()}) still holds" in result.output
    assert "KB_LOCK_TIMEOUT" in result.output and "Traceback" not in result.output
    assert not (unbuilt_mini_project.state_dir / "store").exists()
    assert sorted(p.name for p in unbuilt_mini_project.state_dir.iterdir()) == ["build.lock"]
    assert run(runner, unbuilt_mini_project, "build").exit_code == 0


def test_lock_timeout_zero_fails_at_once(
    runner: CliRunner, unbuilt_mini_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_LOCK_TIMEOUT", "0")
    with kb_store.build_lock(unbuilt_mini_project):
        result = run(runner, unbuilt_mini_project, "query", "measures")
    assert result.exit_code == 2, result.output
    assert "still holds" in result.output and "waiting" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_bad_lock_timeout_exits_2(
    runner: CliRunner, mini_project: Project, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KB_LOCK_TIMEOUT", value)
    result = run(runner, mini_project, "build", "--force")
    assert result.exit_code == 2, result.output
    assert "KB_LOCK_TIMEOUT" in result.output and "is not a number of seconds" in result.output
    assert "Traceback" not in result.output


def test_store_files_have_normal_permissions(runner: CliRunner, mini_project: Project) -> None:
    mask = os.umask(0o022)
    try:
        assert run(runner, mini_project, "build").exit_code == 0
    finally:
        os.umask(mask)
    folder = mini_project.state_dir / os.readlink(mini_project.state_dir / "store")
    assert folder.stat().st_mode & 0o777 == 0o755
    for name in ("index.json", "manifest.json"):
        assert (folder / name).stat().st_mode & 0o777 == 0o644


def test_a_file_changed_during_a_build_leaves_the_store_stale(mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE, "a-first.ttl")
    after = mini_project.input_files().index(path) + 2  # progress counts from 1: the file read after ours
    edited = []

    def edit_once(name: str, index: int, total: int) -> None:
        if index == after:  # our file is in the store already; the edit is not
            path.write_text(MEASURE.replace("test-daily-testing", "test-edited-meanwhile"), "utf-8")
            edited.append(name)

    assert kb_store.build(mini_project, force=True, progress=edit_once).rebuilt
    assert edited and not kb_store.is_fresh(mini_project)
    index = kb_store.read_index(mini_project)
    assert any(k.endswith("/test-daily-testing") for k in index) and not any("edited" in k for k in index)
    assert kb_store.build(mini_project).rebuilt and kb_store.is_fresh(mini_project)


def test_build_refuses_a_fact_file_linking_out_of_the_project(mini_project: Project, tmp_path: Path) -> None:
    from kb.cli import main

    outside = tmp_path / "outside.ttl"
    outside.write_text("@prefix cq: <https://w3id.org/cq-covid/def#> .\n", encoding="utf-8")
    (mini_project.facts_dir / "linked.ttl").symlink_to(outside)
    result = CliRunner().invoke(main, ["--root", str(mini_project.root), "build"])
    assert result.exit_code == 2, result.output
    assert "linked.ttl" in result.output and "Traceback" not in result.output


def _canonical(store: ox.Store) -> set[str]:
    """The store's quads with blank nodes named by their place in the graph (labels differ from parse to parse)."""
    dataset = ox.Dataset(store)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {str(quad) for quad in dataset}


def test_the_build_holds_the_loaders_parse_of_each_file_and_the_periods_derived_from_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store parses the files itself and the derivation reads its facts back from it: the quads are those of the
    loader's own parse of every file (one graph each) plus the periods derived from those, up to blank-node labels."""
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    result = kb_store.build(project, force=True)
    reference = kb_store.load_project(project).to_store()
    assert result.triples == len(reference)
    derive(reference)
    built = kb_store.open_snapshot(kb_store.store_link(project))
    assert _canonical(built) == _canonical(reference)
    assert any(True for _ in built.quads_for_pattern(None, None, None, ox.NamedNode(DERIVED_GRAPH)))


def test_derived_text_keeps_quotes_backslashes_and_line_breaks() -> None:
    """The derived graph is written as N-Triples text: a reason or note with the characters it escapes loads as
    itself."""
    reason = 'said "so" \\ then\nnext\r line'
    measure = "https://w3id.org/cq-covid/id/measure/test-escapes"
    evidence = "https://w3id.org/cq-covid/id/measure/test-ender"
    period = Period(
        measure,
        Bound(date(2022, 11, 9), Basis.ANNOUNCED),
        Bound(date(2022, 11, 30), Basis.ENDED_BY, evidence, date(2022, 12, 1)),
        (Span(Status.IN_FORCE, date(2022, 11, 9), None, reason),),
    )
    store = ox.Store()
    store.bulk_load(input="".join(period_lines([period], [])).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    values = {(q.predicate.value.rsplit("#", 1)[1], q.object.value) for q in store}
    assert ("spanReason", reason) in values
    assert ("effectiveUntilNote", "ended by measure:test-ender on 2022-12-01") in values
    assert ("effectiveFrom", "2022-11-09") in values


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (MEASURE.replace("cq:strength cq:Mandatory ;", "cq:strength cq:Mandatory"), 14, "Turtle syntax error"),
        (MEASURE.replace("place:central", "nowhere:central"), 14, "prefix"),
        ("@prefix cq: <https://w3id.org/cq-covid/def#> .\n# nothing stated\n", 1, "has no triples"),
        ("\n  \n", 1, "is empty"),
        (MEASURE + '<< measure:test-daily-testing cq:strength cq:Mandatory >> cq:quote "x" .\n', 21, "RDF-star"),
    ],
)
def test_a_file_the_store_cannot_load_is_reported_at_its_line(
    mini_project: Project, text: str, line: int, words: str
) -> None:
    """What the store's parser refuses, or what the build refuses before it, names the file and the line."""
    add_fact(mini_project, text, "bad.ttl")
    with pytest.raises(LoadError) as caught:
        kb_store.build(mini_project, force=True)
    assert (caught.value.file, caught.value.line) == ("facts/bad.ttl", line), str(caught.value)
    assert words in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused_at_its_line(mini_project: Project) -> None:
    path = add_fact(mini_project, MEASURE, "latin.ttl")
    path.write_bytes(MEASURE.encode("utf-8").replace("中心".encode(), "\xe9t\xe9".encode("latin-1"), 1))
    with pytest.raises(LoadError) as caught:
        kb_store.build(mini_project, force=True)
    assert (caught.value.file, caught.value.line) == ("facts/latin.ttl", 11)
    assert "not UTF-8" in caught.value.message

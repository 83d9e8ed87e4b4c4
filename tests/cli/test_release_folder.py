"""`kb release`: the folder is complete, its datapackage valid (frictionless), void.ttl holds the counts, the
checksums match, the data changelog lists the changes since the previous release, and nothing is overwritten."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner
from samples import ROOT, SAMPLE_TTL, copy_knowledge_base, git

from kb.cli import main

VOID = "http://rdfs.org/ns/void#"
RELEASE = "https://w3id.org/cq-covid/dataset/0.2.0"
FILES = {
    "cq-covid-kb.nq",
    "cq-covid-kb.ttl",
    "cq-covid-kb.jsonld",
    "measures.csv",
    "statistics.csv",
    "datapackage.json",
    "timeline.html",
    "void.ttl",
    "CITATION.cff",
    "CHANGES.md",
    "SHA256SUMS",
}


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose first commit is tagged 0.1.0; the working tree then renames one measure (in English)."""
    base = tmp_path_factory.mktemp("release")
    root = copy_knowledge_base(base / "kb", {"article-900.ttl": SAMPLE_TTL})
    shutil.copy(ROOT / "CITATION.cff", root / "CITATION.cff")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    git(root, "tag", "0.1.0")
    article = root / "facts" / "article-900.ttl"
    article.write_text(SAMPLE_TTL.replace('"lockdown in Shapingba"@en', '"control zones in Shapingba"@en'), "utf-8")
    result = CliRunner().invoke(main, ["--root", str(root), "release", "0.2.0", "--date", "2024-05-01"])
    assert result.exit_code == 0, result.output
    assert "data changes: 0.1.0 → 0.2.0: 1 changed, 0 added, 0 removed" in result.output
    return root / "releases" / "0.2.0"


def test_the_folder_holds_every_file_and_the_checksums_match(released: Path) -> None:
    assert {p.name for p in released.iterdir()} == FILES
    lines = (released / "SHA256SUMS").read_text("utf-8").splitlines()
    sums = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    assert set(sums) == FILES - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((released / name).read_bytes()).hexdigest() == digest, name
    assert not [p for p in released.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_the_datapackage_is_valid_with_typed_columns(released: Path) -> None:
    from frictionless import Package, validate

    report = validate(str(released / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = Package(str(released / "datapackage.json"))
    types = {f.name: f.type for f in package.get_resource("measures").schema.fields}
    assert (types["announced"], types["effective_until"], types["label_en"]) == ("date", "date", "string")
    assert {f.name: f.type for f in package.get_resource("statistics").schema.fields}["value"] == "number"
    rows = package.get_resource("statistics").read_rows()  # type: ignore[attr-defined]
    assert sorted(float(row["value"]) for row in rows) == [22.0, 35.0, 109.0]


def test_a_value_of_the_wrong_type_makes_the_datapackage_invalid(released: Path, tmp_path: Path) -> None:
    """The check can fail: a date column holding a non-date is caught."""
    from frictionless import validate

    planted = tmp_path / "planted"
    shutil.copytree(released, planted)
    table = list(csv.reader(io.StringIO((planted / "measures.csv").read_text("utf-8"))))
    table[1][table[0].index("announced")] = "30 Nov"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    (planted / "measures.csv").write_text(buffer.getvalue(), "utf-8")
    report = validate(str(planted / "datapackage.json"))
    assert not report.valid
    types = {error.type for task in report.tasks for error in task.errors}
    assert "type-error" in types


def test_void_parses_and_states_the_counts(released: Path) -> None:
    quads = list(ox.parse(path=str(released / "cq-covid-kb.nq"), format=ox.RdfFormat.N_QUADS))
    triples = {q.triple for q in quads}
    void = list(ox.parse(path=str(released / "void.ttl"), format=ox.RdfFormat.TURTLE))

    def objects(subject: object, predicate: str) -> list:
        return [t.object for t in void if t.subject == subject and t.predicate == ox.NamedNode(predicate)]

    release = ox.NamedNode(RELEASE)
    assert [o.value for o in objects(release, VOID + "triples")] == [str(len(triples))]
    measures = [
        part
        for part in objects(release, VOID + "classPartition")
        if objects(part, VOID + "class") == [ox.NamedNode("https://w3id.org/cq-covid/def#Measure")]
    ]
    with (released / "measures.csv").open(encoding="utf-8") as handle:
        rows = len(list(csv.DictReader(handle)))
    assert [o.value for o in objects(measures[0], VOID + "entities")] == [str(rows)] == ["5"]
    assert objects(release, VOID + "dataDump") == [ox.NamedNode(RELEASE + "/cq-covid-kb.nq")]
    licence = objects(release, "http://purl.org/dc/terms/license")
    assert licence == [ox.NamedNode("https://creativecommons.org/licenses/by/4.0/")]
    graphs = {q.graph_name for q in quads}
    named = [t for t in void if t.predicate == ox.NamedNode("http://www.w3.org/ns/sparql-service-description#name")]
    assert {t.object for t in named} == graphs


def test_citation_and_data_changelog_name_this_release(released: Path) -> None:
    citation = yaml.safe_load((released / "CITATION.cff").read_text("utf-8"))
    assert (citation["version"], citation["date-released"], citation["license"]) == ("0.2.0", "2024-05-01", "CC-BY-4.0")
    changes = (released / "CHANGES.md").read_text("utf-8")
    assert "### Data\n- 1 subjects changed, 0 added, 0 removed since 0.1.0" in changes
    assert "changed measure:t-open-end (facts/article-900.ttl:" in changes
    assert '    label (en) changed: "lockdown in Shapingba" → "control zones in Shapingba"' not in changes
    assert "    label (en): lockdown in Shapingba → control zones in Shapingba" in changes


def test_a_release_is_never_overwritten(released: Path) -> None:
    before = (released / "SHA256SUMS").read_bytes()
    root = released.parent.parent
    result = CliRunner().invoke(main, ["--root", str(root), "release", "0.2.0", "--first"])
    assert result.exit_code == 2 and "already exists" in result.output
    assert (released / "SHA256SUMS").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["release", "1 0"], "is not a version name"),
        (["release", "1.0", "--date", "May"], "is not a date"),
        (["release", "1.0", "--first", "--previous", "HEAD"], "contradict"),
        (["release", "1.0", "--previous", "nope"], "unknown revision 'nope'"),
    ],
)
def test_bad_release_options_are_clear_errors(released: Path, args: list[str], message: str) -> None:
    root = released.parent.parent
    result = CliRunner().invoke(main, ["--root", str(root), *args, "-o", str(root / "out")])
    assert result.exit_code == 2 and message in result.output
    assert not (root / "out").exists()

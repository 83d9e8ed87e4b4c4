"""compare-build's identity check (bench/__main__.py same_builds) can fail: a kept file or a quad that differs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox

from bench.__main__ import KEPT, same_builds
from kb.project import Project
from kb.store import open_store, store_link


def _two_builds(project: Project, tmp_path: Path) -> tuple[Path, Path]:
    open_store(project)  # built (read-only once published)
    folder = store_link(project).resolve()
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(folder, a)
    shutil.copytree(folder, b)
    return a, b


def test_the_same_build_twice_is_the_same(mini_project: Project, tmp_path: Path) -> None:
    a, b = _two_builds(mini_project, tmp_path)
    same = same_builds(a, b, quads=True)
    assert set(same) == {*KEPT, "quads"}
    assert all(same.values()), same


# RocksDB's own files (compared as quads), and what readers add to a published build later (kept answers)
_NOT_KEPT_BY_THE_BUILD = ("CURRENT", "IDENTITY", "LOCK", "LOG", "MANIFEST-", "OPTIONS-", "tables", "checked.json")


def test_every_file_the_build_writes_beside_the_store_is_compared(mini_project: Project) -> None:
    open_store(mini_project)
    folder = store_link(mini_project).resolve()
    written = {
        p.name
        for p in folder.iterdir()
        if p.suffix not in (".sst", ".log") and not p.name.startswith(_NOT_KEPT_BY_THE_BUILD)
    }
    assert written and written <= set(KEPT), written - set(KEPT)


def test_a_kept_file_that_differs_is_caught(mini_project: Project, tmp_path: Path) -> None:
    a, b = _two_builds(mini_project, tmp_path)
    for name in KEPT:
        if (b / name).exists():
            original = (b / name).read_bytes()
            (b / name).write_bytes(original + b" ")
            assert same_builds(a, b, quads=False)[name] is False, name
            (b / name).write_bytes(original)
    assert all(same_builds(a, b, quads=False).values())


def test_a_quad_that_differs_is_caught(mini_project: Project, tmp_path: Path) -> None:
    a, b = _two_builds(mini_project, tmp_path)
    store = ox.Store(str(b))
    store.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("planted")))
    store.flush()
    del store
    assert same_builds(a, b, quads=True)["quads"] is False

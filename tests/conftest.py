"""Shared fixtures (the real project, throw-away copies of it, a CLI runner) and the order the files run in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import ROOT

from kb.project import Project

# Temporary folders in memory (/dev/shm) where it has room: most tests build a knowledge base in one, and the store's
# bulk load syncs each file it ingests to disk (about 0.1 s a file on the CI machine's disk, nothing on tmpfs), which
# no test looks at. The same code runs either way. A temp root set by hand wins (PYTEST_DEBUG_TEMPROOT=/tmp for the
# disk), and without 4 GiB free (a container's 64 MB /dev/shm) the system's temp folder is used as before.
SHM = Path("/dev/shm")
SHM_FREE = 4 << 30


def _temp_in_memory() -> None:
    if os.environ.get("PYTEST_DEBUG_TEMPROOT") or not SHM.is_dir() or not os.access(SHM, os.W_OK | os.X_OK):
        return
    if shutil.disk_usage(SHM).free >= SHM_FREE:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(SHM)


_temp_in_memory()


# The test files that take longest (the sum of their tests' times in `pytest --junitxml` on the 2-core CI machine,
# 35 s to 2.5 min each), longest first. They run first, so that with a worker per core (pytest-xdist, a file to a
# worker) none of them starts last while the other worker sits idle. Only the order changes: every test still runs,
# and a file that is not here keeps its place.
LONGEST_FIRST = (
    "browser/test_timeline_browser.py",
    "cli/test_validate_hostile.py",
    "server/test_serve.py",
    "engines/test_conformance.py",
    "cli/test_export.py",
    "cli/test_curation_checks.py",
    "cli/test_validate_checks.py",
    "cli/test_query_days.py",
    "cli/test_timeline.py",
    "server/test_serve_fast.py",
    "cli/test_store_concurrency.py",
    "cli/test_store.py",
    "unit/test_time_checks.py",
    "cli/test_cli_core.py",
    "cli/test_validate_checked.py",
    "engines/test_engine_parity.py",
    "data/test_extension.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {ROOT / "tests" / name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Builds made by tests go to a temporary folder, never into the checkout's .kb/."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KB_STATE_DIR", str(tmp_path_factory.mktemp("kb-state")))
    mp.delenv("KB_ROOT", raising=False)
    yield
    mp.undo()


@pytest.fixture(scope="session")
def project() -> Project:
    """The real knowledge base in this checkout, or the one $KB_TEST_ROOT names (a copy with an article added:
    tests/test_extension.py runs the data tests on it)."""
    return Project(Path(os.environ.get("KB_TEST_ROOT") or ROOT))


def _copy_mini(root: Path) -> Path:
    """The ontology and shared facts (no article files) copied to `root`."""
    shutil.copytree(ROOT / "ontology", root / "ontology")
    (root / "facts").mkdir(parents=True)
    for name in ("sources.ttl", "agents.ttl", "documents.ttl"):
        shutil.copy2(ROOT / "facts" / name, root / "facts" / name)
    shutil.copytree(ROOT / "facts" / "reference", root / "facts" / "reference")
    shutil.copytree(ROOT / "facts" / "sources", root / "facts" / "sources")
    return root


@pytest.fixture(scope="session")
def _built_mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project built once per session (in each worker): a folder holding kb/ and its state/."""
    from kb.store import build

    folder = tmp_path_factory.mktemp("mini-built")
    project = Project(_copy_mini(folder / "kb"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_STATE_DIR", str(folder / "state"))
        assert build(project).rebuilt
    return folder


@pytest.fixture
def mini_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _built_mini: Path) -> Project:
    """A copy of the ontology and shared facts (no article files), with its own build folder, already built.

    The copy is of one session-wide build (files copied with their times, the store link relative), so the store
    is fresh for the copy exactly as if it had been built there: a test that adds or changes a file gets a rebuild
    as before, and one that validates new files in context finds the rest built (a build of the mini project is
    most of the cost of such a test). `unbuilt_mini_project` is the same copy with an empty build folder."""
    shutil.copytree(_built_mini / "kb", tmp_path / "kb", symlinks=True)
    shutil.copytree(_built_mini / "state", tmp_path / "state", symlinks=True)
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    return Project(tmp_path / "kb")


@pytest.fixture
def unbuilt_mini_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A copy of the ontology and shared facts (no article files), with its own build folder, never built."""
    root = _copy_mini(tmp_path / "kb")
    monkeypatch.setenv("KB_STATE_DIR", str(tmp_path / "state"))
    return Project(root)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

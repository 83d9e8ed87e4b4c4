"""docs/architecture.md lists every module of kb/ and only those; the rooms never reach each other by imports.

Both read the tree as it is when the tests run, so a module added or removed anywhere under kb/ is noticed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from samples import ROOT

KB = ROOT / "kb"
DOC = ROOT / "docs" / "architecture.md"
# The rooms that read the store and never import each other (issue 11); each may be a module or a package.
ROOMS = ("kb.validate", "kb.timeline", "kb.export", "kb.serve")


def _modules() -> list[str]:
    """Every Python module under kb/, as a path like kb/timeline/axis.py."""
    return sorted(path.relative_to(ROOT).as_posix() for path in KB.rglob("*.py") if "__pycache__" not in path.parts)


def _query_folders() -> list[str]:
    """kb/queries/ and every folder under it, as paths like kb/queries/export/."""
    folders = [KB / "queries", *(p for p in (KB / "queries").rglob("*") if p.is_dir() and p.name != "__pycache__")]
    return sorted(folder.relative_to(ROOT).as_posix() + "/" for folder in folders)


def _doc() -> str:
    return DOC.read_text("utf-8")


def _entries(pattern: str) -> list[str]:
    """The paths the page gives a line of their own: `- `PATH` — what it does`."""
    return re.findall(rf"^- `({pattern})` — \S", _doc(), flags=re.MULTILINE)


def test_every_module_of_kb_has_one_line_in_the_architecture_page() -> None:
    entries = _entries(r"kb/[\w/]+\.py")
    assert [name for name in _modules() if name not in entries] == [], "add a line for each to docs/architecture.md"
    assert sorted({name for name in entries if entries.count(name) > 1}) == []


def test_the_architecture_page_names_no_module_that_does_not_exist() -> None:
    named = set(re.findall(r"(?<![\w/.])kb/[\w/]+\.py\b", _doc()))
    assert named, "the page names its modules by path (kb/store.py)"
    assert sorted(named - set(_modules())) == [], "remove or rename these in docs/architecture.md"


def test_every_queries_folder_has_one_line_in_the_architecture_page() -> None:
    entries = _entries(r"kb/queries/(?:[\w-]+/)*")
    assert [name for name in _query_folders() if name not in entries] == [], "describe each in docs/architecture.md"
    assert sorted({name for name in entries if entries.count(name) > 1}) == []
    named = set(re.findall(r"(?<![\w/.])kb/queries/(?:[\w-]+/)*", _doc()))
    assert sorted(named - set(_query_folders())) == [], "remove or rename these in docs/architecture.md"


def _module_names() -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in KB.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The kb modules a module imports anywhere in it (inside functions too), relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for candidate in candidates:
            # importing kb.a.b runs kb/a/__init__.py first
            parts = candidate.split(".")
            found.update(".".join(parts[:i]) for i in range(2, len(parts) + 1) if ".".join(parts[:i]) in modules)
    return found


def _in_room(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def test_rooms_never_reach_each_other() -> None:
    """Not directly (tests/cli/test_timeline.py, cli/test_export.py and server/test_serve.py check that), nor
    through a module they share: the whole static import graph of kb/, followed from every module of a room."""
    modules = _module_names()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["kb.store"] >= {"kb.loader", "kb.derive"}  # the resolver sees relative imports
    crossings = []
    for room in ROOMS:
        start = [name for name in modules if _in_room(name, room)]
        assert start, f"{room} is gone: update ROOMS and docs/architecture.md"
        via: dict[str, str] = {name: "" for name in start}  # each module reached, and from where
        todo = list(start)
        while todo:
            current = todo.pop()
            for imported in sorted(graph[current]):
                if imported not in via:
                    via[imported] = current
                    todo.append(imported)
        assert "kb.namespaces" in via
        for reached in sorted(via):
            others = [other for other in ROOMS if other != room and _in_room(reached, other)]
            entered = others and not _in_room(via[reached], others[0])  # name where a chain enters, not beyond
            if reached == "kb.cli" or entered:
                chain = [reached]
                while via[chain[-1]]:
                    chain.append(via[chain[-1]])
                crossings.append(" ← ".join(chain))
    assert crossings == []


def test_only_the_entry_point_imports_the_command_line() -> None:
    modules = _module_names()
    importers = sorted(name for name, path in modules.items() if "kb.cli" in _imports(name, path, modules))
    assert importers == ["kb.__main__"]


def _test_module_imports(source: str) -> list[str]:
    """The test modules (test_*) a test file imports: a test shares data through samples.py or conftest.py."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names += [node.module or alias.name for alias in node.names]
    return [n for n in names if n.rsplit(".", 1)[-1].startswith("test_")]


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        if (found := _test_module_imports(path.read_text("utf-8")))
    }
    assert offenders == {}


def test_the_test_import_guard_sees_a_planted_import() -> None:
    planted = "import os\nfrom test_engine_parity import PARAM_SAMPLES\nfrom . import test_serve\nimport tests.test_x\n"
    assert _test_module_imports(planted) == ["test_engine_parity", "test_serve", "tests.test_x"]


def test_release_is_built_on_the_rooms_and_no_room_imports_it() -> None:
    """kb.release may import the rooms (it calls export, timeline and serve's resource pages); nothing but the
    command line imports kb.release, so the rooms stay independent of it."""
    modules = _module_names()
    importers = sorted(
        name
        for name, path in modules.items()
        if not _in_room(name, "kb.release") and any(_in_room(i, "kb.release") for i in _imports(name, path, modules))
    )
    assert importers == ["kb.cli"]
    release = set().union(*(_imports(n, p, modules) for n, p in modules.items() if _in_room(n, "kb.release")))
    assert {"kb.export", "kb.timeline", "kb.serve.resources"} <= release

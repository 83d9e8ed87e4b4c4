"""Builds and readers at once, as separate processes: no traceback, no Corruption, every answer whole."""

from __future__ import annotations

import os
import subprocess
import sys

from samples import ROOT

from kb import store as kb_store
from kb.project import Project

# Each round races two forced builds with a stale reader and an export (four processes, several builds in
# turn under the lock). 10 rounds, not 20: every round still checks each answer whole, but the race is sampled
# half as often, for about half of what this test cost the 2-core CI machine.
ROUNDS = 10
PROCESS_TIMEOUT = 120  # seconds for any one command; a build of the small project takes well under one
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def kb(project: Project, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KB_STATE_DIR": str(project.state_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "kb", "--root", str(project.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def extra_facts(count: int) -> str:
    lines = ["@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    lines += [f'<urn:kb-stress:{n}> rdfs:label "stress {n}" .' for n in range(count)]
    return "\n".join(lines) + "\n"


def count_of(table: str) -> int:
    """The number in the one-cell table `kb query` prints for COUNT."""
    lines = table.splitlines()
    assert lines[:2] == ["n", "-" * len(lines[1])] and lines[-1] == "(1 row)", table
    return int(lines[2])


def test_parallel_builds_and_readers_never_see_a_broken_store(mini_project: Project) -> None:
    extra = mini_project.facts_dir / "stress.ttl"
    extra.write_text(extra_facts(1), "utf-8")
    code, out, err = finish(kb(mini_project, "query", COUNT))
    assert code == 0, err
    base = count_of(out)
    for round_ in range(ROUNDS):
        # A new input each round: readers find the store stale and go through the lock too, not only the builds.
        extra.write_text(extra_facts(round_ + 1), "utf-8")
        processes = {
            "build 1": kb(mini_project, "build", "--force"),
            "build 2": kb(mini_project, "build", "--force"),
            "query": kb(mini_project, "query", COUNT),
            "export": kb(mini_project, "export", "--format", "nq"),
        }
        results = {name: finish(process) for name, process in processes.items()}
        for name, (code, _, err) in results.items():
            assert code == 0, f"round {round_}, {name}: exit {code}\n{err}"
            assert "Traceback" not in err and "Corruption" not in err, f"round {round_}, {name}:\n{err}"
            # Nothing on stderr but the note that a build waits for the other one.
            assert all(line.startswith("waiting for another build (pid ") for line in err.splitlines()), err
        for name in ("build 1", "build 2"):
            assert results[name][1].startswith("store built: "), results[name][1]
        assert count_of(results["query"][1]) == base + round_
        lines = results["export"][1].splitlines()
        assert sum("<urn:kb-stress:" in line for line in lines) == round_ + 1
        assert all(line.endswith(" .") for line in lines)
    # A folder a reader still pinned when the last build cleaned up stays until the next build, which removes it.
    code, _, err = finish(kb(mini_project, "build", "--force"))
    assert code == 0, err
    state = mini_project.state_dir
    assert sorted(p.name for p in state.iterdir()) == sorted(["build.lock", "store", os.readlink(state / "store")])


def test_a_build_waits_for_a_running_one_and_says_so(unbuilt_mini_project: Project) -> None:
    with kb_store.build_lock(unbuilt_mini_project):
        waiting = kb(unbuilt_mini_project, "build")
        assert waiting.stderr is not None
        line = waiting.stderr.readline()  # blocks until the build reports that it waits (bounded below)
        assert line.startswith(f"waiting for another build (pid {os.getpid()}) to finish"), line
        assert waiting.poll() is None
    code, out, err = finish(waiting)
    assert code == 0, err
    assert out.startswith("store built: ") and "Traceback" not in err

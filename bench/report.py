"""`make bench-report`: the issue-18 targets judged on one benchmark run, as a Markdown table, with the change since
the previous report.

`python -m bench report --sizes 10000,100000` runs `bench_size` at each size (every part), keeps the raw figures in
bench/results/latest.json (the previous run's move to previous.json) and writes docs/bench-report.md. Every figure
judged is a ratio of two measurements taken in the same run, or a rate or time of one run: the machine is shared,
so absolute times are noisy (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPORT = Path(__file__).resolve().parent.parent / "docs" / "bench-report.md"
SMALL = 100  # rows: an answer of at most this many is judged on time, a larger one on rows per second


@dataclass(frozen=True)
class Verdict:
    """One target at one size: what was measured (a number, smaller or larger is better), and the goal."""

    target: str
    size: int
    value: float | None
    goal: float
    higher_is_better: bool
    unit: str = "×"

    @property
    def met(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def status(self) -> str:
        if self.value is None:
            return "not measured"
        if self.met:
            return "**met**"
        if self.higher_is_better:
            return f"**missed** (needs {self.goal / self.value:.1f}× more)" if self.value else "**missed**"
        return f"**missed** by {self.value / self.goal:.1f}×"

    def shown(self) -> str:
        if self.value is None:
            return "—"
        if not self.unit:
            return "yes" if self.value else "no"
        return f"{self.value:,.2f}{self.unit}" if self.unit != " ms" else f"{self.value:,.0f} ms"


def _ratio(result: dict, top: str, bottom: str) -> float | None:
    a, b = result.get(top), result.get(bottom)
    return a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None


def verdicts(result: dict) -> Iterator[Verdict]:
    """The issue-18 targets for one size's figures (bench.__main__.bench_size's output)."""
    size = int(result["size"])
    yield Verdict(
        "full validation: pyshacl ÷ kb validate (wall)",
        size,
        _ratio(result, "pyshacl_full_s", "validate_full_s"),
        10,
        True,
    )
    yield Verdict(
        "full validation: pyshacl ÷ kb validate (CPU)",
        size,
        _ratio(result, "pyshacl_full_cpu_s", "validate_full_cpu_s"),
        10,
        True,
    )
    identical = result.get("findings_identical")
    yield Verdict(
        "full validation: findings identical to pyshacl",
        size,
        None if identical is None else float(bool(identical)),
        1,
        True,
        "",
    )
    yield Verdict("build CPU ÷ bulk_load CPU", size, _ratio(result, "build_cpu_s", "bulk_load_cpu_s"), 1.2, False)
    yield Verdict("build peak RSS ÷ bulk_load's", size, _ratio(result, "build_peak_mb", "bulk_load_peak_mb"), 4, False)
    warm = result.get("warm_queries_ms") or {}
    if warm:
        yield from _answer_verdicts(size, warm, "median_ms", "", "")
    # The same answers asked again in the process (a full table is kept by its first answer, kb/query/tables.py;
    # a check's rows only by a full kb validate, which this part does not run): results written before this
    # figure existed have no such row.
    again = {name: q for name, q in warm.items() if "again_ms" in q}
    if again:
        yield from _answer_verdicts(size, again, "again_ms", ", asked again", " asked again")


def _answer_verdicts(size: int, queries: dict, field: str, small_note: str, table_note: str) -> Iterator[Verdict]:
    """The slowest small answer (ms) and the slowest full table (rows/s) of the timed queries, by `field`."""
    small = [q[field] for q in queries.values() if q["rows"] <= SMALL]
    over = sum(1 for ms in small if ms > 100)
    yield Verdict(
        f"slowest answer of ≤ {SMALL} rows{small_note} ({over} of {len(small)} over 100 ms)",
        size,
        max(small, default=None),
        100,
        False,
        " ms",
    )
    rates = [q["rows"] / (q[field] / 1000) for q in queries.values() if q["rows"] > SMALL and q[field]]
    below = sum(1 for r in rates if r < 20000)
    yield Verdict(
        f"slowest full table{table_note}, rows/s ({below} of {len(rates)} under 20k)",
        size,
        min(rates, default=None),
        20000,
        True,
        " rows/s",
    )


def _key(v: Verdict) -> tuple[str, int]:
    return (re.sub(r"\(\d+ of \d+ ", "(", v.target), v.size)


def render(results: list[dict], previous: list[dict] | None, when: str) -> str:
    """The report: one row per target and size, with the change since the previous report's figure."""
    before = {_key(v): v for r in previous or [] for v in verdicts(r)}
    lines = [
        "# Benchmark report (issue 18 targets)",
        "",
        f"Written by `make bench-report` on {when}; raw figures in bench/results/latest.json. Every figure is a",
        "ratio of two measurements taken side by side in the same run, or one run's time or rate; how they are taken:",
        "docs/benchmarks.md. The 1M-measure query target is judged at the sizes run here.",
        "",
        "| target | size | measured | goal | status | previous report |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for result in results:
        for v in verdicts(result):
            old = before.get(_key(v))
            change = "—" if old is None or old.value is None else old.shown()
            goal = (
                ("≥ " if v.higher_is_better else "≤ ") + (f"{v.goal:,.0f}" if v.goal >= 10 else f"{v.goal:g}") + v.unit
            )
            lines.append(f"| {v.target} | {v.size:,} | {v.shown()} | {goal} | {v.status()} | {change} |")
    return "\n".join(lines) + "\n"


def write(results: list[dict], report: Path = REPORT, folder: Path = RESULTS) -> Path:
    """Keep the figures (the last run's as previous.json) and write the report."""
    folder.mkdir(parents=True, exist_ok=True)
    latest, previous_path = folder / "latest.json", folder / "previous.json"
    previous = json.loads(latest.read_text("utf-8")) if latest.exists() else None
    if previous is not None:
        previous_path.write_text(json.dumps(previous, indent=1, ensure_ascii=False), "utf-8")
    latest.write_text(json.dumps(results, indent=1, ensure_ascii=False), "utf-8")
    report.write_text(render(results, previous, time.strftime("%Y-%m-%d %H:%M")), "utf-8")
    return report

"""`make bench-report`'s judgement (bench/report.py) on planted figures: a full table judged by its first answer
and again once kept, a small answer judged both ways, and results from before the second figure existed."""

from __future__ import annotations

from bench.report import verdicts


def _by_target(result: dict) -> dict[str, tuple[float | None, bool | None]]:
    return {v.target.split(" (")[0]: (v.value, v.met) for v in verdicts(result)}


def _query(rows: int, first_ms: float, again_ms: float | None) -> dict:
    query = {"median_ms": first_ms, "cpu_ms": first_ms, "runs": 1, "rows": rows}
    if again_ms is not None:
        query |= {"first_ms": first_ms, "again_ms": again_ms, "again_cpu_ms": again_ms}
    return query


def test_tables_and_small_answers_are_judged_first_and_again() -> None:
    warm = {
        "measures": _query(100_000, 30_000.0, 2_000.0),  # 3.3k rows/s first, 50k once kept
        "timeline-spans": _query(150_000, 8_000.0, 10_000.0),  # 18.8k first, 15k again: the slowest again
        "a-check": _query(0, 900.0, 900.0),  # a check, not kept without a validation: slow both times
        "counts": _query(10, 5.0, 1.0),
    }
    found = _by_target({"size": 100_000, "warm_queries_ms": warm})
    assert found["slowest full table, rows/s"] == (100_000 / 30, False)
    assert found["slowest full table asked again, rows/s"] == (15_000, False)
    assert found["slowest answer of ≤ 100 rows"] == (900.0, False)
    assert found["slowest answer of ≤ 100 rows, asked again"] == (900.0, False)
    warm["timeline-spans"] = _query(150_000, 8_000.0, 5_000.0)
    warm["a-check"] = _query(0, 900.0, 40.0)
    found = _by_target({"size": 100_000, "warm_queries_ms": warm})
    assert found["slowest full table asked again, rows/s"] == (30_000, True)
    assert found["slowest answer of ≤ 100 rows, asked again"] == (40.0, True)


def test_results_without_the_second_figure_have_no_such_row() -> None:
    warm = {"measures": _query(100_000, 30_000.0, None), "counts": _query(10, 5.0, None)}
    found = _by_target({"size": 10_000, "warm_queries_ms": warm})
    assert "slowest full table, rows/s" in found
    assert not any("again" in target for target in found)

"""Check queries rewritten for speed give the rows of the text they replaced, on planted faults: the rewrite is a
pattern or FILTER added to the old text, so the old text is the new one without it (the tests fail if the added part
is no longer there as written, so that a change to it comes with its test)."""

from __future__ import annotations

import pyoxigraph as ox
from samples import PREFIXES

from kb.loader import Dataset, parse_turtle
from kb.query import run_query
from kb.validate.checks import CHECKS_DIR

_BOUND_FILTER = (
    "  # a text with none of the words below cannot give a ?cue: one REGEX sets it aside before the dozen that follow\n"
    '  FILTER(REGEX(?plain, "more than|over|at least|at most|up to|fewer than|less than|about|around|approximately|'
    "roughly|nearly|超|逾|突破|至少|不少|不超|不足|不到|少于|少於|约|約|近|余|餘|多|以上|以内|以內|左右|个位数|個位數|"
    'lower bound|upper bound", "i"))\n'
)


def _observation(name: str, value: str, text: str, where: str = "cq:quote") -> str:
    return f'obs:{name} a cq:Observation ; cq:value {value} ; {where} "{text}" .\n'


def _parameter(name: str, value: str, label: str, quote: str) -> str:
    return (
        f'measure:{name} a cq:Measure ; cq:quote "{quote}" ;\n'
        f'    cq:parameter [ a cq:Parameter ; cq:value {value} ; rdfs:label "{label}" ] .\n'
    )


# every cue the query knows (English before a number, Chinese before or after one, 个位数, a bound in a label or
# comment), a comma inside the number, a cue that qualifies another number (no row), a qualifier given (no row)
_BOUNDS = PREFIXES + "".join(
    [
        _observation("en-more", "1500", "more than 1,500 people"),
        _observation("en-nearly", "20", "Nearly 20 sites", "rdfs:label"),
        _observation("en-about", "3", "about 3 days", "rdfs:comment"),
        _observation("zh-over", "140000", "超14万人"),
        _observation("zh-at-most", "24", "不超过24小时"),
        _observation("zh-about", "500", "约500人"),
        _observation("zh-after", "500", "500余人"),
        _observation("zh-within", "3", "3日以内"),
        _observation("zh-around", "20000", "2万左右", "rdfs:comment"),
        _observation("digits", "9", "个位数"),
        _observation("lower", "7", "a lower bound", "rdfs:comment"),
        _observation("upper", "7", "the upper bound", "rdfs:label"),
        _observation("other-number", "5", "连续3日以上共5个区"),
        _observation("plain", "12", "新增12例"),
        'obs:qualified a cq:Observation ; cq:value 300 ; cq:quote "超过300人" ; cq:valueQualifier cq:MoreThan .\n',
        _parameter("param-label", "48", "不超过48小时", "实行封控管理"),
        _parameter("param-quote", "7", "days", "隔离7天以上"),
        _parameter("param-none", "2", "two tests", "两次核酸检测"),
    ]
)


def _rows(store: ox.Store, text: str) -> list[tuple[str, ...]]:
    return sorted(tuple(str(term) for term in row) for row in run_query(store, text).rows)


def test_value_bound_check_with_its_prefilter_gives_the_rows_it_gave_without() -> None:
    store = Dataset([parse_turtle(_BOUNDS.encode(), "facts/bounds.ttl")]).to_store()
    text = (CHECKS_DIR / "value-bound-not-recorded-violation.rq").read_text("utf-8")
    assert text.count(_BOUND_FILTER) == 1
    before = _rows(store, text.replace(_BOUND_FILTER, ""))
    assert len(before) == 14, before
    assert _rows(store, text) == before

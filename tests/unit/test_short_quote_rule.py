"""too_short_for_evidence decides most texts from their first characters; that shortcut gives the rule's own answer
(fewer than MIN_QUOTE_CHARS characters besides spaces, or no letter or digit) on every text made of characters at
the edges of the rule: Unicode spaces re's \\s knows (U+001C, U+0085, U+3000), spaces it does not (U+200B),
punctuation, a symbol, letters and digits of several scripts."""

from __future__ import annotations

import itertools
import re
import unicodedata

from kb.validate.checks import MIN_QUOTE_CHARS, too_short_for_evidence

_CHARACTERS = ["a", "中", "1", "Ⅻ", " ", "\u3000", "\t", "\x1c", "\x85", "\u00a0", "\u200b", "-", "_", "。", "😀"]
_FEW = ["中", "1", " ", "\x85", "\u200b", "-"]  # one of each kind, for the longer texts


def _rule(text: str) -> bool:
    compact = re.sub(r"\s", "", text)
    return len(compact) < MIN_QUOTE_CHARS or not any(unicodedata.category(c)[0] in "LN" for c in compact)


def test_the_shortcut_gives_the_rules_answer_on_every_short_combination() -> None:
    checked = 0
    for length in range(MIN_QUOTE_CHARS + 2):
        for chars in itertools.product(_CHARACTERS if length < MIN_QUOTE_CHARS else _FEW, repeat=length):
            text = "".join(chars)
            assert too_short_for_evidence(text) == _rule(text), repr(text)
            checked += 1
    for text in ("中心城区各区", "  中心城区", "中 心 城", "1234", "a b c d", "----a", "中\u200b\u200b\u200b"):
        assert too_short_for_evidence(text) == _rule(text), repr(text)
    assert checked > 10_000
    assert too_short_for_evidence("中 心") and not too_short_for_evidence("中心城区") and too_short_for_evidence("----")

"""Search in both scripts: the traditional → simplified map the page ships, and the folding it applies."""

from __future__ import annotations

from collections.abc import Iterable


def _char_pairs() -> list[tuple[str, str]]:
    """(traditional, simplified) character pairs from hanziconv's table (Apache-2.0)."""
    from hanziconv.charmap import simplified_charmap, traditional_charmap

    return [(t, s) for t, s in zip(traditional_charmap, simplified_charmap, strict=False) if t != s]


def build_char_map(texts: Iterable[str]) -> dict[str, str]:
    """Traditional → simplified for every character of `texts` and every variant of those characters.

    The page folds both the measures' text and the user's query with this map, so a search in
    either script finds both. Only characters relevant to the knowledge base are kept, so the map
    stays small.
    """
    pairs = _char_pairs()
    to_simple = dict(pairs)
    present = {to_simple.get(c, c) for text in texts for c in text if ord(c) > 0x2E7F}
    return {t: s for t, s in pairs if s in present}


def fold(text: str, char_map: dict[str, str]) -> str:
    """Text as the search compares it: simplified characters, lower case, single spaces."""
    return " ".join("".join(char_map.get(c, c) for c in text.lower()).split())

"""One comparison's outcome, and the known differences that are expected (strictly: one that goes away fails too)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one comparison found: `same` is whether the engines (or kb and the engines) agree."""

    part: str
    name: str
    same: bool
    detail: str = ""
    known: str = ""  # the reason, when a difference is expected

    @property
    def status(self) -> str:
        if self.known:
            return "known difference" if not self.same else "FIXED (remove it from the known differences)"
        return "same" if self.same else "DIFFERS"

    @property
    def ok(self) -> bool:
        """Agreement, or a difference that is known; a known difference that disappeared is not ok (strict)."""
        return self.same != bool(self.known)


def outcome(part: str, name: str, same: bool, detail: str, known: dict[str, str]) -> Outcome:
    return Outcome(part, name, same, detail, known.get(name, ""))


class ToolMissing(Exception):
    """A reference engine is not installed: the message names it and the hint how to install it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint

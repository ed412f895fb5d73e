"""Helpers shared by the metrics over records in bundle.yaml: approvals and attestations."""

from __future__ import annotations

from dataclasses import dataclass


def same_text(left: object, right: object) -> bool:
    """Return whether two texts are equal, ignoring case and repeated or surrounding spaces; False for a missing one."""
    if not isinstance(left, str) or not isinstance(right, str) or not left or not right:
        return False
    return " ".join(left.split()).casefold() == " ".join(right.split()).casefold()


@dataclass(frozen=True)
class RecordTally:
    """Counts behind the row of one record, such as one approval: `{noun: n}` in reports."""

    noun: str
    n: int = 1

    def to_dict(self) -> dict:
        return {self.noun: self.n}

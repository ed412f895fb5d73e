"""Sufficient statistics that metric implementations read: confusion counts, overall and per group.

These are plain integers, so a metric is a pure function of them, and counts from
several chunks of data add up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfusionCounts:
    """Counts of one binary classification confusion matrix."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: ConfusionCounts) -> ConfusionCounts:
        return ConfusionCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def actual_positives(self) -> int:
        return self.tp + self.fn

    @property
    def actual_negatives(self) -> int:
        return self.fp + self.tn

    @property
    def predicted_positives(self) -> int:
        return self.tp + self.fp

    def to_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


GroupKey = tuple[str, ...]


@dataclass(frozen=True)
class GroupedConfusion:
    """Confusion counts per group of one or more sensitive features.

    `groups` maps a tuple of feature values (in the order of `features`) to the
    counts of that group. Rows whose label or prediction is missing are not in any
    group; `rows_excluded` counts them.
    """

    features: tuple[str, ...]
    groups: dict[GroupKey, ConfusionCounts]
    rows_excluded: int = 0

    @property
    def overall(self) -> ConfusionCounts:
        total = ConfusionCounts()
        for counts in self.groups.values():
            total = total + counts
        return total

    def sorted_groups(self) -> list[tuple[GroupKey, ConfusionCounts]]:
        return sorted(self.groups.items())

"""Model card metrics: coverage of the nine sections of Mitchell et al. (2019) and metadata problems.

The tables come from govdsl.evidence.model_card. `CardSectionsTable` has the card and
one `StandardSection` per standard section. `CardMetadataTable` has the card and the
problems found in its YAML front matter.
"""

from __future__ import annotations

from dataclasses import dataclass

from govdsl.metrics.values import GroupValues, MetricValue

STANDARD = "Mitchell et al. (2019), Model Cards for Model Reporting"
METADATA_SPECIFICATION = "Hugging Face model card metadata (modelcard.md of huggingface/hub-docs)"


@dataclass(frozen=True)
class Count:
    """The counts behind a row: `n` of one kind, such as the words of a section."""

    n: int
    name: str

    def to_dict(self) -> dict:
        return {self.name: self.n}


def _section_rows(table) -> tuple[GroupValues, ...]:
    rows = []
    for standard in table.standard:
        section = standard.section
        heading = section.heading if section else "(none)"
        words = section.words if section else 0
        rows.append(GroupValues((standard.title, heading), Count(words, "words"), {"present": float(standard.present)}))
    return tuple(rows)


def _section_details(table) -> dict:
    sections = []
    for standard in table.standard:
        section = standard.section
        sections.append(
            {
                "section": standard.title,
                "status": standard.status,
                "heading": section.heading if section else None,
                "line": section.line if section else None,
                "words": section.words if section else 0,
                "headings_found": [s.heading for s in standard.matches],
            }
        )
    return {
        "standard": STANDARD,
        "card": table.card.path,
        "format": table.card.format,
        "sections": sections,
        "present": [s.title for s in table.standard if s.status == "present"],
        "placeholder": [s.title for s in table.standard if s.status == "placeholder"],
        "missing": [s.title for s in table.standard if s.status == "missing"],
    }


def model_card_completeness(table, arguments: dict) -> MetricValue:
    """Share of the standard sections that the card fills with real text."""
    present = sum(1 for standard in table.standard if standard.present)
    return MetricValue(present / len(table.standard), groups=_section_rows(table), details=_section_details(table))


def model_card_sections(table, arguments: dict) -> MetricValue:
    """Give one value per standard section: 1 when the card fills it with real text, else 0."""
    return MetricValue(None, groups=_section_rows(table), details=_section_details(table))


def model_card_metadata_errors(table, arguments: dict) -> MetricValue:
    """Number of problems in the card's YAML front matter; undefined for a card without front matter."""
    card = table.card
    if card.format == "yaml":
        return MetricValue(None, f"model card `{card.path}` is a YAML card, which has no front matter to check")
    if card.metadata is None:
        return MetricValue(
            None,
            f"model card `{card.path}` has no YAML front matter (fields between `---` lines at its top),"
            " so there is no metadata to check",
        )
    rows = tuple(
        GroupValues(("?" if p.line is None else str(p.line), p.message), Count(1, "problems"), {}) for p in table.problems
    )
    details = {
        "specification": METADATA_SPECIFICATION,
        "card": card.path,
        "fields": sorted(str(key) for key in card.metadata),
        "problems": [{"field": p.field, "line": p.line, "message": p.message} for p in table.problems],
    }
    return MetricValue(len(table.problems), groups=rows, details=details)

"""Integrity metrics: evidence files against their declared digests, and metrics a bundle reports about itself."""

from __future__ import annotations

import math

from govdsl.metrics.declaration import NUMBER, STRING, MetricDeclaration, Parameter, mark_integer_valued

REPORTING_DATASET = Parameter(
    "dataset",
    STRING,
    False,
    "Name of the dataset whose `reported_metrics` are checked; default: the dataset whose role is `predictions`.",
)
TOLERANCE = Parameter(
    "tolerance",
    NUMBER,
    False,
    "Largest absolute difference between a reported and a recomputed value that still counts as a match."
    " It overrides the `tolerance` of every reported value; without either, values must match within 1e-9.",
)

_IMPL = "govdsl.metrics.integrity"

_FILES = (
    "the files are every dataset, the model card, each population shares file and each entry of `files`"
    " in bundle.yaml; a path declared twice is one file, and every digest declared for it must match"
)
_HASHED_NOW = (
    "files are hashed when the check runs, so a file changed after the bundle was loaded is caught;"
    " a dataset whose declared `sha256` differs already stops the run when the bundle is loaded (E408)"
)


def _declaration(
    name: str,
    summary: str,
    reduction: str,
    parameters: tuple,
    edge_cases: tuple,
    limitations: tuple = (),
    roles: tuple = ("predictions",),
    components: tuple = (),
):
    return MetricDeclaration(
        name=name,
        summary=summary,
        kind="overall",
        components=components,
        value_range=(0.0, math.inf),
        reduction=reduction,
        implementation=f"{_IMPL}:{name}",
        parameters=parameters,
        better="lower",
        edge_cases=edge_cases,
        family="integrity",
        limitations=limitations,
        calling="arguments",
        roles=roles,
    )


DECLARATIONS = [
    _declaration(
        "unverified_evidence_files",
        "Number of evidence files the bundle declares that have no declared SHA-256, are missing, or do not"
        " match their declared SHA-256.",
        "evidence_digests",
        (),
        (_FILES, _HASHED_NOW, "a missing file counts; a path outside the bundle folder is invalid input (exit 2)"),
        ("the model card has a digest only when an entry of `files` lists its path",),
        roles=(),
    ),
    _declaration(
        "evidence_digest_mismatches",
        "Number of evidence files the bundle declares that are missing or do not match a SHA-256 declared for them;"
        " files without a declared digest do not count.",
        "evidence_digests",
        (),
        (_FILES, _HASHED_NOW),
        roles=(),
    ),
    _declaration(
        "reported_metrics_mismatch",
        "Number of metric values a dataset reports under `reported_metrics` in bundle.yaml that differ from the"
        " value recomputed from the evidence by more than the tolerance.",
        "reported_metrics",
        (REPORTING_DATASET, TOLERANCE),
        (
            "each reported metric is recomputed through the metric registry, with the same reductions and"
            " definitions as a check; a per-group metric compares each group reported",
            "a reported `null` matches a recomputed value that is undefined; a reported number whose metric"
            " is undefined, or whose evidence the bundle lacks, makes the check `insufficient` and names it",
            "an unknown metric, an unknown or ill-typed argument, or a value of the wrong shape is invalid"
            " input (exit 2)",
            "a dataset without `reported_metrics` gives the check status `error`",
        ),
        (
            "reported values are read from bundle.yaml only, not from the model card",
            "a metric of two datasets (such as drift between `reference` and `current`) loads the bundle again"
            " to find the other dataset, which hashes its files once more",
        ),
        components=("reported", "recomputed", "difference"),
    ),
]

# Counts of rows, values, files or days, and 0/1 indicators: `==` compares them exactly.
DECLARATIONS = mark_integer_valued(DECLARATIONS, {"evidence_digest_mismatches", "reported_metrics_mismatch", "unverified_evidence_files"})

"""The `favorable_confusion` reduction: per-group confusion counts and which prediction is favorable.

Disparate impact compares favorable-outcome rates, so it needs the dataset's
`favorable` declaration besides the confusion counts.
"""

from __future__ import annotations

from govdsl.evidence.bundle import Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS
from govdsl.evidence.reductions import EvidenceMissing, reduce_for_plan
from govdsl.metrics.fairness import FavorableConfusion


def reduce_favorable(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FavorableConfusion:
    """Count the predictions dataset by the spec's features, with the `favorable` argument or declaration.

    NOTE: this is a pass of its own over the data, even when a `group_confusion`
    reduction over the same dataset and features is in the plan too.
    """
    dataset = datasets["predictions"]
    favorable = spec.option("favorable") or dataset.favorable
    if favorable is None:
        raise EvidenceMissing(
            f"dataset `{dataset.name}` declares no `favorable` outcome; add `favorable: positive` or"
            f" `favorable: negative` at `{dataset.key}` in bundle.yaml, or pass `favorable = \"...\"` to the metric"
        )
    return FavorableConfusion(reduce_for_plan(datasets, spec, chunk_rows), favorable)

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

    The engine passes the counts of a `group_confusion` reduction over the same
    dataset and features to `with_favorable` instead, so the data is read once.
    """
    favorable = favorable_outcome(datasets, spec)
    return FavorableConfusion(reduce_for_plan(datasets, spec, chunk_rows), favorable)


def favorable_outcome(datasets: dict[str, Dataset], spec) -> str:
    """Return the favorable prediction of the spec's argument or the dataset's declaration; raise EvidenceMissing without one."""
    dataset = datasets["predictions"]
    favorable = spec.option("favorable") or dataset.favorable
    if favorable is None:
        raise EvidenceMissing(
            f"dataset `{dataset.name}` declares no `favorable` outcome; add `favorable: positive` or"
            f" `favorable: negative` at `{dataset.key}` in bundle.yaml, or pass `favorable = \"...\"` to the metric"
        )
    return favorable


def with_favorable(counts, datasets: dict[str, Dataset], spec) -> FavorableConfusion:
    """Return per-group confusion counts already computed, with the favorable prediction the spec names."""
    return FavorableConfusion(counts, favorable_outcome(datasets, spec))

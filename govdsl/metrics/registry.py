"""The registry: every metric a check can call, collected from the families' declarations.

Declarations import no numeric library; the implementation named by each
declaration is imported only when a check calls it.
"""

from __future__ import annotations

from govdsl.metrics.declaration import BOOL, FEATURES, NUMBER, STRING, MetricDeclaration, Parameter
from govdsl.metrics.families import attestation, documentation, drift, fairness, integrity, process, quality, regression, scores

__all__ = ["BOOL", "FEATURES", "NUMBER", "REGISTRY", "STRING", "MetricDeclaration", "Parameter", "get_metric"]

_FAMILIES = (fairness, scores, regression, drift, quality, integrity, documentation, process, attestation)


def _collect() -> dict[str, MetricDeclaration]:
    registry: dict[str, MetricDeclaration] = {}
    for family in _FAMILIES:
        for declaration in family.DECLARATIONS:
            if declaration.name in registry:
                raise RuntimeError(f"metric `{declaration.name}` is declared twice")
            registry[declaration.name] = declaration
    return registry


REGISTRY: dict[str, MetricDeclaration] = _collect()


def get_metric(name: str) -> MetricDeclaration | None:
    return REGISTRY.get(name)


def group_comparisons(rate: str) -> list[str]:
    """Return the between-group metrics built on one rate, such as those comparing selection rates."""
    return [d.name for d in REGISTRY.values() if d.kind == "between_groups" and d.components == (rate,)]

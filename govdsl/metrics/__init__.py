"""The registry of everything a check can measure.

Declarations (registry.py) import no numeric library, so the compiler can type-check
a policy without pandas or numpy; implementations load lazily when a check runs.
"""

from govdsl.metrics.registry import REGISTRY, MetricDeclaration, Parameter, get_metric

__all__ = ["REGISTRY", "MetricDeclaration", "Parameter", "get_metric"]

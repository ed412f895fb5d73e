"""Evaluate a Plan against a bundle's evidence: reductions once, checks and controls in order, the gate."""

from govdsl.engine.evaluate import evaluate
from govdsl.engine.results import Results

__all__ = ["Results", "evaluate"]

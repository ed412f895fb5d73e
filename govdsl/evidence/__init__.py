"""Model bundles: bundle.yaml and its evidence files, loaded, validated, and reduced to statistics."""

from govdsl.evidence.bundle import Bundle, Dataset, load_bundle

__all__ = ["Bundle", "Dataset", "load_bundle"]

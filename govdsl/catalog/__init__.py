"""Regulation catalogs: load and validate regulations/*.yaml and resolve clause references."""

from govdsl.catalog.model import Catalog, CatalogSet, Clause
from govdsl.catalog.loader import load_catalogs, load_catalog_file

__all__ = ["Catalog", "CatalogSet", "Clause", "load_catalogs", "load_catalog_file"]

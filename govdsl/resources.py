"""Locate the files that ship with govdsl: grammar, regulation catalogs, schemas and policies.

A wheel carries them under ``govdsl/_data/``. A source checkout or an editable
install keeps them at the top of the repository, where the resolver looks next.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

# Top-level folder name in the repository -> folder name under govdsl/_data/.
_REPOSITORY_FOLDERS = {
    "grammar": "grammar",
    "regulations": "regulations",
    "policies": "policies",
    "schemas": "docs/schemas",
}


def data_path(kind: str) -> Path:
    """Return the folder of one kind of shipped file: grammar, regulations, policies or schemas."""
    if kind not in _REPOSITORY_FOLDERS:
        raise ValueError(f"unknown data kind {kind!r}")
    packaged = _package_folder() / "_data" / kind
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / _REPOSITORY_FOLDERS[kind]
    return checkout


def package_schema_path(name: str) -> Path:
    """Return a JSON Schema that lives inside the package itself (bundle and catalog schemas)."""
    return _package_folder() / "schemas" / name


@cache
def load_package_schema(name: str) -> dict:
    with package_schema_path(name).open(encoding="utf-8") as handle:
        return json.load(handle)


def _package_folder() -> Path:
    # This is the folder importlib.resources.files("govdsl") returns for a package on the
    # file system, the only kind this module supports. Importing importlib.resources takes
    # about 0.05 s, a tenth of a repeated compile that the plan cache serves.
    return Path(__file__).parent

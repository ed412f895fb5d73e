"""Read govdsl's settings from `[tool.govdsl]` in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path


def configured_settings(directory: Path | None = None) -> dict:
    """Return `[tool.govdsl]` of pyproject.toml in `directory` (default: the working directory), or {}."""
    path = (directory or Path.cwd()) / "pyproject.toml"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read `{path}`: {exc}") from None
    settings = data.get("tool", {}).get("govdsl", {})
    return settings if isinstance(settings, dict) else {}

"""Read govdsl's settings from `[tool.govdsl]` in pyproject.toml.

The settings come from the nearest pyproject.toml with a `[tool.govdsl]` table, in
the working folder or the closest folder above it, as ruff and black find theirs. A
relative `audit_log` path is relative to the folder of that pyproject.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path


def configured_settings(directory: Path | None = None) -> dict:
    """Return `[tool.govdsl]` of the nearest pyproject.toml that has one, from `directory` (default: the working folder) up; else {}."""
    start = (directory or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read `{path}`: {exc}") from None
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "govdsl" not in tool:
            continue
        settings = tool["govdsl"]
        if not isinstance(settings, dict):
            return {}
        log = settings.get("audit_log")
        if isinstance(log, str) and not Path(log).is_absolute():
            settings = {**settings, "audit_log": str(folder / log)}
        return settings
    return {}

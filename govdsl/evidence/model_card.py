"""Read a model card (Markdown or YAML) into sections keyed by a normalized heading.

`Intended Use` becomes `intended_use`. A section whose text is empty or only a
placeholder ("TBD", "TODO", "lorem ipsum", "N/A", "...") counts as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_PLACEHOLDER = re.compile(
    r"^(tbd|tbc|todo|to do|n/?a|none|placeholder|coming soon|fill (me )?in|\.\.\.|…|-+|\?+|xxx+)$", re.IGNORECASE
)
_MARKUP = re.compile(r"[*_`>#\[\]()|]")


def section_key(heading: str) -> str:
    """Return the lookup key of a heading: lowercase words joined by `_`, without numbering."""
    text = re.sub(r"^\s*\d+(\.\d+)*\.?\s*", "", heading)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def is_placeholder(text: str) -> bool:
    """Return whether section text says nothing: empty, a placeholder word, or lorem ipsum."""
    plain = _MARKUP.sub(" ", text)
    lines = [line.strip(" -:\t.") for line in plain.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return True
    if "lorem ipsum" in plain.lower():
        return True
    return all(_PLACEHOLDER.match(line) for line in lines)


@dataclass(frozen=True)
class ModelCard:
    path: str
    sections: dict[str, str]  # key -> text, placeholders included
    headings: dict[str, str]  # key -> heading as written

    def section(self, key: str) -> str | None:
        """Return a section's text, or None when it is absent or only a placeholder."""
        text = self.sections.get(section_key(key))
        if text is None or is_placeholder(text):
            return None
        return text.strip()


def _markdown_sections(text: str) -> tuple[dict[str, str], dict[str, str]]:
    sections: dict[str, str] = {}
    headings: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            front = yaml.safe_load(text[4:end]) or {}
            if isinstance(front, dict):
                for key, value in front.items():
                    sections[section_key(str(key))] = "" if value is None else str(value)
                    headings[section_key(str(key))] = str(key)
            body = text[end + 4 :]
    open_sections: list[tuple[int, str]] = []
    for line in body.splitlines():
        match = _HEADING.match(line)
        if match:
            level = len(match.group(1))
            open_sections = [(lvl, key) for lvl, key in open_sections if lvl < level]
            key = section_key(match.group(2))
            sections.setdefault(key, "")
            headings.setdefault(key, match.group(2))
            open_sections.append((level, key))
            continue
        for _, key in open_sections:
            sections[key] += line + "\n"
    return sections, headings


def read_model_card(path: Path, display: str) -> ModelCard:
    """Read a model card; raise OSError, UnicodeDecodeError or yaml.YAMLError when it cannot be read."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            data = {}
        sections = {section_key(str(k)): "" if v is None else (v if isinstance(v, str) else yaml.safe_dump(v)) for k, v in data.items()}
        headings = {section_key(str(k)): str(k) for k in data}
        return ModelCard(display, sections, headings)
    sections, headings = _markdown_sections(text)
    return ModelCard(display, sections, headings)

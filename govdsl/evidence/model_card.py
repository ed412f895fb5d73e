"""Read a model card into sections and metadata: Markdown with optional YAML front matter, or YAML.

A Markdown card's sections are its top-level ATX (`## Intended Use`) and setext
headings, found as CommonMark finds them: not inside code fences, HTML blocks, block
quotes or list items. A section's text runs to the next heading of the same or a
higher level, so it includes its subsections' text, but no heading line. A YAML (or
JSON) card's top-level keys are its sections and nested keys its subsections.

Sections are keyed by their normalized heading: `3.1 Intended Use:` becomes
`intended_use`. A section whose text is empty or only placeholders counts as missing
(see `is_placeholder`). The nine sections of Mitchell et al. (2019), "Model Cards for
Model Reporting", are also found under the common variants of their headings listed in
STANDARD_SECTIONS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from govdsl.diagnostics import Span, error
from govdsl.errors import InvalidInputError
from govdsl.yamlfiles import load_yaml, locate

# The sections of Mitchell et al. (2019) in the paper's order, each with the headings that
# count for it. The first heading is the paper's own. Some headings count for two sections,
# such as "Training and evaluation data" in cards written by Hugging Face's Trainer.
STANDARD_SECTIONS: dict[str, tuple[str, ...]] = {
    "Model Details": (
        "Model Details", "Model Description", "Model Overview", "Model Information", "Model Info", "Model Summary",
    ),
    "Intended Use": (
        "Intended Use", "Intended Uses", "Intended Use Cases", "Use Cases", "Uses", "Direct Use",
        "Intended Purpose", "Intended Uses & Limitations",
    ),
    "Factors": ("Factors", "Relevant Factors", "Evaluation Factors"),
    "Metrics": (
        "Metrics", "Model Performance Measures", "Performance Measures", "Performance Metrics", "Evaluation Metrics",
    ),
    "Evaluation Data": (
        "Evaluation Data", "Evaluation Dataset", "Evaluation Datasets", "Eval Data", "Testing Data", "Test Data",
        "Test Dataset", "Training and Evaluation Data",
    ),
    "Training Data": (
        "Training Data", "Training Dataset", "Training Datasets", "Train Data", "Training and Evaluation Data",
    ),
    "Quantitative Analyses": (
        "Quantitative Analyses", "Quantitative Analysis", "Results", "Evaluation Results", "Evaluation",
        "Performance", "Model Performance", "Unitary Results", "Intersectional Results",
    ),
    "Ethical Considerations": (
        "Ethical Considerations", "Ethics", "Ethical Concerns", "Ethics and Safety", "Risks and Harms",
        "Bias, Risks, and Limitations",
    ),
    "Caveats and Recommendations": (
        "Caveats and Recommendations", "Caveats", "Recommendations", "Limitations", "Known Limitations",
        "Limitations and Recommendations", "Caveats and Limitations", "Bias, Risks, and Limitations",
        "Intended Uses & Limitations",
    ),
}

# Whole lines without content. "N/A", "None" and "Unknown" alone give no reason, so they
# count as placeholders. "N/A: the model uses no training data" is a statement and counts.
_PLACEHOLDER_LINE = re.compile(
    r"^(tbd|tbc|todo|to ?do|fixme|xxx+|n/?a|n\.a\.?|none|null|nil|unknown|not applicable|placeholder"
    r"|coming soon|fill (me )?in|to be (determined|decided|added|completed|confirmed|written)"
    r"|(more|further) (information|info|details) (needed|required|to come)|needs more information"
    r"|\.\.\.|…|-+|\?+)$",
    re.IGNORECASE,
)
# A line that starts with a to-do marker, such as "TODO: describe the data", is unfinished.
_TODO_LINE = re.compile(r"^(tbd|todo|fixme|xxx)\b", re.IGNORECASE)
_MARKUP = re.compile(r"[*_`>#\[\]()~]")
_WORD = re.compile(r"\w")
# Maximum words of a label, such as "Developed by:", that introduces a value on the same line.
_LABEL_WORDS = 6
_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")

YAML_SUFFIXES = (".yaml", ".yml", ".json")


def section_key(heading: str) -> str:
    """Return the lookup key of a heading: lowercase words joined by `_`, without numbering or links."""
    text = _LINK.sub(r"\1", heading)
    text = re.sub(r"^\s*(\d+(\.\d+)*\.?|[ivxIVX]+\.)\s+", "", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def strip_comments(text: str) -> str:
    """Remove HTML comments and template tags such as `{{ description }}`, which a rendered card does not show."""
    return _TEMPLATE_TAG.sub(" ", _HTML_COMMENT.sub(" ", text))


def is_placeholder(text: str) -> bool:
    """Return whether section text has no content: empty, only placeholder lines, or lorem ipsum filler.

    A placeholder line is a word such as TBD, TODO, N/A, None, Unknown or "[More Information
    Needed]" alone, a line that starts with TODO, TBD or FIXME, only dots or dashes, or a
    short label whose value is missing or a placeholder, such as "Version: TBD". Each cell of
    a table row is a line, and a table's header row is not text. HTML comments and template
    tags are ignored.
    """
    plain = strip_comments(text)
    if "lorem ipsum" in " ".join(plain.lower().split()):
        return True
    return all(_placeholder_line(line) for line in _content_lines(plain))


def _content_lines(text: str) -> list[str]:
    """Return the lines of text without markup, splitting table rows into cells and leaving out table headers."""
    lines = text.splitlines()
    content = []
    for index, line in enumerate(lines):
        if _is_table_delimiter(line):
            continue
        if "|" in line and index + 1 < len(lines) and _is_table_delimiter(lines[index + 1]):
            continue  # a table's header row names columns
        for cell in line.split("|"):
            cell = " ".join(_MARKUP.sub(" ", cell).split()).strip(" -,;")
            if cell:
                content.append(cell)
    return content


def _is_table_delimiter(line: str) -> bool:
    return "|" in line and "-" in line and re.fullmatch(r"[\s|:-]+", line) is not None


def _placeholder_line(line: str) -> bool:
    line = line.strip(" .")
    if not line or _PLACEHOLDER_LINE.match(line) or _TODO_LINE.match(line):
        return True
    label, colon, value = line.partition(":")
    # "Version: TBD" is a label without a value; "N/A: the model has no training data" states a reason.
    if colon and len(label.split()) <= _LABEL_WORDS and not _PLACEHOLDER_LINE.match(label.strip()):
        value = value.strip(" .")
        return not value or _PLACEHOLDER_LINE.match(value) is not None or _TODO_LINE.match(value) is not None
    return False


def count_words(text: str) -> int:
    """Count the words of text: tokens with a letter or digit, so list markers and table rules do not count."""
    return sum(1 for token in strip_comments(text).split() if _WORD.search(token))


@dataclass(frozen=True)
class Section:
    """One heading of a card (or one key of a YAML card) and the text under it."""

    heading: str  # as written, without the `#` marks
    level: int  # 1 to 6 for Markdown headings; the nesting depth, from 1, for YAML keys
    line: int  # 1-based line of the heading in the card file
    text: str  # the text under the heading, subsections included, without heading lines or HTML comments

    @property
    def key(self) -> str:
        return section_key(self.heading)

    @property
    def placeholder(self) -> bool:
        return is_placeholder(self.text)

    @property
    def words(self) -> int:
        return count_words(self.text)


@dataclass(frozen=True)
class StandardSection:
    """A card's coverage of one of the nine sections of Mitchell et al. (2019)."""

    title: str
    matches: tuple[Section, ...]  # every heading of the card that counts for this section

    @property
    def present(self) -> bool:
        return any(not section.placeholder for section in self.matches)

    @property
    def status(self) -> str:
        """`present`, `placeholder` (headings found, none with real text) or `missing` (no heading)."""
        if self.present:
            return "present"
        return "placeholder" if self.matches else "missing"

    @property
    def section(self) -> Section | None:
        """The heading that makes the section present, or else the first heading found for it."""
        for section in self.matches:
            if not section.placeholder:
                return section
        return self.matches[0] if self.matches else None


_STANDARD_KEYS = {section_key(title): title for title in STANDARD_SECTIONS}


def standard_title(name: str) -> str | None:
    """Return the standard section a name stands for, such as `Intended Use` for `intended use`, or None."""
    return _STANDARD_KEYS.get(section_key(name))


@dataclass(frozen=True)
class ModelCard:
    path: str  # as shown in messages: relative to the bundle directory
    format: str  # "markdown" or "yaml"
    sections: tuple[Section, ...]
    # The YAML front matter of a Markdown card as a mapping, or None when the card has none.
    metadata: dict | None = None
    metadata_text: str = ""
    metadata_line: int = 0  # the 1-based line of the card where the front matter's YAML starts
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def headings(self) -> list[str]:
        return [section.heading for section in self.sections]

    def lookup(self, name: str) -> tuple[Section, ...]:
        """Return the sections a name refers to.

        A name of one of the nine standard sections, such as "Intended Use", finds every
        heading listed for it in STANDARD_SECTIONS. Any other name finds the headings with
        its key, or else a front-matter field with that key and a text or number value.
        """
        title = standard_title(name)
        keys = {section_key(alias) for alias in STANDARD_SECTIONS[title]} if title else {section_key(name)}
        found = tuple(section for section in self.sections if section.key in keys)
        # Front-matter fields such as `metrics: [accuracy]` are metadata, not a standard section.
        if found or title or not self.metadata:
            return found
        for key, value in self.metadata.items():
            if section_key(str(key)) in keys and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return (Section(str(key), 1, self.metadata_line, str(value)),)
        return ()

    def section(self, name: str) -> str | None:
        """Return the text of the first section a name refers to that has real text, or None."""
        for section in self.lookup(name):
            if not section.placeholder:
                return section.text.strip()
        return None

    def standard_sections(self) -> tuple[StandardSection, ...]:
        return tuple(StandardSection(title, self.lookup(title)) for title in STANDARD_SECTIONS)


def read_model_card(path: Path, display: str) -> ModelCard:
    """Read a model card; a name ending in .yaml, .yml or .json is a YAML card, any other is Markdown.

    `display` names the card in messages. Raise OSError or UnicodeDecodeError when the file
    cannot be read, and InvalidInputError (E412, placed at the line) when its front matter
    or YAML is malformed.
    """
    text = path.read_text(encoding="utf-8-sig")
    lines = tuple(text.splitlines())
    source = _Source(display, _openable(path), text)
    if path.suffix.lower() in YAML_SUFFIXES:
        data = _parse_yaml(text, source, 0, "model card")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise source.error(
                1, 1, f"model card `{display}` is YAML but not a mapping of section names to text",
                "write each section as a top-level key, such as `intended_use: ...`",
            )
        return ModelCard(display, "yaml", tuple(_yaml_sections(data, text)), lines=lines)
    metadata, metadata_text, start, body_start = _front_matter(lines, source)
    sections = _markdown_sections(lines, body_start)
    return ModelCard(display, "markdown", tuple(sections), metadata, metadata_text, start, lines)


def _openable(path: Path) -> str:
    """Return the path as the user can open it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class _Source:
    """A card's text and names, for placing an E412 diagnostic at a line of the file."""

    display: str
    file: str
    text: str

    def error(self, line: int, column: int, message: str, help: str) -> InvalidInputError:
        span = Span.point(self.file, line, column)
        return InvalidInputError([error("E412", message, span, help)], {self.file: self.text})


def _parse_yaml(yaml_text: str, source: _Source, first_line: int, what: str):
    """Parse YAML that starts at 0-based line `first_line` of the card; a syntax error is E412 at its line."""
    try:
        return load_yaml(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line + 1 if mark else first_line + 1
        column = mark.column + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem += f" ({context} that starts at line {first_line + context_mark.line + 1})"
        raise source.error(
            line, column,
            f"{what} `{source.display}` is not valid YAML at line {line}, column {column}: {problem}",
            "fix the YAML syntax at this position; quote text that contains `: ` or starts with a special character",
        ) from None


def _front_matter(lines: tuple[str, ...], source: _Source) -> tuple[dict | None, str, int, int]:
    """Return the front matter as a mapping (None without one), its text, its first line and the body's first index.

    Front matter is YAML between a first line `---` and the next line `---` or `...`. A
    card whose first `---` is never closed has no front matter, as on Hugging Face.
    """
    if not lines or lines[0].rstrip() != "---":
        return None, "", 0, 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            break
    else:
        return None, "", 0, 0
    front = "\n".join(lines[1:index])
    data = _parse_yaml(front, source, 1, "the YAML front matter of model card")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise source.error(
            2, 1, f"the YAML front matter of model card `{source.display}` is not a mapping of field names to values",
            "front matter holds fields such as `license: apache-2.0`; put prose below the closing `---`",
        )
    return data, front, 2, index + 1


def _yaml_sections(data: dict, text: str) -> list[Section]:
    """Turn a YAML card's keys into sections: nested mappings are subsections, scalar leaves are text."""
    sections: list[Section] = []

    def visit(mapping: dict, path: list, level: int) -> None:
        for key, value in mapping.items():
            position = locate(text, path + [key])
            line = position[0] if position else 1
            sections.append(Section(str(key), level, line, "\n".join(_leaves(value))))
            if isinstance(value, dict):
                visit(value, path + [key], level + 1)

    visit(data, [], 1)
    return sections


def _leaves(value) -> list[str]:
    """Return the scalar values inside a YAML value, one per line; keys are not text."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [line for item in value.values() for line in _leaves(item)]
    if isinstance(value, list):
        return [line for item in value for line in _leaves(item)]
    return str(value).splitlines() or [""]


# Markdown block structure, as far as finding top-level headings needs it (CommonMark 0.31).

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_BULLET_ITEM = re.compile(r"^( {0,3})([-+*])( {1,4}|[ \t]*$)")
_ORDERED_ITEM = re.compile(r"^( {0,3})(\d{1,9})([.)])( {1,4}|[ \t]*$)")
_QUOTE = re.compile(r"^ {0,3}>")
# Block-level HTML tags (CommonMark's HTML block type 6): such a block ends at a blank line.
_BLOCK_TAGS = frozenset(
    "address article aside base basefont blockquote body caption center col colgroup dd details dialog dir div dl"
    " dt fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html iframe legend"
    " li link main menu menuitem nav noframes ol optgroup option p param search section summary table tbody td"
    " tfoot th thead title tr track ul".split()
)
_HTML_TYPE6 = re.compile(r"^ {0,3}</?([A-Za-z][A-Za-z0-9-]*)(?:[ \t>]|/>|$)")
_HTML_TYPE7 = re.compile(r"^ {0,3}(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*$")
# HTML blocks that end at a line containing a closing marker (types 1 to 5).
_HTML_UNTIL = (
    (re.compile(r"^ {0,3}<(script|pre|style|textarea)(?:[ \t>]|$)", re.IGNORECASE), re.compile(r"</(script|pre|style|textarea)>", re.IGNORECASE)),
    (re.compile(r"^ {0,3}<!--"), re.compile(r"-->")),
    (re.compile(r"^ {0,3}<\?"), re.compile(r"\?>")),
    (re.compile(r"^ {0,3}<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"^ {0,3}<!\[CDATA\["), re.compile(r"\]\]>")),
)


@dataclass(frozen=True)
class _Heading:
    start: int  # index of the heading's first line
    end: int  # index of its last line (the underline of a setext heading)
    level: int
    text: str


def _list_item(line: str) -> int | None:
    """Return the content indent of a list item that starts on this line, or None."""
    match = _BULLET_ITEM.match(line) or _ORDERED_ITEM.match(line)
    if match is None:
        return None
    marker_end = match.end(len(match.groups()) - 1)
    spaces = match.group(len(match.groups()))
    if not spaces.strip(" \t") and not line[match.end():].strip():
        return marker_end + 1  # an empty item
    width = len(spaces)
    return marker_end + (1 if width > 4 else width)


def _html_block(line: str, in_paragraph: bool):
    """Return how an HTML block starting on this line ends (a pattern, or "blank"), or None if none starts."""
    for start, end in _HTML_UNTIL:
        if start.match(line):
            return end
    match = _HTML_TYPE6.match(line)
    if match and match.group(1).lower() in _BLOCK_TAGS:
        return "blank"
    if not in_paragraph and _HTML_TYPE7.match(line):
        return "blank"
    return None


def _interrupts_paragraph(line: str) -> bool:
    """Return whether a line starts a block that ends an open paragraph (so it is no lazy continuation)."""
    if _ATX.match(line) or _FENCE.match(line) or _THEMATIC_BREAK.match(line) or _QUOTE.match(line):
        return True
    if _html_block(line, in_paragraph=True) is not None:
        return True
    bullet = _BULLET_ITEM.match(line)
    if bullet and line[bullet.end():].strip():
        return True
    ordered = _ORDERED_ITEM.match(line)
    return bool(ordered and ordered.group(2) == "1" and line[ordered.end():].strip())


def _is_text(line: str) -> bool:
    """Return whether a line inside a container ends in paragraph text, which lazy continuation lines extend.

    Nested list markers and quote markers are stripped first, so `- - text` ends in text.
    """
    while True:
        quote = _QUOTE.match(line)
        if quote:
            line = re.sub(r"^ {0,3}> ?", "", line)
            continue
        item = _list_item(line)
        if item is None or _THEMATIC_BREAK.match(line):
            break
        line = line[item:]
    return bool(line.strip()) and not _interrupts_paragraph(line)


def find_headings(lines: tuple[str, ...] | list[str], start: int = 0) -> list[_Heading]:
    """Find the top-level headings of Markdown lines, as a CommonMark parser would.

    HTML blocks of types 1 to 5 end at their closing marker and others at a blank line,
    as in CommonMark. A heading inside a list item or block quote is not a section.
    NOTE: link reference definitions and tabs inside list markers are not modelled.
    """
    headings: list[_Heading] = []
    paragraph: list[int] = []
    fence: tuple[str, int] | None = None  # the fence character and length of an open code fence
    html_end = None  # how an open HTML block ends
    container: tuple[str, int] | None = None  # ("list", content indent) or ("quote", 0)
    lazy = False  # whether the previous line was paragraph text inside the container
    empty_item = False  # whether the container is a list item whose first line is empty
    for index in range(start, len(lines)):
        line = lines[index].expandtabs(4)
        blank = not line.strip()
        if fence is not None:
            if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{fence[1]},}}[ \t]*$", line):
                fence = None
            continue
        if html_end is not None:
            if html_end == "blank":
                if blank:
                    html_end = None
            elif html_end.search(line):
                html_end = None
            continue
        if container is not None:
            if blank:
                # A blank line ends a block quote, and a list item that has no content yet.
                if container[0] == "quote" or empty_item:
                    container = None
                lazy = empty_item = False
                continue
            empty_item = False
            indent = len(line) - len(line.lstrip(" "))
            if container[0] == "quote" and _QUOTE.match(line):
                lazy = _is_text(re.sub(r"^ {0,3}> ?", "", line))
                continue
            if container[0] == "list" and indent >= container[1]:
                lazy = _is_text(line[container[1]:])
                continue
            # A lazy continuation line of the container's paragraph. Here any list item ends the
            # paragraph, as in markdown-it, even one that could not interrupt a top-level paragraph.
            if lazy and not _interrupts_paragraph(line) and _list_item(line) is None:
                continue
            container = None
        if blank:
            paragraph = []
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 4:
            if paragraph:
                paragraph.append(index)  # a lazy continuation line; indented code cannot interrupt a paragraph
            continue
        fence_match = _FENCE.match(line)
        if fence_match and not (fence_match.group(2)[0] == "`" and "`" in fence_match.group(3)):
            fence = (fence_match.group(2)[0], len(fence_match.group(2)))
            paragraph = []
            continue
        atx = _ATX.match(line)
        if atx:
            text = _ATX_CLOSING.sub("", atx.group(2) or "").strip()
            headings.append(_Heading(index, index, len(atx.group(1)), text))
            paragraph = []
            continue
        setext = _SETEXT.match(line)
        if setext and paragraph:
            text = " ".join(lines[i].strip() for i in paragraph)
            headings.append(_Heading(paragraph[0], index, 1 if setext.group(1)[0] == "=" else 2, text))
            paragraph = []
            continue
        if _THEMATIC_BREAK.match(line):
            paragraph = []
            continue
        html = _html_block(line, bool(paragraph))
        if html is not None:
            paragraph = []
            if not (html != "blank" and html.search(line[line.index("<") + 2:])):
                html_end = html
            continue
        if _QUOTE.match(line):
            container, lazy = ("quote", 0), _is_text(re.sub(r"^ {0,3}> ?", "", line))
            paragraph = []
            continue
        item = _list_item(line)
        if item is not None and (not paragraph or _interrupts_paragraph(line)):
            container, lazy = ("list", item), _is_text(line[item:])
            empty_item = not line[item:].strip()
            paragraph = []
            continue
        paragraph.append(index)
    return headings


def _markdown_sections(lines: tuple[str, ...], start: int) -> list[Section]:
    headings = find_headings(lines, start)
    heading_lines = {i for heading in headings for i in range(heading.start, heading.end + 1)}
    sections = []
    for position, heading in enumerate(headings):
        stop = len(lines)
        for later in headings[position + 1:]:
            if later.level <= heading.level:
                stop = later.start
                break
        body = [lines[i] for i in range(heading.end + 1, stop) if i not in heading_lines]
        text = _HTML_COMMENT.sub("", "\n".join(body))
        sections.append(Section(heading.text, heading.level, heading.start + 1, text))
    return sections


# Reductions that read the model card, called as `function(bundle, spec, as_of)` (see govdsl.evidence.kinds).


@dataclass(frozen=True)
class CardSectionsTable:
    """A card and how it covers each standard section; one row per section."""

    card: ModelCard
    standard: tuple[StandardSection, ...]
    features: tuple[str, ...] = ("section", "heading")
    rows_excluded: int = 0


@dataclass(frozen=True)
class CardMetadataTable:
    """A card and the problems of its front matter; one row per problem."""

    card: ModelCard
    problems: tuple  # of govdsl.evidence.card_metadata.MetadataProblem
    features: tuple[str, ...] = ("line", "problem")
    rows_excluded: int = 0


def bundle_card(bundle) -> ModelCard:
    """Read the bundle's model card; raise EvidenceMissing when it declares none, InvalidInputError when unreadable."""
    from govdsl.evidence.reductions import EvidenceMissing

    if bundle.model_card is None:
        raise EvidenceMissing("the bundle declares no model card (`model_card` in bundle.yaml)")
    display = bundle.model_card.relative_to(bundle.root).as_posix()
    try:
        return read_model_card(bundle.model_card, display)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            [error("E412", f"cannot read model card `{display}` of bundle `{bundle.display_path}`: {exc}",
                   help="a model card is UTF-8 Markdown, or YAML when its name ends in .yaml, .yml or .json")]
        ) from None


def reduce_card_sections(bundle, spec, as_of) -> CardSectionsTable:
    card = bundle_card(bundle)
    return CardSectionsTable(card, card.standard_sections())


def reduce_card_metadata(bundle, spec, as_of) -> CardMetadataTable:
    from govdsl.evidence.card_metadata import metadata_problems

    card = bundle_card(bundle)
    problems = () if card.metadata is None else tuple(metadata_problems(card.metadata, card.metadata_text, card.metadata_line))
    return CardMetadataTable(card, problems)

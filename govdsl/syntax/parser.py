"""Parse policy source text into a Module AST, or raise InvalidInputError with diagnostics.

`parse` first runs the fast parser of govdsl.syntax.fastparse, which accepts valid
programs only. When it does not accept a text, `parse` parses it again with Lark
(govdsl.syntax.lark_parser), which returns the same Module for a valid program and
reports the diagnostics of an invalid one. The environment variable GOVDSL_PARSER
set to `lark` skips the fast parser, for comparing the two.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from govdsl.diagnostics import error
from govdsl.errors import InvalidInputError
from govdsl.syntax import ast, fastparse

log = logging.getLogger("govdsl")


def parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse one policy file; raise InvalidInputError with every diagnostic found."""
    module = parse_fast_or_none(text, file)
    if module is not None:
        return module
    # Importing Lark and building the parser take about 0.6 s, so only a fallback pays for it.
    from govdsl.syntax.lark_parser import parse_lark

    return parse_lark(text, file)


def parse_fast_or_none(text: str, file: str = "<string>") -> ast.Module | None:
    """Return the fast parser's Module, or None when it declines the text or GOVDSL_PARSER is `lark`."""
    if os.environ.get("GOVDSL_PARSER") == "lark":
        return None
    try:
        return fastparse.parse_fast(text, file)
    except fastparse.Unsupported as exc:
        log.debug("parsing %s with Lark: %s", file, exc)
    except RecursionError:
        log.debug("parsing %s with Lark: expressions nest too deeply for the fast parser", file)
    return None


def parse_file(path: str | Path, display_name: str | None = None) -> tuple[ast.Module, str]:
    """Read and parse a policy file; return the module and the source text."""
    path = Path(path)
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # with or without a byte order mark
    except FileNotFoundError:
        raise InvalidInputError(
            [error("E501", f"policy file `{name}` not found", help="check the path")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            [error("E502", f"cannot read policy file `{name}`: {exc}", help="policy files are UTF-8 text")]
        ) from None
    return parse(text, name), text

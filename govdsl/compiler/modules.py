"""Read policy files and the files they import, following imports depth first and reporting cycles.

A relative import path is resolved against the importing file's folder; `govdsl:NAME`
names a policy shipped with govdsl.
"""

from __future__ import annotations

import difflib
import hashlib
import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from typing import TYPE_CHECKING

from govdsl import resources
from govdsl.diagnostics import Diagnostic, error
from govdsl.errors import InvalidInputError

if TYPE_CHECKING:
    from govdsl.syntax import ast

# A policy argument or import path that starts with this prefix names a policy shipped with govdsl.
SHIPPED_PREFIX = "govdsl:"


@dataclass
class Unit:
    """One policy file in the compiler: the parsed module, its text, its display path and what it imports."""

    module: ast.Module
    text: str
    file: str
    imports: list[tuple[ast.Import, str]] = field(default_factory=list)  # (import, display path of the target)
    root: bool = True  # named on the command line, not only imported

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def shipped_policies() -> list[str]:
    folder = resources.data_path("policies")
    return sorted(SHIPPED_PREFIX + p.relative_to(folder).as_posix() for p in folder.rglob("*.gov"))


def locate(display: str) -> Path:
    """Return the path of a policy file from its display path, which may name a shipped policy."""
    if display.startswith(SHIPPED_PREFIX):
        return resources.data_path("policies") / display[len(SHIPPED_PREFIX) :]
    return Path(display)


def _import_display(importer: str, target: str) -> str:
    """Return the display path of an import: shipped names stay as written, relative paths join the importer's folder."""
    if target.startswith(SHIPPED_PREFIX) or PurePosixPath(target).is_absolute():
        return target
    if importer.startswith(SHIPPED_PREFIX):
        folder = posixpath.dirname(importer[len(SHIPPED_PREFIX) :])
        return SHIPPED_PREFIX + posixpath.normpath(posixpath.join(folder, target))
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), target))


def _read(display: str, diagnostic_span=None) -> str:
    path = locate(display)
    try:
        # utf-8-sig reads a file with or without a byte order mark.
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        help_text = "an import path is relative to the folder of the file that imports it"
        if display.startswith(SHIPPED_PREFIX):
            help_text = f"shipped policies: {', '.join(shipped_policies())}"
        elif path.parent.is_dir():
            nearby = [p.name for p in path.parent.glob("*.gov")]
            close = difflib.get_close_matches(path.name, nearby, n=1)
            if close:
                help_text = f"did you mean `{posixpath.join(posixpath.dirname(display), close[0])}`?"
        raise InvalidInputError(
            [error("E501", f"policy file `{display}` not found", diagnostic_span, help_text)]
        ) from None
    except IsADirectoryError:
        raise InvalidInputError([error("E502", f"`{display}` is a directory, not a policy file", diagnostic_span)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            [error("E502", f"cannot read policy file `{display}`: {exc}", diagnostic_span, "policy files are UTF-8 text")]
        ) from None


def load_units(arguments: list[str]) -> list[Unit]:
    """Parse the named policy files and everything they import; raise InvalidInputError with all problems."""
    from govdsl.syntax.cache import parse_cached

    units: dict[str, Unit] = {}
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}

    def visit(display: str, stack: list[str], via: ast.Import | None, root: bool) -> None:
        if display in stack:
            cycle = stack[stack.index(display) :] + [display]
            diagnostics.append(
                error(
                    "E120",
                    f"imports form a cycle: {' -> '.join(cycle)}",
                    via.path.span if via else None,
                    "remove one of these imports; shared controls can move to a file that imports neither",
                )
            )
            return
        if display in units:
            units[display].root = units[display].root or root
            return
        try:
            text = _read(display, via.path.span if via else None)
            module = parse_cached(text, display)
        except InvalidInputError as exc:
            diagnostics.extend(exc.diagnostics)
            sources.update(exc.sources)
            return
        unit = Unit(module, text, display, root=root)
        units[display] = unit
        sources[display] = text
        for declaration in module.imports:
            target = _import_display(display, declaration.path.value)
            unit.imports.append((declaration, target))
            visit(target, stack + [display], declaration, False)

    try:
        for argument in arguments:
            visit(PurePosixPath(argument).as_posix() if not argument.startswith(SHIPPED_PREFIX) else argument, [], None, True)
    finally:
        # `visit` calls itself, so it and its closure form a reference cycle that holds every
        # parsed AST. Breaking it lets reference counting free the ASTs with the units,
        # instead of leaving them to a full run of the cyclic garbage collector.
        visit = None  # noqa: F841
    if diagnostics:
        raise InvalidInputError(diagnostics, sources)
    return list(units.values())

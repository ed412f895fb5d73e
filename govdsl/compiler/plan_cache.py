"""Reuse the output of an earlier `govdsl compile` whose inputs have not changed since.

A compile's output depends on the policy files it reads, the files they import, the
catalogs, govdsl itself and two options: the policy arguments as given and the
evaluation date (`--as-of`, by default today in UTC). An entry stores the output
text, the warnings and notes to print again, and the display path and SHA-256 of
every policy file the compile read. Its key is a SHA-256 digest of the entry format,
the arguments, the date and an environment digest: the govdsl version and the content
of govdsl's source files, JSON schemas, grammar and regulation catalogs.

A lookup recomputes the key, then reads every listed policy file again and uses the
entry only when each digest matches. Imports are found by parsing, so the list, not
the key, is what notices a changed imported file. A hit writes the stored output and
prints the stored diagnostics without parsing, compiling or loading a catalog, so it
imports neither the AST classes, the compiler passes, the catalogs nor Lark, networkx,
jsonschema or PyYAML. A failed compile stores nothing.

Entries live in the cache folder of govdsl.syntax.cache (GOVDSL_CACHE_DIR,
XDG_CACHE_HOME or ~/.cache/govdsl; GOVDSL_NO_CACHE=1 turns it off), with that
module's owner check. Each working folder and argument list has one slot, so a
compile with another date or changed files replaces the entry instead of adding
one. An entry is JSON and text, never code. A missing, truncated, damaged or stale
entry is a miss: govdsl compiles and replaces it. The output's length and SHA-256
are checked before use.

The policy digests are those of the texts the compile read, so a policy file edited
during a compile makes the next lookup miss. NOTE: the environment digest is taken
before the compile. If a catalog or a govdsl source file changes while a compile runs,
the entry pairs the earlier digest with output that may come from the changed file.
A later lookup uses it only if that file is changed back to its earlier content.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import govdsl
from govdsl import resources
from govdsl.compiler.modules import locate
from govdsl.diagnostics import Diagnostic, Severity, Span
from govdsl.syntax.cache import cache_folder, write_entry

log = logging.getLogger("govdsl")

# Change it when the layout of an entry changes. It is part of every key.
ENTRY_FORMAT = "govdsl-plan-cache-1"
_ENTRY_SUFFIX = ".plan"

# Files of govdsl whose content decides a compile's output, by extension. Policy files
# (.gov) are not among them: the entry lists the ones a compile reads.
_SOURCE_EXTENSIONS = (".py", ".json", ".lark", ".yaml", ".yml")


class CachedCompile(NamedTuple):
    """A stored compile: its output as UTF-8, the diagnostics to print and the policy texts they point into."""

    output: memoryview
    diagnostics: list[Diagnostic]
    sources: dict[str, str]


class PlanCache:
    """The cache slot of one compile command; compute it before compiling, then `load` or `store`."""

    def __init__(self, arguments: Sequence[str], as_of: datetime.date) -> None:
        self.folder = cache_folder()
        self.key: str | None = None
        self.entry: Path | None = None
        if self.folder is None:
            return
        environment = environment_digest()
        if environment is None:
            return
        options = json.dumps({"arguments": list(arguments), "as_of": as_of.isoformat()}, sort_keys=True)
        self.key = _digest([ENTRY_FORMAT, environment, options])
        slot = _digest([os.getcwd(), json.dumps(list(arguments))])
        self.entry = self.folder / (slot[:32] + _ENTRY_SUFFIX)

    def load(self) -> CachedCompile | None:
        """Return the stored compile when its key matches and every policy file it read is unchanged."""
        if self.entry is None:
            return None
        try:
            data = self.entry.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.debug("plan cache entry %s not read: %s", self.entry, exc)
            return None
        try:
            cached = self._parse(data)
        # A damaged entry can fail in many ways (bad JSON, missing keys, wrong types), and each is a miss.
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            log.debug("ignoring damaged plan cache entry %s: %s: %s", self.entry, type(exc).__name__, exc)
            return None
        if cached is not None:
            log.info("reused the compile output stored in %s", self.entry)
        return cached

    def store(self, output: str, diagnostics: Iterable[Diagnostic], sources: dict[str, str]) -> None:
        """Store a successful compile: its output text, its diagnostics and the texts of the policy files it read."""
        if self.entry is None or self.folder is None:
            return
        body = output.encode("utf-8")
        header = {
            "format": ENTRY_FORMAT,
            "key": self.key,
            "files": [[display, _text_digest(text)] for display, text in sources.items()],
            "diagnostics": [diagnostic.to_dict() for diagnostic in diagnostics],
            "output_bytes": len(body),
            "output_sha256": hashlib.sha256(body).hexdigest(),
        }
        # json.dumps escapes line breaks inside strings, so the header is exactly the first line.
        data = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + body
        write_entry(self.folder, self.entry, data)

    def _parse(self, data: bytes) -> CachedCompile | None:
        end = data.index(b"\n")
        header = json.loads(data[:end])
        if header["format"] != ENTRY_FORMAT or header["key"] != self.key:
            log.debug("plan cache entry %s is for other inputs or options", self.entry)
            return None
        body = memoryview(data)[end + 1 :]
        if len(body) != header["output_bytes"] or hashlib.sha256(body).hexdigest() != header["output_sha256"]:
            log.debug("ignoring plan cache entry %s: its output does not match its digest", self.entry)
            return None
        sources = _unchanged_sources(header["files"])
        if sources is None:
            return None
        diagnostics = [_diagnostic(item) for item in header["diagnostics"]]
        return CachedCompile(body, diagnostics, sources)


def environment_digest() -> str | None:
    """Return a digest of the govdsl version and files that decide a compile's output, or None when one cannot be read."""
    package = Path(govdsl.__file__).parent
    folders = [package]
    for kind in ("grammar", "regulations"):
        folder = resources.data_path(kind)
        # An editable install keeps these folders beside the package, a wheel inside it.
        if package not in folder.parents:
            folders.append(folder)
    digest = hashlib.sha256(f"{ENTRY_FORMAT}\0{govdsl.__version__}\0".encode())
    try:
        for folder in folders:
            for path in _source_files(folder):
                name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape")
                data = path.read_bytes()
                for part in (name, data):
                    digest.update(len(part).to_bytes(8, "little"))
                    digest.update(part)
    except OSError as exc:
        log.debug("plan cache not used: cannot read %s: %s", exc.filename, exc.strerror)
        return None
    return digest.hexdigest()


def _source_files(folder: Path) -> list[Path]:
    """Return the files below `folder` with a source extension, sorted, skipping bytecode folders."""
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        found += [Path(root) / name for name in sorted(files) if name.endswith(_SOURCE_EXTENSIONS)]
    return found


def _unchanged_sources(files: list[list[str]]) -> dict[str, str] | None:
    """Return the texts of the listed policy files, or None when one is missing or changed."""
    sources: dict[str, str] = {}
    for display, expected in files:
        try:
            # Read as govdsl.compiler.modules reads policy files, so the digests compare the same text.
            text = locate(display).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.debug("plan cache entry not used: cannot read %s: %s", display, exc)
            return None
        if _text_digest(text) != expected:
            log.debug("plan cache entry not used: %s changed", display)
            return None
        sources[display] = text
    return sources


def _diagnostic(data: dict) -> Diagnostic:
    span = data["span"]
    return Diagnostic(
        data["code"],
        Severity(data["severity"]),
        data["message"],
        Span(**span) if span else None,
        data["help"],
        tuple(data["notes"]),
    )


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogateescape")
        # Each part is length-prefixed, so ("a", "bc") and ("ab", "c") give different digests.
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()

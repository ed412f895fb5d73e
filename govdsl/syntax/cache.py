"""The govdsl cache folder, and an on-disk cache of the ASTs that the Lark parser builds.

`parse_cached` returns the same Module that `parse` returns. A text that the fast parser
of govdsl.syntax.fastparse accepts is parsed again every time, because that takes about
as long as loading a stored AST, and storing it would slow down every first compile.
The cache keeps the Modules that Lark builds: for texts the fast parser declines, and
for every text while GOVDSL_PARSER=lark is set.

An entry is keyed by a SHA-256 digest of the govdsl version, the grammar file, the
source of the modules that define the AST and its pickled form, the display file name
(spans carry it) and the text. A hit skips Lark and the AST builder. A miss parses and
stores the Module. Invalid input raises InvalidInputError from `parse` and stores nothing.

Location: `$GOVDSL_CACHE_DIR`, else `$XDG_CACHE_HOME/govdsl`, else `~/.cache/govdsl`,
with one subfolder per govdsl version, which govdsl.compiler.plan_cache shares.
`GOVDSL_NO_CACHE` set to any value but empty or `0` (for example `1`) turns every
cache off. Entries are written to a temporary file and renamed with `os.replace`, so
a reader never reads half an entry. Nothing evicts old parse cache entries. The
folder may be deleted at any time, and a compile running meanwhile only loses the
speed-up. A corrupt, truncated or unreadable entry is ignored and rewritten. A folder
that cannot be created or written only costs the speed-up, and parsing still works.

Entries are pickles, and unpickling data that someone else wrote can run their code.
The folder is the user's own cache folder, which only that user can write, the same
trust as their shell profile. Two measures keep a shared or misconfigured folder from
doing harm:

- The version folder is created with mode 0o700. On POSIX, entries are read only when
  that folder belongs to the current user and no other user can write to it.
  Otherwise the cache is skipped for the process and one debug line is logged.
- Entries are loaded with an unpickler that resolves only the AST node classes and
  `Span`. Anything else, such as `os.system`, fails as a corrupt entry.

Someone who can write to the folder can still plant a different AST for a known
text. So do not point `GOVDSL_CACHE_DIR` at a folder other people can write to,
such as a CI cache restored from untrusted pull requests. Use GOVDSL_NO_CACHE=1
when in doubt.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from typing import TYPE_CHECKING

import govdsl
from govdsl import diagnostics

if TYPE_CHECKING:
    from govdsl.syntax import ast

log = logging.getLogger("govdsl")

# Change it when the layout of an entry changes. It is part of every key.
_ENTRY_FORMAT = "govdsl-parse-cache-1"
_ENTRY_SUFFIX = ".pickle"

# Folders found unusable in this process, so each is reported once, not once per file.
_unusable_folders: set[Path] = set()
_unwritable_folders: set[Path] = set()


def parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse with govdsl.syntax.parser.parse, which this module imports only when it first parses."""
    from govdsl.syntax.parser import parse as parse_text

    return parse_text(text, file)


def parse_cached(text: str, file: str = "<string>") -> ast.Module:
    """Parse `text` like `parse`; a Module that Lark builds is read from the cache on a hit and stored on a miss."""
    from govdsl.syntax.parser import parse_fast_or_none

    module = parse_fast_or_none(text, file)
    if module is not None:
        return module
    folder = cache_folder()
    key = cache_key(text, file) if folder is not None else None
    if folder is None or key is None:
        with collector_paused():
            return parse(text, file)

    entry = folder / (key + _ENTRY_SUFFIX)
    module = _load(entry, key)
    if module is not None:
        return module
    with collector_paused():
        module = parse(text, file)
    _store(folder, entry, key, module)
    return module


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while ASTs or a plan are built or loaded.

    An AST is a tree of many small objects without reference cycles, so the collector
    finds nothing in it. But the ASTs of files already loaded stay alive, and every
    full collection rescans them all. On the 10,000-control set that
    benchmarks/compile_speed.py generates, loading the cached ASTs took 9.1 s with
    the collector running and 2.2 s paused, and parsing took 58 s and 44 s (Python
    3.11, docs/benchmarks.md). Cycles created meanwhile, for example by a parse
    error's traceback, are collected after the pause ends.
    """
    # NOTE: the switch is process-wide, so other threads also run without the
    # collector while it is paused.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cache_folder() -> Path | None:
    """Return the folder of this govdsl version's entries, or None when the cache is off or unusable."""
    if os.environ.get("GOVDSL_NO_CACHE", "") not in ("", "0"):
        return None
    base = _base_folder()
    if base is None:
        return None
    folder = base / govdsl.__version__
    if folder in _unusable_folders:
        return None
    problem = _ownership_problem(folder)
    if problem is not None:
        _unusable_folders.add(folder)
        log.debug("cache not used: %s: %s", folder, problem)
        return None
    return folder


def cache_key(text: str, file: str) -> str | None:
    """Return the hex SHA-256 key of one entry, or None when the govdsl sources cannot be read."""
    environment = _environment_digest()
    if environment is None:
        return None
    digest = hashlib.sha256()
    for part in (environment, file, text):
        data = part.encode("utf-8", "surrogatepass")
        # Each part is length-prefixed, so ("a", "bc") and ("ab", "c") get different keys.
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _base_folder() -> Path | None:
    configured = os.environ.get("GOVDSL_CACHE_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG base directory specification requires ignoring a relative path.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "govdsl"
    try:
        return Path.home() / ".cache" / "govdsl"
    except RuntimeError as exc:
        log.debug("cache not used: no home folder: %s", exc)
        return None


def _ownership_problem(folder: Path) -> str | None:
    """Return why entries in `folder` must not be read, or None when they may be (checked on POSIX only)."""
    if not hasattr(os, "geteuid"):
        return None
    try:
        status = folder.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing to read yet, and _store creates the folder with mode 0o700
    except OSError as exc:
        return f"cannot check its owner: {exc.strerror}"
    if status.st_uid != os.geteuid():
        return "it belongs to another user"
    if status.st_mode & 0o022:
        return "other users can write to it"
    return None


@cache
def _environment_digest() -> str | None:
    """Return a digest of everything besides the text and file name that decides the AST and its pickle."""
    # Editable installs change these files without a new version number, and an old
    # pickle of a changed AST class would load with missing or stale fields.
    from govdsl import resources

    syntax_folder = Path(__file__).parent
    sources = [
        resources.data_path("grammar") / "govdsl.lark",
        *(syntax_folder / name for name in ("ast.py", "parser.py", "fastparse.py", "lark_parser.py", "lexical.py")),
        Path(diagnostics.__file__),
        Path(__file__),
    ]
    digest = hashlib.sha256()
    digest.update(f"{_ENTRY_FORMAT}\0{govdsl.__version__}\0".encode())
    try:
        for source in sources:
            data = source.read_bytes()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    except OSError as exc:
        log.debug("parse cache not used: cannot read %s: %s", exc.filename, exc.strerror)
        return None
    return digest.hexdigest()


def _ast_unpickler(handle):
    """Return an unpickler that resolves only AST node classes and Span, so an entry cannot call other code."""
    # pickle loads here, not at import, because a plan cache hit imports this module but never unpickles.
    import pickle

    from govdsl.syntax import ast

    class AstUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> type:
            if module == ast.__name__:
                found = getattr(ast, name, None)
                if isinstance(found, type) and issubclass(found, ast.Node):
                    return found
            if module == diagnostics.__name__ and name == "Span":
                return diagnostics.Span
            raise pickle.UnpicklingError(f"`{module}.{name}` is not allowed in a parse cache entry")

    return AstUnpickler(handle)


def _load(entry: Path, key: str) -> ast.Module | None:
    """Return the Module stored in `entry`, or None when it is missing, corrupt or written for another key."""
    from govdsl.syntax import ast

    try:
        with entry.open("rb") as handle, collector_paused():
            stored = _ast_unpickler(handle).load()
    except FileNotFoundError:
        return None
    # A damaged pickle can raise almost any exception (EOFError, UnpicklingError,
    # ValueError, AttributeError, RecursionError, ...), and each one means a miss.
    except Exception as exc:
        log.debug("ignoring unreadable parse cache entry %s: %s: %s", entry, type(exc).__name__, exc)
        return None

    if (
        isinstance(stored, tuple)
        and len(stored) == 3
        and stored[0] == _ENTRY_FORMAT
        and stored[1] == key
        and isinstance(stored[2], ast.Module)
    ):
        return stored[2]
    log.debug("ignoring parse cache entry %s: it contains another key or format", entry)
    return None


def _store(folder: Path, entry: Path, key: str, module: ast.Module) -> None:
    """Write `module` to `entry` through a temporary file; on failure log a debug line and return."""
    import pickle

    if folder in _unwritable_folders:
        return
    try:
        data = pickle.dumps((_ENTRY_FORMAT, key, module), protocol=pickle.HIGHEST_PROTOCOL)
    except RecursionError:
        log.debug("parse cache entry not written for %s: the AST is nested too deeply to pickle", module.file)
        return

    if not write_entry(folder, entry, data):
        # Logged once per folder: a read-only or full disk would otherwise log once per file.
        _unwritable_folders.add(folder)


def write_entry(folder: Path, entry: Path, data: bytes) -> bool:
    """Write `data` to `entry` in `folder` through a temporary file and `os.replace`; return whether it worked.

    Creates the folder with mode 0o700 when it is missing. On failure, logs one debug
    line and leaves no temporary file behind.
    """
    import tempfile

    temporary = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=entry.name[:16] + ".", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, entry)
        temporary = None
        return True
    except OSError as exc:
        log.debug("cache entry not written: cannot store entries in %s: %s", folder, exc)
        return False
    finally:
        if temporary is not None:
            _remove_temporary(temporary)


def _remove_temporary(path: str) -> None:
    try:
        os.remove(path)
    except OSError as exc:
        log.debug("cannot remove temporary cache file %s: %s", path, exc)

"""Helpers shared by the example build scripts, examples/*/build.py.

A build script renders its output files in memory, validates bundle.yaml against
the repository's bundle JSON Schema and only then writes the files, so a failed
build leaves the committed files unchanged. This module contains the digest,
CSV and validation steps that all scripts share. `run_build` adds the command
line, `--refresh-digests` and the file writing of the scripts that also write
build_summary.json (adult and german-credit). Each script keeps its own source
parsing, model and bundle.yaml template.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
BUNDLE_SCHEMA_PATH = REPOSITORY_ROOT / "govdsl" / "schemas" / "bundle.schema.json"
MODEL_CARD_FILENAME = "model_card.md"
SUMMARY_FILENAME = "build_summary.json"
BUNDLE_FILENAME = "bundle.yaml"


class BuildError(Exception):
    """Error in the source data or the generated bundle that stops the build."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render_csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """Render the columns as UTF-8 CSV with LF line endings and no index."""
    return frame[columns].to_csv(index=False, lineterminator="\n").encode("utf-8")


def library_versions() -> dict[str, str]:
    """Return the versions of Python and of the libraries that the outputs depend on."""
    import platform

    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
    }


def validate_bundle(bundle_text: str) -> None:
    """Validate bundle.yaml text against the repository's bundle JSON Schema.

    Raises BuildError listing every schema violation. The message points to the
    BUNDLE_TEMPLATE of the calling build.py, where the text came from.
    """
    if not BUNDLE_SCHEMA_PATH.is_file():
        raise BuildError(f"Bundle schema not found at {BUNDLE_SCHEMA_PATH}.")
    schema = json.loads(BUNDLE_SCHEMA_PATH.read_text(encoding="utf-8"))
    bundle = yaml.safe_load(bundle_text)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(bundle), key=lambda error: [str(part) for part in error.absolute_path])
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors
        )
        raise BuildError(
            f"The generated {BUNDLE_FILENAME} failed validation against {BUNDLE_SCHEMA_PATH}: "
            f"{details}. Fix BUNDLE_TEMPLATE in build.py."
        )


def parse_build_arguments(
    argv: list[str] | None, *, description: str, source_help: str, default_output: Path
) -> argparse.Namespace:
    """Parse `--source PATH` or `--refresh-digests`, and `--output FOLDER`."""
    parser = argparse.ArgumentParser(description=description)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--source", type=Path, help=source_help)
    action.add_argument(
        "--refresh-digests",
        action="store_true",
        help="rewrite bundle.yaml with the SHA-256 of the committed files; reads no source",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=default_output,
        help="folder to write into, which must hold model_card.md (default: the folder of this script)",
    )
    return parser.parse_args(argv)


# Receives the SHA-256 of every file that bundle.yaml lists, by file name, and
# the build summary, and returns the text of bundle.yaml.
RenderBundle = Callable[[dict[str, str], dict], str]

# Receives the source path and returns the number of source records, the rendered
# datasets by file name, in the order they are written, and the build summary.
# Raises BuildError when the source is invalid.
BuildDatasets = Callable[[Path], tuple[int, dict[str, bytes], dict]]


def refresh_digests(output_dir: Path, committed_filenames: Sequence[str], render_bundle: RenderBundle) -> int:
    """Rewrite bundle.yaml from the committed files and the committed build summary.

    Returns the exit status: 0 on success, 1 when the rendered bundle is invalid
    and 2 when one of `committed_filenames` is missing.
    """
    digests = {}
    for name in committed_filenames:
        path = output_dir / name
        if not path.is_file():
            print(f"error: {path} not found; run the full build with --source first.", file=sys.stderr)
            return 2
        digests[name] = sha256_hex(path.read_bytes())
    summary = json.loads((output_dir / SUMMARY_FILENAME).read_text(encoding="utf-8"))
    try:
        bundle_text = render_bundle(digests, summary)
        validate_bundle(bundle_text)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    (output_dir / BUNDLE_FILENAME).write_bytes(bundle_text.encode("utf-8"))
    print(f"wrote {output_dir / BUNDLE_FILENAME}")
    return 0


def run_build(
    arguments: argparse.Namespace,
    *,
    committed_filenames: Sequence[str],
    build_datasets: BuildDatasets,
    render_bundle: RenderBundle,
    source_hint: str,
    record_noun: str,
) -> int:
    """Run the build that `parse_build_arguments` selected and return the exit status.

    With `--refresh-digests` only bundle.yaml is rewritten, from the files in
    `committed_filenames`. Otherwise `build_datasets` reads the source, and the
    datasets, build_summary.json and bundle.yaml are written to the output folder.
    `source_hint` ends the error message for a missing source file and names the
    file to pass.
    `record_noun` names the source records in the printed report ("rows").
    Exit status: 0 on success, 1 on a BuildError, 2 on a missing file or folder.
    """
    output_dir: Path = arguments.output
    if not output_dir.is_dir():
        print(f"error: output folder not found: {output_dir}", file=sys.stderr)
        return 2
    if arguments.refresh_digests:
        return refresh_digests(output_dir, committed_filenames, render_bundle)

    source_path: Path = arguments.source
    if not source_path.is_file():
        print(f"error: source file not found: {source_path}. {source_hint}", file=sys.stderr)
        return 2
    model_card_path = output_dir / MODEL_CARD_FILENAME
    if not model_card_path.is_file():
        print(f"error: {model_card_path} not found; bundle.yaml records its SHA-256.", file=sys.stderr)
        return 2

    # Every output is rendered and validated before any file is written, so a
    # failed build leaves the committed files unchanged.
    try:
        record_count, files, summary = build_datasets(source_path)
        summary_text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
        files = {**files, SUMMARY_FILENAME: summary_text.encode("utf-8")}
        digests = {name: sha256_hex(data) for name, data in files.items()}
        digests[MODEL_CARD_FILENAME] = sha256_hex(model_card_path.read_bytes())
        bundle_text = render_bundle(digests, summary)
        validate_bundle(bundle_text)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    for name, data in files.items():
        (output_dir / name).write_bytes(data)
    (output_dir / BUNDLE_FILENAME).write_bytes(bundle_text.encode("utf-8"))

    print(f"source {source_path} (sha256 {sha256_hex(source_path.read_bytes())}): {record_count} {record_noun}")
    for name in files:
        print(f"wrote {output_dir / name}: sha256 {digests[name]}")
    print(f"wrote {output_dir / BUNDLE_FILENAME}")
    print(summary_text, end="")
    return 0

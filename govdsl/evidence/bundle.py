"""Load a model bundle: validate bundle.yaml, keep evidence paths inside the bundle, check files, columns and digests.

Anything wrong here is invalid input: the loader raises InvalidInputError with
one diagnostic per problem, naming the key, the file and what exists instead.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

from govdsl import resources
from govdsl.diagnostics import error
from govdsl.errors import InvalidInputError
from govdsl.yamlfiles import YamlProblems, key_text, parse_yaml_document, schema_error_text, stringify_dates

log = logging.getLogger("govdsl")

BUNDLE_FILE = "bundle.yaml"
_DIGEST_BLOCK = 1 << 20


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    relative_path: str
    role: str
    columns: tuple[str, ...]
    sha256: str
    key: str  # where the dataset is declared, such as `datasets[0]`
    label_column: str | None = None
    prediction_column: str | None = None
    score_column: str | None = None
    sensitive_features: tuple[str, ...] = ()
    positive_label: str | int | bool | None = None
    favorable: str | None = None
    declared_sha256: str | None = None
    format: str = "csv"  # "csv" or "parquet"
    # Columns that drift metrics compare, as (column, "numeric" or "categorical") pairs.
    feature_types: tuple[tuple[str, str], ...] = ()
    # Names that policies use for columns of the file under other names, as (name, column) pairs.
    aliases: tuple[tuple[str, str], ...] = ()

    def column_in_file(self, name: str) -> str:
        """Return the file's column that `name` refers to: the aliased column, else `name` itself."""
        for alias, column in self.aliases:
            if alias == name:
                return column
        return name

    def has_column(self, name: str) -> bool:
        """Return whether `name` is a column of the file or an alias of one."""
        return name in self.columns or any(alias == name for alias, _ in self.aliases)

    def undeclared_features(self, features: tuple[str, ...]) -> str | None:
        """Return why some of `features` cannot form groups, or None when the dataset declares them all."""
        undeclared = [f for f in features if f not in self.sensitive_features]
        if not undeclared:
            return None
        declared = ", ".join(self.sensitive_features) or "none"
        message = (
            f"dataset `{self.name}` declares no sensitive feature {', '.join(f'`{u}`' for u in undeclared)}"
            f" (declared: {declared})"
        )
        aliased = [(alias, column) for alias, column in self.aliases if alias in undeclared and column in self.sensitive_features]
        for alias, column in aliased:
            message += f"; `{alias}` is the alias of column `{column}`, so list `{alias}` under sensitive_features instead"
        return message

    def column_names(self) -> str:
        """Return the file's columns and the aliases, for messages."""
        names = ", ".join(self.columns)
        if self.aliases:
            names += "; aliases: " + ", ".join(f"{alias} (column {column})" for alias, column in self.aliases)
        return names


@dataclass(frozen=True)
class Bundle:
    root: Path
    display_path: str
    model: dict
    datasets: dict[str, Dataset]
    model_card: Path | None = None
    approvals: tuple[dict, ...] = field(default=())
    attestations: tuple[dict, ...] = field(default=())
    # SHA-256 of bundle.yaml, which contains the approvals and attestations.
    manifest_sha256: str | None = None

    def datasets_with_role(self, role: str) -> list[Dataset]:
        return [d for d in self.datasets.values() if d.role == role]




def load_bundle(directory: str | Path) -> Bundle:
    """Load and validate the bundle in `directory`; raise InvalidInputError listing every problem."""
    display = Path(directory).as_posix()
    root = Path(directory)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "not found"
        raise InvalidInputError(
            [error("E401", f"bundle directory `{display}` {what}", help="pass the folder that contains bundle.yaml")]
        )
    root = root.resolve()
    manifest = root / BUNDLE_FILE
    file_display = f"{display.rstrip('/')}/{BUNDLE_FILE}"
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            [error("E402", f"no {BUNDLE_FILE} in bundle directory `{display}`", help="a bundle is a folder with a bundle.yaml that lists its evidence files")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError([error("E402", f"cannot read `{file_display}`: {exc}")]) from None

    data = stringify_dates(parse_yaml_document(text, file_display, "E403", "bundle manifest"))

    problems = YamlProblems(file_display, text)
    validator = jsonschema.Draft202012Validator(
        resources.load_package_schema("bundle.schema.json"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for problem in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path, message, hint = schema_error_text(problem)
        problems.add(
            "E404",
            f"`{file_display}` is invalid at `{key_text(path)}`: {message}",
            path,
            hint or "the fields of bundle.yaml are described in docs/bundle.md of the govdsl repository",
        )
    if not isinstance(data, dict):
        problems.raise_if_any()

    # Datasets are checked even when other parts of bundle.yaml are invalid, so one run
    # reports every problem; entries without a usable name and path are left to the schema errors.
    datasets: dict[str, Dataset] = {}
    raw_datasets = data.get("datasets") if isinstance(data.get("datasets"), list) else []
    for index, raw in enumerate(raw_datasets):
        if not (isinstance(raw, dict) and isinstance(raw.get("name"), str) and isinstance(raw.get("path"), str)):
            continue
        dataset = _load_dataset(root, display, index, raw, problems)
        if dataset is None:
            continue
        if dataset.name in datasets:
            problems.add("E411", f"dataset name `{dataset.name}` is used twice", ["datasets", index, "name"])
            continue
        datasets[dataset.name] = dataset

    model_card = None
    if isinstance(data.get("model_card"), str):
        model_card = _inside(root, data["model_card"], ["model_card"], problems)
        if model_card is not None and not model_card.is_file():
            problems.add(
                "E406", f"model card `{data['model_card']}` not found in bundle `{display}`", ["model_card"]
            )
    # Imported here because govdsl.evidence.attestations imports this module.
    from govdsl.evidence.attestations import check_attestations

    check_attestations(root, display, data.get("attestations"), problems)
    problems.raise_if_any()
    log.info("loaded bundle %s: model %s %s, %d datasets", display, data["model"]["id"], data["model"]["version"], len(datasets))
    return Bundle(
        root=root,
        display_path=display,
        model=data["model"],
        datasets=datasets,
        model_card=model_card,
        approvals=tuple(data.get("approvals", [])),
        attestations=tuple(data.get("attestations", [])),
        manifest_sha256=file_sha256(manifest),
    )


def _inside(root: Path, relative: str, key: list[str | int], problems: YamlProblems) -> Path | None:
    """Resolve an evidence path; report it when it leaves the bundle directory."""
    candidate = Path(relative)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(root):
        problems.add(
            "E405",
            f"evidence path `{relative}` at `{key_text(key)}` points outside the bundle directory",
            key,
            "evidence files must be inside the bundle folder; give a path relative to bundle.yaml",
        )
        return None
    return resolved


def _load_dataset(root: Path, display: str, index: int, raw: dict, problems: YamlProblems) -> Dataset | None:
    key: list[str | int] = ["datasets", index]
    path = _inside(root, raw["path"], key + ["path"], problems)
    if path is None:
        return None
    if not path.is_file():
        problems.add(
            "E406",
            f"dataset `{raw['name']}`: file `{raw['path']}` declared at `{key_text(key + ['path'])}` not found in bundle `{display}`",
            key + ["path"],
            "add the file or correct the path",
        )
        return None
    # An invalid `format` is reported by the schema check; the file is still read by its suffix.
    data_format = raw["format"] if raw.get("format") in _FORMAT_NAMES else _format_from_suffix(path)
    try:
        columns = _read_columns(path, data_format)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        problems.add(
            "E409",
            f"dataset `{raw['name']}`: cannot read `{raw['path']}` as {_FORMAT_NAMES[data_format]}: {exc}",
            key + ["path"],
            _FORMAT_HELP[data_format],
        )
        return None
    if not columns:
        problems.add(
            "E409",
            f"dataset `{raw['name']}`: `{raw['path']}` is empty",
            key + ["path"],
            f"a {_FORMAT_NAMES[data_format]} file needs at least one named column",
        )
        return None

    aliases = raw.get("aliases") if isinstance(raw.get("aliases"), dict) else {}
    for alias, column in aliases.items():
        if not isinstance(column, str):
            continue
        if column not in columns:
            problems.add(
                "E407",
                f"dataset `{raw['name']}`: column `{column}` named by alias `{alias}` is not in `{raw['path']}`",
                key + ["aliases", alias],
                f"columns in the file: {', '.join(columns)}",
            )
        elif alias in columns and alias != column:
            problems.add(
                "E414",
                f"dataset `{raw['name']}`: alias `{alias}` is also a column of `{raw['path']}`",
                key + ["aliases", alias],
                f"a check naming `{alias}` would be ambiguous; rename the alias, or drop it to read the column `{alias}`",
            )
    visible = set(columns) | {alias for alias, column in aliases.items() if isinstance(column, str)}

    declared: list[tuple[list[str | int], str]] = []
    for field_name in ("label_column", "prediction_column", "score_column"):
        if isinstance(raw.get(field_name), str):
            declared.append((key + [field_name], raw[field_name]))
    features = raw.get("sensitive_features") if isinstance(raw.get("sensitive_features"), list) else []
    for feature_index, feature in enumerate(features):
        if isinstance(feature, str):
            declared.append((key + ["sensitive_features", feature_index], feature))
    feature_types = raw.get("features") if isinstance(raw.get("features"), dict) else {}
    for feature in feature_types:
        declared.append((key + ["features", feature], feature))
    for column_key, column in declared:
        if column not in visible:
            named = ", ".join(columns) + (f"; aliases: {', '.join(aliases)}" if aliases else "")
            problems.add(
                "E407",
                f"dataset `{raw['name']}`: column `{column}` declared at `{key_text(column_key)}` is not in `{raw['path']}`",
                column_key,
                f"columns in the file: {named}; a column with another name can be given this name under `aliases`",
            )

    digest = file_sha256(path)
    if isinstance(raw.get("sha256"), str) and raw["sha256"] != digest:
        problems.add(
            "E408",
            f"dataset `{raw['name']}`: `{raw['path']}` does not match its declared SHA-256",
            key + ["sha256"],
            f"the file's SHA-256 is {digest}; if the file changed on purpose, update `sha256`",
        )
    return Dataset(
        name=raw["name"],
        path=path,
        relative_path=Path(raw["path"]).as_posix(),
        role=raw.get("role"),
        columns=tuple(columns),
        sha256=digest,
        key=key_text(key),
        label_column=raw.get("label_column"),
        prediction_column=raw.get("prediction_column"),
        score_column=raw.get("score_column"),
        sensitive_features=tuple(features),
        positive_label=raw.get("positive_label"),
        favorable=raw.get("favorable"),
        declared_sha256=raw.get("sha256") if isinstance(raw.get("sha256"), str) else None,
        format=data_format,
        feature_types=tuple((column, kind) for column, kind in feature_types.items() if isinstance(kind, str)),
        aliases=tuple((alias, column) for alias, column in aliases.items() if isinstance(column, str) and alias != column),
    )


_FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet"}
_FORMAT_HELP = {
    "csv": "evidence files are UTF-8 CSV with a header line; declare `format: parquet` for a Parquet file",
    "parquet": "replace the file with a complete Parquet file, or declare `format: csv` if it is CSV",
}


def _format_from_suffix(path: Path) -> str:
    """Return the format of a dataset that declares none: Parquet for `.parquet` and `.pq` files, else CSV."""
    return "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"


def _read_columns(path: Path, data_format: str) -> list[str]:
    """Return the column names of an evidence file: its CSV header line, or its Parquet schema.

    Raises OSError, UnicodeDecodeError, csv.Error or ValueError when the file cannot be read.
    """
    if data_format == "parquet":
        import pyarrow
        import pyarrow.parquet

        try:
            return list(pyarrow.parquet.read_schema(path).names)
        except pyarrow.ArrowException as exc:
            raise ValueError(str(exc)) from exc
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_DIGEST_BLOCK):
            digest.update(block)
    return digest.hexdigest()

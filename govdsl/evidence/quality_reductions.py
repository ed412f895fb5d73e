"""Data quality and integrity reductions: column profiles, duplicate rows, group shares, digests, reported metrics.

Each reduction reads a dataset in chunks of at most `chunk_rows` rows and adds up
per-chunk states, so its result does not depend on where the chunks end. The
declarations these reductions read beside the data (a dataset's `schema`,
`population_shares` and `reported_metrics`, the bundle's `files`) are described in
docs/bundle.md. A declaration that contradicts itself or the data raises
EvidenceInvalid, which is invalid input (exit 2). A declaration that a check needs
and the bundle lacks raises EvidenceMissing, so the check gets status `error`.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from govdsl.compiler.plan import ReductionSpec
from govdsl.diagnostics import error
from govdsl.errors import InvalidInputError
from govdsl.evidence.bundle import BUNDLE_FILE, Bundle, Dataset, file_sha256, load_bundle
from govdsl.evidence.kinds import reduction_function
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, read_chunks
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.declaration import BOOL, FEATURES, NUMBER, STRING
from govdsl.metrics.fairness import describe_group, per_group
from govdsl.metrics.integrity import EvidenceDigests, FileDigest, ReportedMetrics, ReportedValue
from govdsl.metrics.quality import (
    EXAMPLES_KEPT,
    ColumnCounts,
    ColumnProfile,
    ColumnRule,
    DuplicateCounts,
    GroupShares,
    PopulationShares,
)
from govdsl.metrics.registry import REGISTRY, get_metric
from govdsl.yamlfiles import stringify_dates

log = logging.getLogger("govdsl")

_NAN_TEXTS = frozenset({"nan", "+nan", "-nan"})
_BOOLEAN_TEXTS = {"true": True, "1": True, "false": False, "0": False}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Shares of a population must add up to 1 within this, which allows for rounding in published tables.
SHARE_SUM_TOLERANCE = 0.01


# The bundle's declarations beside the data


@dataclass(frozen=True)
class Manifest:
    """The bundle that a dataset belongs to: its folder and its bundle.yaml, parsed."""

    root: Path
    data: dict
    sha256: str

    def declaration(self, dataset: Dataset) -> dict:
        """Return the dataset's mapping in bundle.yaml, as written."""
        index = int(re.fullmatch(r"datasets\[(\d+)\]", dataset.key).group(1))
        return self.data["datasets"][index]


def bundle_root(dataset: Dataset) -> Path:
    """Return the bundle folder of a dataset: the folder from which its declared path leads to its file.

    The loader resolves each path inside the bundle folder, so that folder is the one
    ancestor of the file from which the relative path resolves to the file itself.
    """
    for folder in dataset.path.parents:
        if (folder / BUNDLE_FILE).is_file() and (folder / dataset.relative_path).resolve() == dataset.path:
            return folder
    raise EvidenceInvalid(f"cannot find the bundle.yaml that declares dataset `{dataset.name}`")


def read_manifest(dataset: Dataset) -> Manifest:
    """Read the bundle.yaml of a dataset again; the loader has already validated it against the schema."""
    return manifest_at(bundle_root(dataset))


def manifest_at(root: Path) -> Manifest:
    path = root / BUNDLE_FILE
    text = path.read_text(encoding="utf-8")
    return Manifest(root, stringify_dates(yaml.safe_load(text)), file_sha256(path))


def _inside(root: Path, relative: str, key: str) -> Path:
    """Resolve a path declared in bundle.yaml; one that leaves the bundle folder is invalid input."""
    candidate = Path(relative)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(root):
        raise EvidenceInvalid(
            f"path `{relative}` at `{key}` points outside the bundle directory",
            "evidence files must be inside the bundle folder; give a path relative to bundle.yaml",
        )
    return resolved


# Selecting columns


def selected_columns(dataset: Dataset, spec) -> list[str]:
    """Return the columns a check reads: its `columns` argument (default: all) without its `exclude`."""
    named = list(spec.option("columns") or ())
    excluded = list(spec.option("exclude") or ())
    unknown = [name for name in named + excluded if not dataset.has_column(name)]
    if unknown:
        names = ", ".join(f"`{name}`" for name in unknown)
        raise EvidenceMissing(
            f"dataset `{dataset.name}` has no column {names} (columns: {dataset.column_names()})"
        )
    columns = named or list(dataset.columns)
    return [name for name in columns if name not in excluded]


# Schema


def _is_bool(value) -> bool:
    return isinstance(value, bool)


def _rule(raw: dict, key: str) -> ColumnRule:
    """Build one column rule from its declaration, rejecting a declaration that contradicts itself."""
    name = raw["name"]
    column_type = raw.get("type")
    minimum, maximum = raw.get("minimum"), raw.get("maximum")
    values = raw.get("values")
    if (minimum is not None or maximum is not None) and column_type not in ("integer", "number", "date", "datetime"):
        raise EvidenceInvalid(
            f"column `{name}` at `{key}` declares a minimum or maximum but its type is `{column_type or 'not declared'}`",
            "a range needs `type: integer`, `number`, `date` or `datetime`",
        )
    for bound_name, bound in (("minimum", minimum), ("maximum", maximum)):
        if bound is None:
            continue
        if column_type in ("date", "datetime"):
            if not isinstance(bound, str) or pd.isna(pd.to_datetime(bound, format="ISO8601", errors="coerce")):
                raise EvidenceInvalid(
                    f"`{key}.{bound_name}` is `{bound}`, but a {column_type} column needs an ISO 8601 date",
                    'quote the date, such as `minimum: "2013-01-01"`',
                )
        elif _is_bool(bound) or not isinstance(bound, (int, float)):
            raise EvidenceInvalid(f"`{key}.{bound_name}` is `{bound}`, but a {column_type} column needs a number")
    if minimum is not None and maximum is not None and _bound(minimum, column_type) > _bound(maximum, column_type):
        raise EvidenceInvalid(f"column `{name}` at `{key}` has a minimum ({minimum}) above its maximum ({maximum})")
    if values is not None:
        _check_domain(name, column_type, values, key)
    return ColumnRule(
        name=name,
        key=key,
        type=column_type,
        nullable=raw.get("nullable", True),
        minimum=minimum,
        maximum=maximum,
        values=tuple(values) if values is not None else None,
        allow_non_finite=raw.get("allow_non_finite", False),
    )


def _bound(value, column_type: str | None):
    if column_type in ("date", "datetime"):
        return pd.to_datetime(value, format="ISO8601", utc=True)
    return float(value)


def _check_domain(name: str, column_type: str | None, values: list, key: str) -> None:
    if column_type != "boolean" and any(_is_bool(v) for v in values):
        raise EvidenceInvalid(
            f"`{key}.values` of column `{name}` contains a boolean, but the column's type is `{column_type or 'not declared'}`",
            "YAML reads unquoted yes, no, on, off, true and false as booleans; quote text values, such as `\"no\"`",
        )
    if column_type in ("integer", "number") and any(not isinstance(v, (int, float)) for v in values):
        raise EvidenceInvalid(f"`{key}.values` of {column_type} column `{name}` contains a value that is not a number")
    if column_type == "boolean" and any(not _is_bool(v) and str(v).strip().lower() not in _BOOLEAN_TEXTS for v in values):
        raise EvidenceInvalid(f"`{key}.values` of boolean column `{name}` contains a value that is not true or false")


@dataclass(frozen=True)
class Schema:
    rules: dict[str, ColumnRule]
    additional_columns: bool
    missing_values: tuple[str, ...]
    declared: bool


def read_schema(dataset: Dataset, declaration: dict) -> Schema:
    """Return a dataset's declared schema, or an empty one when it declares none."""
    raw = declaration.get("schema")
    if raw is None:
        return Schema({}, True, ("",), False)
    key = f"{dataset.key}.schema"
    rules: dict[str, ColumnRule] = {}
    for index, column in enumerate(raw.get("columns", [])):
        column_key = f"{key}.columns[{index}]"
        if column["name"] in rules:
            raise EvidenceInvalid(f"column `{column['name']}` is declared twice in `{key}` (again at `{column_key}`)")
        rules[column["name"]] = _rule(column, column_key)
    markers = tuple(str(value) for value in raw.get("missing_values", [""]))
    return Schema(rules, raw.get("additional_columns", True), markers, True)


# Profiling one chunk of one column


@dataclass
class _ColumnState:
    counts: ColumnCounts
    examples: dict[str, dict[str, int]] = field(default_factory=dict)

    def merge(self, other: _ColumnState) -> _ColumnState:
        examples = {kind: dict(values) for kind, values in self.examples.items()}
        for kind, values in other.examples.items():
            merged = examples.setdefault(kind, {})
            for value, count in values.items():
                merged[value] = merged.get(value, 0) + count
        return _ColumnState(self.counts + other.counts, {k: _first_values(v) for k, v in examples.items()})


def _first_values(counts: dict[str, int]) -> dict[str, int]:
    """Keep the EXAMPLES_KEPT first values in sorted order, so the kept set and its counts do not depend on chunking.

    A value dropped from one chunk's state has EXAMPLES_KEPT smaller values beside it,
    and those stay ahead of it in every merge, so each kept count is exact.
    """
    return {value: counts[value] for value in sorted(counts)[:EXAMPLES_KEPT]}


def _examples(texts: pd.Series, mask: np.ndarray, counts: np.ndarray) -> dict[str, int]:
    """Return the first offending values in sorted order with their rows; distinct values may strip to one text."""
    if not mask.any():
        return {}
    rows = pd.Series(counts[mask], index=texts.to_numpy()[mask]).groupby(level=0).sum()
    return _first_values({str(value): int(count) for value, count in rows.items()})


def _as_text(values: pd.Series) -> pd.Series:
    """Return present values as stripped text; booleans read `true` and `false`, timestamps ISO 8601."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "true", False: "false"}).astype(object)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pd.Series(values.dt.strftime("%Y-%m-%dT%H:%M:%S"), index=values.index, dtype=object)
    return values.astype(str).str.strip()


def _numbers(values: pd.Series, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return each present value as a float (NaN where it is not a number) and which values are numbers."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return numbers, np.ones(len(numbers), dtype=bool)
    numbers = pd.to_numeric(texts, errors="coerce").to_numpy(dtype=float)
    nan_texts = texts.str.lower().isin(_NAN_TEXTS).to_numpy(dtype=bool)
    return numbers, ~np.isnan(numbers) | nan_texts


def _type_ok(rule: ColumnRule | None, texts: pd.Series, numbers: np.ndarray, is_number: np.ndarray) -> np.ndarray:
    column_type = rule.type if rule is not None else None
    if column_type in (None, "string"):
        return np.ones(len(texts), dtype=bool)
    if column_type == "number":
        return is_number
    if column_type == "integer":
        with np.errstate(invalid="ignore"):
            return is_number & np.isfinite(numbers) & (np.floor(numbers) == numbers)
    if column_type == "boolean":
        return texts.str.lower().isin(_BOOLEAN_TEXTS).to_numpy(dtype=bool)
    return ~np.isnan(_timestamps(texts, column_type))


def _timestamps(texts: pd.Series, column_type: str) -> np.ndarray:
    """Return each text as nanoseconds since 1970 in UTC, NaN where it is not a date of the type."""
    if column_type == "date":
        parsed = pd.to_datetime(texts.where(texts.str.match(_DATE)), format="%Y-%m-%d", errors="coerce", utc=True)
    else:
        parsed = pd.to_datetime(texts, format="ISO8601", errors="coerce", utc=True)
    naive = parsed.dt.tz_convert(None)
    stamps = naive.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
    stamps[naive.isna().to_numpy()] = np.nan
    return stamps


def _comparable(rule: ColumnRule, texts: pd.Series, numbers: np.ndarray) -> np.ndarray:
    """Return the values that a range compares: numbers, or timestamps for date and datetime columns."""
    if rule.type in ("date", "datetime"):
        return _timestamps(texts, rule.type)
    return numbers


def _bound_value(rule: ColumnRule, bound) -> float:
    if rule.type in ("date", "datetime"):
        return float(_bound(bound, rule.type).value)
    return float(bound)


def _in_domain(rule: ColumnRule, texts: pd.Series, numbers: np.ndarray) -> np.ndarray:
    if rule.type in ("integer", "number"):
        return np.isin(numbers, np.array([float(v) for v in rule.values]))
    if rule.type == "boolean":
        allowed = {v if _is_bool(v) else _BOOLEAN_TEXTS[str(v).strip().lower()] for v in rule.values}
        return texts.str.lower().map(_BOOLEAN_TEXTS).isin(allowed).to_numpy(dtype=bool)
    if rule.type in ("date", "datetime"):
        allowed = np.array([_bound_value(rule, v) for v in rule.values])
        return np.isin(_timestamps(texts, rule.type), allowed)
    if rule.type == "string":
        return texts.isin({str(v).strip() for v in rule.values}).to_numpy(dtype=bool)
    # Without a type, a number in `values` matches the same number written another way, such as 1 and 1.0.
    allowed_numbers = {float(v) for v in rule.values if isinstance(v, (int, float))}
    allowed_texts = {str(v).strip() for v in rule.values if not isinstance(v, (int, float))}
    return texts.isin(allowed_texts).to_numpy(dtype=bool) | np.isin(numbers, list(allowed_numbers))


def profile_column(series: pd.Series, rule: ColumnRule | None, markers: frozenset[str]) -> tuple[_ColumnState, np.ndarray]:
    """Count one chunk of one column; return its state and which rows are missing.

    Every test runs once per distinct value, and `np.bincount` of the value codes
    turns per-value results into row counts, so a column with few distinct values
    costs little more than its factorization.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    absent = codes < 0
    rows = np.bincount(codes[~absent], minlength=len(uniques))
    values = pd.Series(uniques)
    texts = _as_text(values)
    marked = texts.isin(markers).to_numpy(dtype=bool) if markers else np.zeros(len(texts), dtype=bool)
    missing = absent | marked[np.where(absent, 0, codes)] if marked.any() else absent
    rows = np.where(marked, 0, rows)

    numbers, is_number = _numbers(values, texts)
    type_ok = _type_ok(rule, texts, numbers, is_number)
    numeric_type = rule is None or rule.type in (None, "integer", "number")
    with np.errstate(invalid="ignore"):
        non_finite = is_number & ~np.isfinite(numbers) & type_ok if numeric_type else np.zeros(len(texts), dtype=bool)
    examples = {"type": _examples(texts, ~type_ok & ~marked, rows), "non_finite": _examples(texts, non_finite, rows)}
    below = above = out_of_domain = np.zeros(len(texts), dtype=bool)
    range_checked = domain_checked = 0
    if rule is not None:
        checked = type_ok & ~non_finite
        if rule.has_range:
            comparable = _comparable(rule, texts, numbers)
            with np.errstate(invalid="ignore"):
                if rule.minimum is not None:
                    below = checked & (comparable < _bound_value(rule, rule.minimum))
                if rule.maximum is not None:
                    above = checked & (comparable > _bound_value(rule, rule.maximum))
            range_checked = int(rows[checked].sum())
            examples["range"] = _examples(texts, below | above, rows)
        if rule.values is not None:
            out_of_domain = checked & ~_in_domain(rule, texts, numbers)
            domain_checked = int(rows[checked].sum())
            examples["domain"] = _examples(texts, out_of_domain, rows)
    counts = ColumnCounts(
        n=len(series),
        missing=int(missing.sum()),
        numbers=int(rows[is_number].sum()),
        non_numeric=int(rows[~is_number].sum()),
        non_finite=int(rows[non_finite].sum()),
        type_errors=int(rows[~type_ok].sum()),
        below_minimum=int(rows[below].sum()),
        above_maximum=int(rows[above].sum()),
        out_of_domain=int(rows[out_of_domain].sum()),
        range_checked=range_checked,
        domain_checked=domain_checked,
    )
    return _ColumnState(counts, {kind: found for kind, found in examples.items() if found}), missing


def _profile(dataset: Dataset, spec, chunk_rows: int, need_schema: bool) -> ColumnProfile:
    manifest = read_manifest(dataset)
    schema = read_schema(dataset, manifest.declaration(dataset))
    if need_schema and not schema.declared:
        raise EvidenceMissing(f"dataset `{dataset.name}` declares no `schema` in bundle.yaml")
    columns = selected_columns(dataset, spec)
    markers = frozenset(m.strip() for m in schema.missing_values if m.strip())
    states = {name: _ColumnState(ColumnCounts(0)) for name in columns}
    rows = incomplete = 0
    if columns:
        for chunk in read_chunks(dataset, columns, chunk_rows):
            any_missing = np.zeros(len(chunk), dtype=bool)
            for name in columns:
                state, missing = profile_column(chunk[name], schema.rules.get(name), markers)
                states[name] = states[name].merge(state)
                any_missing |= missing
            rows += len(chunk)
            incomplete += int(any_missing.sum())
    return ColumnProfile(
        dataset=dataset.name,
        rows=rows,
        columns={name: state.counts for name, state in states.items()},
        incomplete_rows=incomplete,
        file_columns=dataset.columns,
        missing_values=schema.missing_values,
        rules=schema.rules,
        schema_declared=schema.declared,
        additional_columns=schema.additional_columns,
        examples={name: state.examples for name, state in states.items() if state.examples},
    )


def reduce_column_profile(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> ColumnProfile:
    """Count each column's missing, NaN and infinite values, with or without a schema (the `column_profile` kind)."""
    return _profile(datasets[spec.roles[0]], spec, chunk_rows, need_schema=False)


def reduce_schema_profile(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> ColumnProfile:
    """Profile the columns against the dataset's declared schema (the `schema_profile` kind)."""
    return _profile(datasets[spec.roles[0]], spec, chunk_rows, need_schema=True)


# Duplicate rows

# Two 16-byte keys of pandas' SipHash-based row hash; together they give a 128-bit hash per row.
_HASH_KEYS = ("govdsl-rows-key1", "govdsl-rows-key2")


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """Return a 128-bit hash of each row's values, as 16-byte void scalars that sort and compare."""
    halves = [pd.util.hash_pandas_object(frame, index=False, hash_key=key).to_numpy() for key in _HASH_KEYS]
    return np.ascontiguousarray(np.stack(halves, axis=1)).view("V16").ravel()


class SeenRows:
    """The hashes of the distinct rows seen so far, each with the row number where it first occurred.

    The hashes are kept as sorted runs whose sizes at least double from the newest to
    the oldest, like a binary counter, so adding n rows costs O(n log n). Memory is 24
    bytes per distinct row (16 for the hash, 8 for the row number), plus the temporary
    copy of one merge.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.peak_bytes = 0

    def first_rows(self, keys: np.ndarray) -> np.ndarray:
        """Return, for each key, the row where it first occurred, or -1 for a key not seen yet."""
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_rows in self.runs:
            positions = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hits = run_keys[positions] == keys
            found[hits] = run_rows[positions[hits]]
        return found

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Add sorted keys that no run contains yet."""
        if not len(keys):
            return
        self.runs.append((keys, rows))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (older_keys, older_rows), (newer_keys, newer_rows) = self.runs[-2], self.runs[-1]
            merged_keys = np.concatenate([older_keys, newer_keys])
            order = np.argsort(merged_keys, kind="stable")
            self.runs[-2:] = [(merged_keys[order], np.concatenate([older_rows, newer_rows])[order])]
        index_bytes = sum(k.nbytes + r.nbytes for k, r in self.runs)
        self.peak_bytes = max(self.peak_bytes, index_bytes)


def reduce_duplicate_rows(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> DuplicateCounts:
    """Count the rows whose values in the selected columns repeat an earlier row exactly (the `duplicate_rows` kind).

    Rows are compared through a 128-bit hash of their values as read (text in CSV), so
    `1` and `1.0` differ. Two distinct rows share a hash with a probability of about
    n^2 / 2^129 for n rows, below 1e-20 for a billion rows.
    """
    dataset = datasets[spec.roles[0]]
    columns = selected_columns(dataset, spec)
    if not columns:
        raise EvidenceMissing(f"no columns of dataset `{dataset.name}` are left to compare after `exclude`")
    seen = SeenRows()
    rows = duplicates = 0
    examples: list[tuple[int, int]] = []
    for chunk in read_chunks(dataset, columns, chunk_rows):
        keys = row_hashes(chunk[columns])
        numbers = np.arange(rows + 1, rows + len(chunk) + 1, dtype=np.int64)
        unique, first_index, inverse = np.unique(keys, return_index=True, return_inverse=True)
        earlier = seen.first_rows(unique)
        original = np.where(earlier >= 0, earlier, numbers[first_index])[inverse.reshape(-1)]
        repeats = np.flatnonzero(original != numbers)
        duplicates += len(repeats)
        for position in repeats[: max(0, EXAMPLES_KEPT - len(examples))]:
            examples.append((int(numbers[position]), int(original[position])))
        new = earlier < 0
        seen.add(unique[new], numbers[first_index[new]])
        rows += len(chunk)
    log.debug("duplicate rows of `%s`: %d of %d, index peak %d bytes", dataset.name, duplicates, rows, seen.peak_bytes)
    return DuplicateCounts(dataset.name, rows, duplicates, tuple(columns), tuple(examples), seen.peak_bytes)


# Representation against population shares


def _population_declaration(dataset: Dataset, manifest: Manifest, feature: str) -> tuple[dict, str]:
    """Return the dataset's `population_shares` entry for a feature and where it is declared."""
    entries = manifest.declaration(dataset).get("population_shares") or []
    for index, entry in enumerate(entries):
        if entry["feature"] == feature:
            return entry, f"{dataset.key}.population_shares[{index}]"
    declared = ", ".join(f"`{e['feature']}`" for e in entries) or "none"
    raise EvidenceMissing(
        f"dataset `{dataset.name}` declares no population shares for `{feature}` (declared for: {declared})"
    )


def _population_values(entry: dict, key: str, manifest: Manifest) -> tuple[dict, str]:
    """Return the population's groups with their shares or counts as declared, and which of the two they are."""
    if "file" in entry:
        values, given_as = _population_file(manifest, entry["file"], entry.get("sha256"), f"{key}.file")
    else:
        given_as = "shares" if "shares" in entry else "counts"
        values = entry[given_as]
    for group in values:
        if isinstance(group, bool):
            raise EvidenceInvalid(
                f"group `{group}` at `{key}` is a boolean",
                "YAML reads unquoted yes, no, on, off, true and false as booleans; quote the group name",
            )
    total = float(sum(values.values()))
    if given_as == "shares" and abs(total - 1.0) > SHARE_SUM_TOLERANCE:
        raise EvidenceInvalid(
            f"the population shares at `{key}` add up to {total:.4f}, not 1",
            "list every group of the population (an `Other` group for the rest), or give `counts`,"
            " which govdsl divides by their total",
        )
    if given_as == "counts" and total <= 0:
        raise EvidenceInvalid(f"the population counts at `{key}` add up to {total:g}; they need a positive total")
    return values, given_as


def _population_file(manifest: Manifest, relative: str, declared: str | None, key: str) -> tuple[dict, str]:
    """Read a CSV of population shares or counts: a `group` column and a `share` or `count` column."""
    path = _inside(manifest.root, relative, key)
    if not path.is_file():
        raise EvidenceInvalid(f"population file `{relative}` declared at `{key}` not found", "add the file or correct the path")
    if declared is not None and file_sha256(path) != declared:
        raise EvidenceInvalid(
            f"population file `{relative}` does not match its declared SHA-256",
            f"the file's SHA-256 is {file_sha256(path)}; if the file changed on purpose, update `sha256`",
        )
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvidenceInvalid(f"cannot read population file `{relative}` as CSV: {exc}") from None
    header = set(rows[0]) if rows else set()
    value_column = None
    if "share" in header:
        value_column = "share"
    elif "count" in header:
        value_column = "count"
    if "group" not in header or value_column is None:
        raise EvidenceInvalid(
            f"population file `{relative}` needs a `group` column and a `share` or `count` column",
            "write a header line such as `group,share`",
        )
    values: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        group = (row["group"] or "").strip()
        try:
            value = float(row[value_column])
        except (TypeError, ValueError):
            value = math.nan
        if not group or not math.isfinite(value) or value < 0 or group in values:
            raise EvidenceInvalid(
                f"population file `{relative}` line {line}: expected a new group name and a non-negative"
                f" {value_column}, found `{row['group']}`, `{row[value_column]}`"
            )
        values[group] = value
    return values, "shares" if value_column == "share" else "counts"


def _match_groups(counts: dict[str, int], values: dict) -> tuple[dict[str, int], dict[str, float]]:
    """Name each population group as the data writes it.

    A text key matches the same text. A number key, as YAML reads `1:`, matches every
    value of the data that is that number, such as `1` and `1.0`, which then count as
    one group.
    """
    counts = dict(counts)
    matched: dict[str, float] = {}
    for group, value in values.items():
        if not isinstance(group, (int, float)):
            matched[str(group).strip()] = float(value)
            continue
        names = [text for text in counts if _as_number(text) == float(group)]
        if not names:
            matched[_number_text(group)] = float(value)
            continue
        for name in names[1:]:
            counts[names[0]] += counts.pop(name)
        matched[names[0]] = float(value)
    return counts, matched


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def reduce_group_shares(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> GroupShares:
    """Count the rows per value of one feature, beside the population shares the bundle declares (the `group_shares` kind)."""
    dataset = datasets[spec.roles[0]]
    if len(spec.features) != 1:
        raise EvidenceMissing(
            f"representation compares one feature with its population shares, not {len(spec.features)}"
            f" ({', '.join(spec.features)})"
        )
    (feature,) = spec.features

    manifest = read_manifest(dataset)
    entry, key = _population_declaration(dataset, manifest, feature)
    values, given_as = _population_values(entry, key, manifest)
    if not dataset.has_column(feature):
        raise EvidenceInvalid(
            f"column `{feature}` of the population shares at `{key}` is not in `{dataset.relative_path}`",
            f"columns in the file: {', '.join(dataset.columns)}",
        )
    markers = frozenset(m.strip() for m in read_schema(dataset, manifest.declaration(dataset)).missing_values if m.strip())

    counts: dict[str, int] = {}
    missing = 0
    for chunk in read_chunks(dataset, [feature], chunk_rows):
        column = chunk[feature]
        absent = column.isna().to_numpy(dtype=bool)
        texts = _as_text(column[~absent])
        marked = texts.isin(markers)
        missing += int(absent.sum()) + int(marked.sum())
        for value, count in texts[~marked].value_counts(sort=False).items():
            counts[value] = counts.get(value, 0) + int(count)

    counts, matched = _match_groups(counts, values)
    total = sum(matched.values())
    shares = {group: value / total for group, value in matched.items()} if given_as == "counts" else matched
    population = PopulationShares(feature, entry["source"], shares, key, given_as, total, entry.get("file"))
    return GroupShares(dataset.name, feature, sum(counts.values()), missing, counts, population, (feature,))


# Evidence digests


def _declared_files(manifest: Manifest) -> list[tuple[str, str, str | None]]:
    """Return (path, key, declared SHA-256 or None) for every file that bundle.yaml declares."""
    data = manifest.data
    found: list[tuple[str, str, str | None]] = []
    for index, raw in enumerate(data.get("datasets", [])):
        found.append((raw["path"], f"datasets[{index}].path", raw.get("sha256")))
        for entry_index, entry in enumerate(raw.get("population_shares") or []):
            if "file" in entry:
                found.append((entry["file"], f"datasets[{index}].population_shares[{entry_index}].file", entry.get("sha256")))
    if isinstance(data.get("model_card"), str):
        found.append((data["model_card"], "model_card", None))
    for index, entry in enumerate(data.get("files") or []):
        found.append((entry["path"], f"files[{index}].path", entry["sha256"]))
    return found


def reduce_evidence_digests(bundle: Bundle, spec, as_of: datetime.date) -> EvidenceDigests:
    """Hash every evidence file the bundle declares, now, beside its declared SHA-256 (the `evidence_digests` kind).

    A file declared at several keys is hashed once, and every digest declared for it must match.
    """
    manifest = manifest_at(bundle.root)
    by_path: dict[Path, tuple[str, list[str], list[str]]] = {}
    for relative, key, declared in _declared_files(manifest):
        try:
            path = _inside(manifest.root, relative, key)
        except EvidenceInvalid as exc:
            raise InvalidInputError([error("E405", f"{exc} in bundle `{bundle.display_path}`", help=exc.help)]) from None
        _, keys, digests = by_path.setdefault(path, (Path(relative).as_posix(), [], []))
        keys.append(key)
        if declared is not None and declared not in digests:
            digests.append(declared)
    files = []
    for path, (display_path, keys, digests) in by_path.items():
        exists = path.is_file()
        files.append(
            FileDigest(
                path=display_path,
                declared_at=tuple(keys),
                declared=tuple(digests),
                actual=file_sha256(path) if exists else None,
                size=path.stat().st_size if exists else None,
            )
        )
    return EvidenceDigests(BUNDLE_FILE, manifest.sha256, tuple(files))


# Reported metrics


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean `{close[0]}`? " if close else ""


def _argument(parameter, value, key: str):
    """Check one argument of a reported metric as the compiler checks it in a policy; return its plan form."""
    expected = {
        FEATURES: "a column name or a non-empty list of column names",
        NUMBER: "a non-negative number",
        BOOL: "true or false",
        STRING: "a text",
    }[parameter.type]
    if parameter.type == FEATURES:
        names = [value] if isinstance(value, str) else value
        if isinstance(names, list) and names and all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
            return names
    elif parameter.type == NUMBER:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return value
    elif parameter.type == BOOL:
        if isinstance(value, bool):
            return value
    elif isinstance(value, str):
        return value
    raise EvidenceInvalid(f"argument `{parameter.name}` at `{key}` is `{value}`, but it must be {expected}")


def _reported_call(entry: dict, key: str):
    """Return the declaration and checked arguments of a reported metric, rejecting what a policy could not write."""
    name = entry["metric"]
    declaration = get_metric(name)
    if declaration is None:
        raise EvidenceInvalid(
            f"unknown metric `{name}` at `{key}.metric`",
            f"{_did_you_mean(name, list(REGISTRY))}run `govdsl metrics` to list them",
        )
    if not declaration.roles or declaration.reduction == "reported_metrics":
        raise EvidenceInvalid(
            f"metric `{name}` at `{key}.metric` reads bundle.yaml rather than a dataset, so it cannot be reported for one"
        )
    arguments = {}
    for argument, value in (entry.get("arguments") or {}).items():
        parameter = declaration.parameter(argument)
        if parameter is None:
            known = [p.name for p in declaration.parameters]
            raise EvidenceInvalid(
                f"metric `{name}` has no parameter `{argument}` (at `{key}.arguments`)",
                f"{_did_you_mean(argument, known)}`{name}` takes: {', '.join(known) or 'no arguments'}",
            )
        arguments[argument] = _argument(parameter, value, f"{key}.arguments.{argument}")
    missing = [p.name for p in declaration.parameters if p.required and p.name not in arguments]
    if missing:
        raise EvidenceInvalid(f"metric `{name}` at `{key}` needs the argument(s) {', '.join(f'`{m}`' for m in missing)}")
    if arguments.get("exclude_small") and "min_group_size" not in arguments:
        raise EvidenceInvalid(f"`exclude_small` at `{key}.arguments` needs `min_group_size`")
    return declaration, arguments


class _Recomputer:
    """Recompute reported metrics through the registry, each distinct reduction once."""

    def __init__(self, anchor: Dataset, manifest: Manifest, chunk_rows: int) -> None:
        self.anchor = anchor
        self.manifest = manifest
        self.chunk_rows = chunk_rows
        self.bundle = None
        self.tables: dict[tuple, object] = {}

    def _dataset(self, name: str | None, role: str) -> Dataset:
        """Return the named dataset, or else this dataset for its own role, or else the one dataset with the role."""
        if name is None and role == self.anchor.role or name == self.anchor.name:
            return self.anchor
        if self.bundle is None:
            self.bundle = load_bundle(self.manifest.root)
        if name is not None:
            if name not in self.bundle.datasets:
                raise EvidenceMissing(f"the bundle declares no dataset named `{name}`")
            return self.bundle.datasets[name]
        candidates = self.bundle.datasets_with_role(role)
        if len(candidates) != 1:
            found = ", ".join(d.name for d in candidates) or "none"
            raise EvidenceMissing(f"the metric needs one dataset with role `{role}` (found: {found})")
        return candidates[0]

    def table(self, declaration, arguments: dict):
        features = tuple(sorted(arguments.get("by", ())))
        options = tuple(
            (name, tuple(arguments[name]) if isinstance(arguments[name], list) else arguments[name])
            for name in sorted(declaration.reduction_arguments)
            if name in arguments
        )
        if len(declaration.roles) == 1:
            # A reported metric describes the dataset that reports it, whatever its role.
            name = arguments.get("dataset")
            chosen = {declaration.roles[0]: self.anchor if name in (None, self.anchor.name) else self._dataset(name, "")}
        else:
            chosen = {role: self._dataset(arguments.get(role), role) for role in declaration.roles}
        cache_key = (declaration.reduction, features, options, tuple((r, d.name) for r, d in chosen.items()))
        if cache_key not in self.tables:
            spec = ReductionSpec("reported", declaration.reduction, arguments.get("dataset"), features, declaration.roles, options)
            self.tables[cache_key] = reduction_function(declaration.reduction)(chosen, spec, self.chunk_rows)
        return self.tables[cache_key]


# Options passed on to implementations called with their components, by the shape of the call.
# NOTE: this mirrors `govdsl.engine.expressions.metric_value`, which this layer cannot import;
# tests/test_integrity.py checks that both compute the same values.
_OPTIONS = {
    "overall": ("confidence",),
    "per_group": ("confidence", "min_group_size", "exclude_small"),
    "between_groups": ("confidence", "min_group_size", "exclude_small", "reference"),
}


def is_per_group(declaration, arguments: dict) -> bool:
    return declaration.per_group or (declaration.kind == "overall" and "by" in arguments)


def metric_value(declaration, arguments: dict, table):
    """Compute a metric from its reduced table the way the engine does for a check."""
    if declaration.calling == "arguments":
        return declaration.load()(table, arguments)
    shape = "per_group" if is_per_group(declaration, arguments) else declaration.kind
    options = {name: arguments[name] for name in _OPTIONS.get(shape, ()) if name in arguments}
    if shape == "per_group":
        return per_group(table, declaration.components, **options)
    return declaration.load()(table, declaration.components, **options)


def _label(name: str, arguments: dict) -> str:
    """Write a metric call as a policy would, such as `selection_rate(by = "sex")`."""
    parts = []
    for argument, value in arguments.items():
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        written = str(value).lower() if isinstance(value, bool) else json.dumps(value)
        parts.append(f"{argument} = {written}")
    return f"{name}({', '.join(parts)})"


def _reported_number(value, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EvidenceInvalid(f"`{key}` is `{value}`, but a reported value is a number or null (undefined)")
    return float(value)


def _compare(entry: dict, key: str, declaration, arguments: dict, recomputer: _Recomputer) -> list[ReportedValue]:
    label = _label(declaration.name, arguments)
    reported = entry["value"]
    tolerance = entry.get("tolerance")
    source = entry.get("source")
    grouped = is_per_group(declaration, arguments)

    if grouped != isinstance(reported, dict):
        shape = "one value per group, as a mapping of group to value" if grouped else "one number"
        raise EvidenceInvalid(f"`{key}.value` does not fit metric `{declaration.name}`, which gives {shape}")
    try:
        table = recomputer.table(declaration, arguments)
    except EvidenceMissing as exc:
        if not grouped:
            number = _reported_number(reported, f"{key}.value")
            return [ReportedValue(label, f"{key}.value", number, None, str(exc), tolerance, source, False)]
        return [
            ReportedValue(f"{label}, {group}", f"{key}.value", _reported_number(v, f"{key}.value.{group}"), None, str(exc),
                          tolerance, source, False)
            for group, v in reported.items()
        ]

    value = metric_value(declaration, arguments, table)
    if not grouped:
        number = _reported_number(reported, f"{key}.value")
        return [ReportedValue(label, f"{key}.value", number, value.value, value.reason, tolerance, source)]
    features = getattr(table, "features", ())
    (component,) = declaration.components
    computed = {}
    for group in value.groups:
        name = group.key[0] if len(features) == 1 else describe_group(features, group.key)
        computed[name] = (group.rates[component], group.reasons.get(component))

    results = []
    for group, number in reported.items():
        group_key = f"{key}.value.{group}"
        if str(group) not in computed:
            found = ", ".join(f"`{g}`" for g in computed) or "none"
            reason = f"the data has no group `{group}` (groups: {found})"
            results.append(ReportedValue(f"{label}, {group}", group_key, _reported_number(number, group_key), None, reason,
                                         tolerance, source, False))
            continue
        recomputed, reason = computed[str(group)]
        results.append(ReportedValue(f"{label}, {group}", group_key, _reported_number(number, group_key), recomputed,
                                     reason or (None if recomputed is not None else "undefined for this group"),
                                     tolerance, source))
    return results


def reduce_reported_metrics(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> ReportedMetrics:
    """Recompute each metric value a dataset reports in bundle.yaml (the `reported_metrics` kind)."""
    dataset = datasets[spec.roles[0]]
    manifest = read_manifest(dataset)
    entries = manifest.declaration(dataset).get("reported_metrics")
    if not entries:
        raise EvidenceMissing(f"dataset `{dataset.name}` declares no `reported_metrics` in bundle.yaml")
    recomputer = _Recomputer(dataset, manifest, chunk_rows)
    values: list[ReportedValue] = []
    for index, entry in enumerate(entries):
        key = f"{dataset.key}.reported_metrics[{index}]"
        declaration, arguments = _reported_call(entry, key)
        values.extend(_compare(entry, key, declaration, arguments, recomputer))
    return ReportedMetrics(dataset.name, tuple(values))

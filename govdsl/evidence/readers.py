"""Chunked readers for evidence files, so memory stays bounded however large a file is.

`read_chunks` yields pandas DataFrames of at most `chunk_rows` rows from a CSV or a
Parquet dataset. Reductions add up per-chunk states, so their results do not depend
on where the chunks end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

from govdsl.evidence.bundle import Dataset

DEFAULT_CHUNK_ROWS = 250_000


class EvidenceReadError(Exception):
    """An evidence file that cannot be read past its header, or lacks a column a reduction reads."""


def read_chunks(dataset: Dataset, columns: Sequence[str], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the named columns of a dataset as DataFrames of at most `chunk_rows` rows.

    CSV values stay strings, so an id such as `007` or a label such as `1.0` reaches
    the reduction as written, and empty cells are missing values. Parquet columns keep
    their types, with three conversions so that they read like the same data in CSV:

    - String columns arrive as pandas categoricals, whose codes the group reduction
      uses directly.
    - An empty string is a missing value.
    - An integer column with missing values becomes a pandas nullable integer column,
      so that 25 stays `25` rather than `25.0`.

    Reductions must accept both kinds of column.

    Raises EvidenceReadError when a column is not in the file or the file cannot be read.
    """
    wanted = list(dict.fromkeys(columns))
    absent = [name for name in wanted if not dataset.has_column(name)]
    if absent:
        names = ", ".join(f"`{name}`" for name in absent)
        raise EvidenceReadError(
            f"column {names} is not in `{dataset.relative_path}` (columns in the file: {dataset.column_names()});"
            f" declare the column at `{dataset.key}` in bundle.yaml and add it to the file"
        )
    in_file = [dataset.column_in_file(name) for name in wanted]
    read = list(dict.fromkeys(in_file))
    if dataset.format == "parquet":
        chunks = _parquet_chunks(dataset, read, chunk_rows)
    else:
        chunks = _csv_chunks(dataset, read, chunk_rows)
    if in_file == wanted:
        yield from chunks
        return
    # Aliased columns arrive under the requested names. A column requested by its own
    # name and by an alias arrives twice.
    for chunk in chunks:
        yield pd.DataFrame({name: chunk[column] for name, column in zip(wanted, in_file)}, index=chunk.index)


def _csv_chunks(dataset: Dataset, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(
            dataset.path,
            usecols=columns,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            chunksize=chunk_rows,
        )
        with reader:
            yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise EvidenceReadError(f"cannot read `{dataset.relative_path}` as CSV: {exc}") from exc


def _parquet_chunks(dataset: Dataset, columns: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Read a Parquet file batch by batch with pyarrow; only the named columns are decoded.

    `read_dictionary` makes pyarrow return every string column dictionary-encoded,
    decoding each row group's dictionary once, so pandas receives categoricals.
    Memory use is about one row group of the named columns plus one batch.
    """
    import pyarrow
    import pyarrow.parquet

    try:
        parquet_file = pyarrow.parquet.ParquetFile(dataset.path, read_dictionary=columns)
        with parquet_file:
            for batch in parquet_file.iter_batches(batch_size=chunk_rows, columns=columns):
                yield pd.DataFrame(
                    {name: _to_pandas(batch.column(name)) for name in columns},
                    index=pd.RangeIndex(batch.num_rows),
                )
    except (pyarrow.ArrowException, OSError) as exc:
        # pyarrow's messages can span lines, such as a thrift error followed by its context.
        message = " ".join(str(exc).split())
        raise EvidenceReadError(
            f"cannot read `{dataset.relative_path}` as Parquet: {message};"
            " replace the file with a complete copy, and declare its `sha256` to detect such damage on load"
        ) from exc


def _to_pandas(array) -> pd.Series:
    """Convert one pyarrow column of a batch, keeping integers with missing values integers."""
    import pyarrow

    if pyarrow.types.is_integer(array.type) and array.null_count:
        # pandas' nullable dtypes are named like NumPy's, capitalized: int8 -> Int8, uint64 -> UInt64.
        name = str(array.type).replace("uint", "UInt").replace("int", "Int")
        return array.to_pandas(types_mapper={array.type: pd.api.types.pandas_dtype(name)}.get)
    series = array.to_pandas()
    if isinstance(series.dtype, pd.CategoricalDtype) and "" in series.cat.categories:
        series = series.cat.remove_categories([""])
    return series

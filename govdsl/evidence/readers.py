"""Chunked readers for evidence files, so memory stays bounded however large a file is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

from govdsl.evidence.bundle import Dataset

DEFAULT_CHUNK_ROWS = 250_000


class EvidenceReadError(Exception):
    """An evidence file that cannot be read past its header."""


def read_chunks(dataset: Dataset, columns: Sequence[str], chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the named columns of a dataset as string-typed DataFrames of at most `chunk_rows` rows.

    Values stay strings, so an id such as `007` or a label such as `1.0` reaches the
    reduction as written; empty cells are missing values.
    """
    try:
        reader = pd.read_csv(
            dataset.path,
            usecols=list(columns),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            chunksize=chunk_rows,
        )
        with reader:
            yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise EvidenceReadError(f"cannot read `{dataset.relative_path}`: {exc}") from exc

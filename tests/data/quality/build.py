"""Derive the data quality test files from the public data sets; run by hand, never by the tests.

    python tests/data/quality/build.py SOURCE_DIR

SOURCE_DIR holds `adult/adult.csv` and `compas/compas-scores-two-years.csv` as
described in PROVENANCE.md. The script writes `adult.csv` and `compas-raw.csv`
beside itself and prints their SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# Columns of the ProPublica COMPAS file kept for the tests: dates, counts, scores and
# columns with real missing values. Names and dates of birth are left out.
COMPAS_COLUMNS = [
    "id",
    "compas_screening_date",
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "decile_score",
    "priors_count",
    "days_b_screening_arrest",
    "c_jail_in",
    "c_jail_out",
    "c_offense_date",
    "c_arrest_date",
    "c_charge_degree",
    "is_recid",
    "r_days_from_arrest",
    "violent_recid",
    "score_text",
    "v_decile_score",
    "in_custody",
    "out_custody",
    "two_year_recid",
]


def main(source: Path) -> None:
    shutil.copyfile(source / "adult" / "adult.csv", HERE / "adult.csv")
    compas = pd.read_csv(
        source / "compas" / "compas-scores-two-years.csv", dtype=str, keep_default_na=False, na_values=[""]
    )
    compas[COMPAS_COLUMNS].to_csv(HERE / "compas-raw.csv", index=False, lineterminator="\n")
    for name in ("adult.csv", "compas-raw.csv"):
        print(name, hashlib.sha256((HERE / name).read_bytes()).hexdigest())


if __name__ == "__main__":
    main(Path(sys.argv[1]))

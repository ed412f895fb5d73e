"""Catalogs: shipped files validate, ids are exact and complete, references resolve with suggestions."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from govdsl.catalog import load_catalog_file, load_catalogs
from govdsl.catalog.model import ResolveError
from govdsl.errors import InvalidInputError
from support import REPO


@pytest.fixture(scope="module")
def catalogs():
    return load_catalogs()


def test_shipped_catalogs_load(catalogs):
    assert {"EU-AI-ACT", "NIST-AI-RMF"} <= set(catalogs.catalogs)


def test_nist_subcategory_counts(catalogs):
    nist = catalogs.catalogs["NIST-AI-RMF"]
    subcategories = [c for c in nist.clauses if re.fullmatch(r"[A-Z]+ \d+\.\d+", c)]
    by_function = Counter(c.split()[0] for c in subcategories)
    assert len(subcategories) == 72
    assert by_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}
    categories = [c for c in nist.clauses if re.fullmatch(r"[A-Z]+ \d+", c)]
    assert len(categories) == 19


def test_nist_measure_ids_exact(catalogs):
    nist = catalogs.catalogs["NIST-AI-RMF"]
    expected = [f"MEASURE 1.{i}" for i in range(1, 4)] + [f"MEASURE 2.{i}" for i in range(1, 14)]
    expected += [f"MEASURE 3.{i}" for i in range(1, 4)] + [f"MEASURE 4.{i}" for i in range(1, 4)]
    measured = [c for c in nist.clauses if re.fullmatch(r"MEASURE \d+\.\d+", c)]
    assert measured == expected


@pytest.mark.parametrize(
    "clause_id",
    ["Art.9", "Art.9(2)(a)", "Art.9(8)", "Art.10(2)(f)", "Art.10(2)(g)", "Art.10(3)", "Art.17(1)(d)", "Art.17(1)(m)"],
)
def test_eu_ai_act_ids_present(catalogs, clause_id):
    assert clause_id in catalogs.catalogs["EU-AI-ACT"].clauses


def test_eu_ai_act_points_per_paragraph(catalogs):
    eu = catalogs.catalogs["EU-AI-ACT"]
    assert len(eu.children("Art.10(2)")) == 8  # points (a) to (h)
    assert len(eu.children("Art.17(1)")) == 13  # points (a) to (m)
    assert len(eu.children("Art.9(2)")) == 4


def test_every_parent_exists(catalogs):
    for catalog in catalogs.catalogs.values():
        for clause in catalog.clauses.values():
            if clause.parent is not None:
                assert clause.parent in catalog.clauses, clause.reference


def test_id_format(catalogs):
    eu_pattern = re.compile(r"Art\.\d+(\(\d+\)(\([a-z]\)(\([ivx]+\))?)?)?")
    nist_pattern = re.compile(r"(GOVERN|MAP|MEASURE|MANAGE)( \d+(\.\d+)?)?")
    for clause_id in catalogs.catalogs["EU-AI-ACT"].clauses:
        assert eu_pattern.fullmatch(clause_id), clause_id
    for clause_id in catalogs.catalogs["NIST-AI-RMF"].clauses:
        assert nist_pattern.fullmatch(clause_id), clause_id


def test_applies_from_inherited(catalogs):
    clause = catalogs.resolve("EU-AI-ACT:Art.10(2)(f)")
    assert clause.applies_from == "2027-12-02"


@pytest.mark.parametrize(
    "written", ["EU-AI-ACT:Art.10(2)(f)", "eu-ai-act:art.10(2)(F)", "EU-AI-ACT: Art. 10 (2)(f)", " EU-AI-ACT :Art.10(2)(f)"]
)
def test_resolve_forgives_case_and_spaces(catalogs, written):
    assert catalogs.resolve(written).reference == "EU-AI-ACT:Art.10(2)(f)"


def test_resolve_nist_canonical(catalogs):
    assert catalogs.resolve("nist-ai-rmf:measure  2.11").reference == "NIST-AI-RMF:MEASURE 2.11"


def test_unknown_clause_suggests_closest(catalogs):
    with pytest.raises(ResolveError) as caught:
        catalogs.resolve("EU-AI-ACT:Art.10(2)(z)")
    assert caught.value.code == "E201"
    assert "did you mean `EU-AI-ACT:Art.10(2)" in caught.value.help


def test_unknown_framework_suggests(catalogs):
    with pytest.raises(ResolveError) as caught:
        catalogs.resolve("EU-AI-AKT:Art.10(2)(f)")
    assert caught.value.code == "E202"
    assert "did you mean `EU-AI-ACT`?" in caught.value.help


def test_reference_without_prefix(catalogs):
    with pytest.raises(ResolveError) as caught:
        catalogs.resolve("Art.10(2)(f)")
    assert caught.value.code == "E203"


def test_invalid_catalog_names_key(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "catalog: BROKEN\nname: x\nversion: '1'\nsources: [{title: t, url: 'https://example.org'}]\n"
        "clauses:\n  - id: A\n    assessable: sometimes\n    title: t\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_catalog_file(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E602"
    assert "$.clauses[0].assessable" in diagnostic.message


def test_catalog_missing_parent(tmp_path):
    path = tmp_path / "orphan.yaml"
    path.write_text(
        "catalog: ORPHAN\nname: x\nversion: '1'\nsources: [{title: t, url: 'https://example.org'}]\n"
        "clauses:\n  - {id: A.1, parent: A, assessable: technical, title: t}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_catalog_file(path)
    assert caught.value.diagnostics[0].code == "E604"


def test_catalog_files_are_in_repository():
    assert (REPO / "regulations" / "eu-ai-act.yaml").is_file()
    assert (REPO / "regulations" / "nist-ai-rmf.yaml").is_file()

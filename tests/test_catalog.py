"""Catalogs: shipped files validate, ids are exact and complete, references resolve with suggestions."""

from __future__ import annotations

import re
import shutil
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
    eu_pattern = re.compile(r"Art\.\d+(\(\d+\)(\([a-z]\)(\([ivx]+\))?)?)?|AnnexIV(\(\d+\)(\([a-z]\))?)?")
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


def test_iso_annex_a_has_38_controls(catalogs):
    iso = catalogs.catalogs["ISO-42001"]
    controls = [c for c in iso.clauses if re.fullmatch(r"A\.\d+\.\d+", c) and c not in ("A.6.1", "A.6.2")]
    controls += [c for c in iso.clauses if re.fullmatch(r"A\.6\.\d+\.\d+", c)]
    assert len(controls) == 38
    assert controls[0] == "A.2.2"
    assert "A.10.4" in controls
    objectives = [c for c in iso.clauses if re.fullmatch(r"A\.\d+", c)]
    assert objectives == [f"A.{n}" for n in range(2, 11)]


def test_iso_management_clauses(catalogs):
    iso = catalogs.catalogs["ISO-42001"]
    for clause_id in ("4", "5", "6", "7", "8", "9", "10", "4.1", "6.1.2", "9.2", "10.2"):
        assert clause_id in iso.clauses, clause_id


def test_iso_annex_b_alias(catalogs):
    assert catalogs.resolve("ISO-42001:B.6.2.4").reference == "ISO-42001:A.6.2.4"


def test_sr_supersession_recorded_both_ways(catalogs):
    old = catalogs.catalogs["SR-11-7"]
    new = catalogs.catalogs["SR-26-2"]
    assert old.superseded_by == "SR-26-2"
    assert old.superseded_on == "2026-04-17"
    assert new.supersedes == "SR-11-7"


@pytest.mark.parametrize("clause_id", ["V.1", "V.2", "V.3", "V.VENDOR", "VI.F", "VI.G"])
def test_sr_11_7_core_elements(catalogs, clause_id):
    assert clause_id in catalogs.catalogs["SR-11-7"].clauses


def test_every_catalog_has_sources_and_version(catalogs):
    for catalog in catalogs.catalogs.values():
        assert catalog.version, catalog.prefix
        assert catalog.sources, catalog.prefix
        for source in catalog.sources:
            assert source["url"].startswith("http"), catalog.prefix


def test_topics_are_short_summaries(catalogs):
    for catalog in catalogs.catalogs.values():
        for clause in catalog.clauses.values():
            assert clause.title or clause.topic, clause.reference
            assert len(clause.topic or "") <= 160, clause.reference


def test_eu_deleted_paragraph_kept(catalogs):
    clause = catalogs.resolve("EU-AI-ACT:Art.10(5)(a)")
    assert clause.status == "deleted"
    assert clause.replaced_by.startswith("Art.4a")


def test_eu_annex_iv_present(catalogs):
    eu = catalogs.catalogs["EU-AI-ACT"]
    assert eu.clauses["AnnexIV(2)(g)"].parent == "AnnexIV(2)"
    assert eu.clauses["AnnexIV(2)(g)"].assessable == "technical"
    for article in ("Art.11", "Art.12", "Art.13", "Art.14", "Art.15", "Art.72"):
        assert article in eu.clauses


def test_crosswalk_endpoints_exist_with_source(catalogs):
    (crosswalk,) = [x for x in catalogs.crosswalks if x.name == "nist-ai-rmf-to-iso-42001"]
    assert len(crosswalk.rows) == 72
    nist = catalogs.catalogs["NIST-AI-RMF"]
    iso = catalogs.catalogs["ISO-42001"]
    for from_id, to_ids, source_id, _relation in crosswalk.rows:
        assert from_id in nist.clauses
        assert source_id in crosswalk.sources
        for to_id in to_ids:
            assert to_id in iso.clauses


def test_crosswalk_links_both_directions(catalogs):
    forward = {link.related for link in catalogs.related("NIST-AI-RMF:MEASURE 2.11")}
    assert forward
    assert all(reference.startswith("ISO-42001:") for reference in forward)
    back = next(iter(forward))
    assert "NIST-AI-RMF:MEASURE 2.11" in {link.related for link in catalogs.related(back)}


def write_fixture_catalogs(folder, crosswalk_text):
    (folder / "crosswalks").mkdir()
    for name in ("fw-a.yaml", "fw-b.yaml"):
        (folder / name).write_text((REPO / "tests" / "data" / "coverage" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "crosswalks" / "bad.yaml").write_text(crosswalk_text, encoding="utf-8")


def test_crosswalk_unknown_endpoint(tmp_path):
    write_fixture_catalogs(
        tmp_path,
        "crosswalk: bad\nfrom: FW-A\nto: FW-B\nsources: [{id: S, title: t, url: 'https://example.org'}]\n"
        "mappings:\n  - {from: '1.1', to: [Z], source: S}\n",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_catalogs(str(tmp_path))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E615"
    assert "`Z`" in diagnostic.message


def test_crosswalk_row_without_listed_source(tmp_path):
    write_fixture_catalogs(
        tmp_path,
        "crosswalk: bad\nfrom: FW-A\nto: FW-B\nsources: [{id: S, title: t, url: 'https://example.org'}]\n"
        "mappings:\n  - {from: '1.1', to: [X], source: T}\n",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_catalogs(str(tmp_path))
    assert caught.value.diagnostics[0].code == "E614"


def test_duplicate_clause_id_rejected(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(
        "catalog: TWICE\nname: x\nversion: '1'\nsources: [{title: t, url: 'https://example.org'}]\n"
        "clauses:\n  - {id: A, assessable: technical, title: t}\n  - {id: A, assessable: technical, title: u}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_catalog_file(path)
    assert caught.value.diagnostics[0].code == "E603"


def test_shipped_ids_unique_per_catalog():
    import yaml

    for path in sorted((REPO / "regulations").glob("*.yaml")):
        ids = [clause["id"] for clause in yaml.safe_load(path.read_text(encoding="utf-8"))["clauses"]]
        assert len(ids) == len(set(ids)), path.name


def test_catalog_cache_hit_and_invalidation(tmp_path, monkeypatch):
    from govdsl.catalog import loader

    monkeypatch.setenv("GOVDSL_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "regulations"
    shutil.copytree(loader.resources.data_path("regulations"), folder)
    first = loader.load_catalogs.__wrapped__(str(folder))
    entries = list((tmp_path / "cache").rglob("catalogs-*.pickle"))
    assert len(entries) == 1
    # A hit gives the same catalogs without parsing.
    monkeypatch.setattr(loader, "_load_catalogs", lambda directory: pytest.fail("the cache entry was not used"))
    again = loader.load_catalogs.__wrapped__(str(folder))
    assert list(again.catalogs) == list(first.catalogs)
    assert again.catalogs["EU-AI-ACT"].clauses == first.catalogs["EU-AI-ACT"].clauses
    monkeypatch.undo()
    monkeypatch.setenv("GOVDSL_CACHE_DIR", str(tmp_path / "cache"))

    # A changed catalog file is a new key, so it is parsed and validated again.
    eu = folder / "eu-ai-act.yaml"
    eu.write_text(eu.read_text(encoding="utf-8").replace("catalog: EU-AI-ACT", "catalog: EU-AIACT", 1), encoding="utf-8")
    changed = loader.load_catalogs.__wrapped__(str(folder))
    assert "EU-AIACT" in changed.catalogs

    # A damaged entry is a miss, never an error.
    for entry in (tmp_path / "cache").rglob("catalogs-*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert "EU-AIACT" in loader.load_catalogs.__wrapped__(str(folder)).catalogs

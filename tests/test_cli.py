"""The command line end to end: outputs, exit codes, JSON schema, plan stability, import isolation."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import jsonschema
import pytest
from click.testing import CliRunner

from govdsl.cli import main
from support import COMPAS_BUNDLE, COMPAS_POLICY, REPO, RESULTS_SCHEMA, copy_bundle, make_bundle, replace_in, write_policy


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def compas_text():
    return invoke("check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04")


@pytest.fixture(scope="module")
def compas_json():
    result = invoke("check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04", "--format", "json")
    assert result.exit_code == 1
    return json.loads(result.stdout)


def test_check_compas_blocks_gate(compas_text):
    assert compas_text.exit_code == 1
    assert "Gate: BLOCKED by 3 control(s)" in compas_text.stdout


def test_check_text_policy_order(compas_text):
    out = compas_text.stdout
    assert out.index("compas_fairness.fpr_parity_race  [") < out.index("compas_fairness.fnr_parity_race  [")
    assert out.index("compas_fairness.fnr_parity_race  [") < out.index("compas_fairness.demographic_parity_race  [")


def test_check_text_shows_group_values(compas_text):
    out = compas_text.stdout
    assert "check fpr_gap: false_positive_rate_difference(by = \"race\") <= 0.1" in out
    assert "race=African-American  3175  0.4234 [0.3987, 0.4484] (641/1514)" in out
    assert "race=Caucasian         2103  0.2201 [0.1983, 0.2436] (282/1281)" in out
    assert "remediation: Examine why defendants who did not reoffend" in out


def test_check_text_aligns_group_rates(compas_text):
    rows = [line for line in compas_text.stdout.splitlines() if line.lstrip().startswith("race=") and "/" in line]
    starts = {re.search(r"\d  (\d\.\d{4} \[)", row).start(1) for row in rows}
    assert len(rows) == 18
    assert len(starts) == 1


def test_check_text_has_clause_matrix(compas_text):
    out = compas_text.stdout
    assert "Clause matrix" in out
    assert "EU-AI-ACT:Art.10(2)(f)" in out
    assert "NIST-AI-RMF:MEASURE 2.11" in out


def test_check_json_matches_schema(compas_json):
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(compas_json)


def test_check_json_fields(compas_json):
    control = next(c for c in compas_json["controls"] if c["id"] == "compas_fairness.fpr_parity_race")
    check = control["checks"][0]
    assert check["metric"] == "false_positive_rate_difference"
    assert check["arguments"] == {"by": ["race"]}
    assert check["comparison"] == {"operator": "<=", "threshold": 0.1}
    assert check["status"] == "fail"
    assert check["value"] == pytest.approx(0.5 - 2 / 23)
    groups = {g["group"]["race"]: g for g in check["groups"]}
    assert groups["African-American"]["n"] == 3175
    assert groups["African-American"]["values"]["false_positive_rate"] == pytest.approx(641 / 1514)
    assert compas_json["gate"]["decision"] == "blocked"


def test_check_json_names_manifest_and_model_card(compas_json, tmp_path):
    from govdsl.evidence.bundle import file_sha256

    assert compas_json["schema_version"] == "2.1"
    assert compas_json["bundle"]["manifest"] == {"path": "bundle.yaml", "sha256": file_sha256(COMPAS_BUNDLE / "bundle.yaml")}
    assert compas_json["bundle"]["model_card"] == {"path": "model_card.md", "sha256": file_sha256(COMPAS_BUNDLE / "model_card.md")}
    without_card = make_bundle(tmp_path, "label,prediction,group\n1,1,a\n0,0,b\n")
    result = CliRunner().invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(without_card), "--format", "json", "--no-audit"])
    assert json.loads(result.stdout)["bundle"]["model_card"] is None


def _numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, float):
        yield value


def test_check_json_null_with_reason(tmp_path):
    csv_text = "label,prediction,group\n1,1,a\n0,1,a\n1,1,b\n"
    bundle = make_bundle(tmp_path, csv_text)
    policy = write_policy(tmp_path, 'policy p { control c { check false_positive_rate_difference(by = "group") <= 0.1 } }')
    result = invoke("check", policy, "--bundle", bundle, "--format", "json")
    assert result.exit_code == 1
    assert "NaN" not in result.stdout
    data = json.loads(result.stdout)
    check = data["controls"][0]["checks"][0]
    assert check["status"] == "insufficient"
    assert check["value"] is None
    assert "group=b" in check["reason"]
    assert all(math.isfinite(number) for number in _numbers(data))
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_check_passing_gate_exits_zero(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { check demographic_parity_difference(by = "sex") <= 0.1 } }')
    result = invoke("check", policy, "--bundle", COMPAS_BUNDLE)
    assert result.exit_code == 0
    assert "Gate: PASSED" in result.stdout


def test_syntax_error_exits_two(tmp_path):
    policy = write_policy(tmp_path, 'policy p {\n  control c {\n    check f(by = "race") = 0.1\n  }\n}\n')
    result = invoke("check", policy, "--bundle", COMPAS_BUNDLE)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{policy}:3:" in result.stderr
    assert "^" in result.stderr
    assert "nothing was evaluated" in result.stderr


def test_unknown_clause_exits_two(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { maps ["EU-AI-ACT:Art.10(2)(x)"] } }')
    result = invoke("check", policy, "--bundle", COMPAS_BUNDLE)
    assert result.exit_code == 2
    assert "error[E201]: unknown clause `Art.10(2)(x)`" in result.stderr
    assert "did you mean" in result.stderr


def test_missing_column_exits_two(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "[race, sex, age_cat]", "[race, gender, age_cat]")
    result = invoke("check", COMPAS_POLICY, "--bundle", bundle)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "column `gender`" in result.stderr
    assert "datasets[0].sensitive_features[1]" in result.stderr
    assert "columns in the file: id, sex, age_cat, race" in result.stderr


def test_bad_date_is_usage_error():
    result = invoke("check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "04/12/2026")
    assert result.exit_code == 2


def test_output_file(tmp_path):
    target = tmp_path / "results.json"
    result = invoke("check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--format", "json", "-o", target)
    assert result.exit_code == 1
    assert json.loads(target.read_text(encoding="utf-8"))["gate"]["decision"] == "blocked"


def test_compile_prints_plan():
    result = invoke("compile", COMPAS_POLICY)
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert len(plan["controls"]) == 6
    kinds = {node["kind"] for node in plan["graph"]["nodes"]}
    assert kinds == {"clause", "control", "check", "reduction"}
    edge_kinds = {edge["kind"] for edge in plan["graph"]["edges"]}
    assert edge_kinds == {"maps", "has", "reads"}


def run_govdsl(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "govdsl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_compile_byte_identical_across_runs(tmp_path):
    first = run_govdsl(["compile", "policies/examples/compas.gov"], REPO)
    second = run_govdsl(["compile", "policies/examples/compas.gov"], REPO)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert str(REPO) not in first.stdout  # no machine-specific absolute paths


def test_compile_imports_no_numeric_stack(tmp_path):
    code = (
        "import sys\n"
        "from govdsl.cli import main\n"
        "try:\n"
        "    main(['compile', 'policies/examples/compas.gov', '-o', sys.argv[1]])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "loaded = sorted(m for m in ('pandas', 'numpy', 'fairlearn', 'scipy', 'sklearn') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "plan.json")], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert (tmp_path / "plan.json").is_file()


def test_help_imports_no_numeric_stack():
    code = (
        "import sys\n"
        "from govdsl.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(','.join(m for m in ('pandas', 'numpy', 'fairlearn') if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.stderr.strip() == ""


def test_module_entry_point_runs_check(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "govdsl", "check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Gate: BLOCKED" in result.stdout


def test_quiet_hides_warnings(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { check selection_rate() == 0.5 } }')
    loud = invoke("compile", policy)
    quiet = invoke("-q", "compile", policy)
    assert "warning[W312]" in loud.stderr
    assert "   |" in loud.stderr or " |" in loud.stderr  # warnings show their source line
    assert quiet.stderr == ""
    assert quiet.exit_code == 0


def test_check_hides_dated_clause_notes(tmp_path):
    result = invoke("check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04")
    verbose = invoke("-v", "check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04")
    assert "I207" not in result.stderr
    assert "info[I207]" in verbose.stderr


def test_metrics_command_lists_registry():
    result = invoke("metrics")
    assert result.exit_code == 0
    assert "equalized_odds_difference" in result.stdout
    assert invoke("metric", "demographic_parity_ratio").exit_code == 0
    unknown = invoke("metric", "demographic_parity_ration")
    assert unknown.exit_code == 2
    assert "did you mean `demographic_parity_ratio`?" in unknown.stderr


def test_unwritable_output_exits_two(tmp_path):
    result = invoke("compile", COMPAS_POLICY, "-o", tmp_path / "missing" / "plan.json")
    assert result.exit_code == 2
    assert "error[E503]" in result.stderr


def test_catalog_list():
    result = invoke("catalog", "list")
    assert result.exit_code == 0
    for prefix in ("EU-AI-ACT", "NIST-AI-RMF", "ISO-42001", "SR-11-7", "SR-26-2"):
        assert prefix in result.stdout
    assert "superseded by SR-26-2" in result.stdout
    data = json.loads(invoke("catalog", "list", "--format", "json").stdout)
    assert {c["framework"] for c in data["catalogs"]} >= {"EU-AI-ACT", "ISO-42001"}


def test_catalog_show_clause():
    result = invoke("catalog", "show", "nist-ai-rmf:measure 2.11")
    assert result.exit_code == 0
    assert result.stdout.startswith("NIST-AI-RMF:MEASURE 2.11\n")
    assert "parent: NIST-AI-RMF:MEASURE 2" in result.stdout
    assert "assessable: technical" in result.stdout
    assert "crosswalk: ISO-42001:" in result.stdout


def test_catalog_show_framework():
    result = invoke("catalog", "show", "EU-AI-ACT")
    assert result.exit_code == 0
    assert "applies from 2027-12-02" in result.stdout
    assert "Art.10(2)(f)" in result.stdout


def test_catalog_show_unknown_clause():
    result = invoke("catalog", "show", "EU-AI-ACT:Art.10(2)(q)")
    assert result.exit_code == 2
    assert "did you mean" in result.stderr


def test_coverage_command_formats():
    text = invoke("coverage", COMPAS_POLICY, "--as-of", "2026-12-04")
    assert text.exit_code == 0
    assert "EU-AI-ACT: EU Artificial Intelligence Act (Regulation (EU) 2024/1689)\n" in text.stdout
    assert "uncovered" in text.stdout
    data = json.loads(invoke("coverage", COMPAS_POLICY, "--format", "json").stdout)
    assert [f["framework"] for f in data["frameworks"]] == ["EU-AI-ACT", "NIST-AI-RMF"]
    nist = data["frameworks"][1]
    assert nist["overall"]["total"] == 72
    assert nist["overall"]["covered"] == 1
    csv_text = invoke("coverage", COMPAS_POLICY, "--format", "csv", "--framework", "ISO-42001").stdout
    assert csv_text.startswith("framework,superseded_by,clause,")
    assert "compas_fairness." in csv_text  # derived through the NIST to ISO crosswalk
    markdown = invoke("coverage", COMPAS_POLICY, "--format", "markdown").stdout
    assert markdown.startswith("## EU-AI-ACT")


def test_coverage_minimum_exit_codes():
    assert invoke("coverage", COMPAS_POLICY, "--min-coverage", "1").exit_code == 0
    low = invoke("coverage", COMPAS_POLICY, "--min-coverage", "50")
    assert low.exit_code == 1
    assert "Coverage below the minimum of 50%" in low.stdout


def test_coverage_unknown_framework():
    result = invoke("coverage", COMPAS_POLICY, "--framework", "GDPR")
    assert result.exit_code == 2
    assert "unknown framework `GDPR`" in result.stderr


def test_superseded_reference_warns(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { maps ["SR-11-7:V.3"] check selection_rate() <= 1 } }')
    result = invoke("compile", policy)
    assert result.exit_code == 0
    assert "warning[W206]" in result.stderr
    assert "superseded by SR-26-2 since 2026-04-17" in result.stderr


def test_check_marks_deleted_and_superseded(tmp_path):
    policy = write_policy(
        tmp_path,
        'policy p { control c { maps ["EU-AI-ACT:Art.10(5)(a)", "SR-11-7:V.3", "EU-AI-ACT:Art.9(8)", "EU-AI-ACT:Art.10(2)(f)"]'
        " check selection_rate() <= 1 } }",
    )
    result = invoke("check", policy, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04", "--format", "json")
    clauses = json.loads(result.stdout)["clauses"]
    by_reference = {c["reference"]: c for c in clauses}
    assert by_reference["EU-AI-ACT:Art.10(5)(a)"]["clause_status"] == "deleted"
    assert by_reference["SR-11-7:V.3"]["superseded_by"] == "SR-26-2"
    order = [c["reference"] for c in clauses]
    assert order.index("EU-AI-ACT:Art.9(8)") < order.index("EU-AI-ACT:Art.10(2)(f)")  # document order


def test_catalog_show_unknown_framework_suggests():
    result = invoke("catalog", "show", "EU-AI-ACTS")
    assert result.exit_code == 2
    assert "did you mean `EU-AI-ACT`?" in result.stderr
    assert "--framework" not in result.stderr


def test_min_coverage_rejects_nan():
    assert invoke("coverage", COMPAS_POLICY, "--min-coverage", "nan").exit_code == 2


def test_min_coverage_note_for_csv():
    result = invoke("coverage", COMPAS_POLICY, "--format", "csv", "--min-coverage", "50")
    assert result.exit_code == 1
    assert "coverage below the minimum of 50%" in result.stderr


BOM_POLICY = '\ufeffpolicy p {\n  version "1.0.0"\n\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n    check accuracy() >= 0.7\n  }\n}\n'


def test_policy_with_byte_order_mark_compiles(tmp_path):
    path = tmp_path / "bom.gov"
    path.write_text(BOM_POLICY, encoding="utf-8")
    result = CliRunner().invoke(main, ["compile", str(path), "-o", str(tmp_path / "plan.json")])
    assert result.exit_code == 0, result.output
    controls = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["controls"]
    assert [control["id"] for control in controls] == ["p.gap"]


def test_fmt_keeps_byte_order_mark(tmp_path):
    path = tmp_path / "bom.gov"
    path.write_text(BOM_POLICY.replace("\n\n  control", "\n  control"), encoding="utf-8")
    check = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    rewrite = CliRunner().invoke(main, ["fmt", str(path)])
    again = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert check.exit_code == 1
    assert rewrite.exit_code == 0
    assert path.read_text(encoding="utf-8") == BOM_POLICY
    assert again.exit_code == 0


def test_fmt_diff_marks_missing_final_newline(tmp_path):
    path = tmp_path / "p.gov"
    path.write_text(BOM_POLICY[1:].rstrip("\n"), encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert "-}\n\\ No newline at end of file\n+}\n" in result.stdout


def test_number_too_large_is_error(tmp_path):
    path = write_policy(tmp_path, BOM_POLICY[1:].replace(">= 0.7", ">= 1e999"))
    result = CliRunner().invoke(main, ["compile", str(path)])
    assert result.exit_code == 2
    assert "error[E323]: number `1e999` is too large" in result.stderr
    assert "W305" not in result.stderr
    assert "internal error" not in result.stderr


def test_closed_pipe_stops_quietly():
    completed = subprocess.run(
        f"{sys.executable} -m govdsl rule | head -n 1", shell=True, capture_output=True, text=True, check=False
    )
    assert completed.stdout.count("\n") == 1
    assert completed.stderr == ""


def test_unwritable_output_stops_before_audit(tmp_path):
    log_path = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(
        main,
        ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--audit-log", str(log_path), "-o", str(tmp_path / "missing" / "r.json")],
    )
    assert result.exit_code == 2
    assert "the folder of" in result.stderr
    assert not log_path.exists()


def test_params_file_problems_point_at_their_lines(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("compas_fairness:\n  max_gap: 0.1\nmax_eror: 3\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--no-audit", "--params", str(params)]
    )
    assert result.exit_code == 2
    assert f"error[E705]: unknown parameter `max_eror` from the file {params}\n --> {params}:3:1" in result.stderr
    assert f" --> {params}:2:3" in result.stderr

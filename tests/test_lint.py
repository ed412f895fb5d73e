"""`govdsl lint`: every rule's examples, suppressions, configuration, SARIF, GitHub annotations and the rule docs."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from govdsl.cli import main
from govdsl.lint.codes import COMPILER_CODES
from govdsl.lint.engine import lint_paths
from govdsl.lint.output import rule_markdown, rules_index_markdown
from govdsl.lint.rules import RULES
from support import COMPAS_POLICY, REPO

# After the EU AI Act's high-risk obligations apply, so only I207's own example raises I207.
LATER = datetime.date(2028, 1, 1)
EARLIER = datetime.date(2026, 12, 1)
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
BASE = 'policy base {\n  control documented {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.11(1)"]\n' \
       '    remediation "Write the documentation."\n    require model_card section "Model Details"\n  }\n}\n'
# A clean policy that defines the control `p.gap` the waiver examples name.
WAIVED_POLICY = 'policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n' \
                '    waivable_by ["cro"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n'


def lint_example(tmp_path, rule, which: str) -> set[str]:
    text = getattr(rule, which)
    as_of = EARLIER if rule.code == "I207" else LATER
    if rule.example_kind == "waivers":
        (tmp_path / "policy.gov").write_text(WAIVED_POLICY, encoding="utf-8")
        (tmp_path / "waivers.yaml").write_text(text, encoding="utf-8")
        paths = [str(tmp_path / "policy.gov"), str(tmp_path / "waivers.yaml")]
    else:
        (tmp_path / "base.gov").write_text(BASE, encoding="utf-8")
        (tmp_path / "example.gov").write_text(text, encoding="utf-8")
        paths = [str(tmp_path / "example.gov")]
    return {d.code for d in lint_paths(paths, as_of=as_of).findings}


EXAMPLE_RULES = [code for code, rule in sorted(RULES.items()) if rule.bad]


@pytest.mark.parametrize("code", EXAMPLE_RULES)
def test_bad_example_raises_exactly_its_rule(tmp_path, code):
    assert lint_example(tmp_path, RULES[code], "bad") == {code}


@pytest.mark.parametrize("code", EXAMPLE_RULES)
def test_good_example_raises_nothing(tmp_path, code):
    assert lint_example(tmp_path, RULES[code], "good") == set()


def test_every_rule_is_documented():
    for rule in RULES.values():
        for text in (rule.summary, rule.finds, rule.why, rule.limitations):
            assert text.strip(), rule.code
        assert rule.code[0] in "LWEI" and rule.code[1:].isdigit()


def write(tmp_path, text: str, name: str = "policy.gov") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return str(path)


CONTROL_WITHOUT_OWNER = """
policy p {
  control gap {%s
    maps ["EU-AI-ACT:Art.15(1)"]
    remediation "Retrain."
    check accuracy() >= 0.8
  }
}
"""


def codes(path: str, **options) -> list[str]:
    return [d.code for d in lint_paths([path], as_of=LATER, **options).findings]


def test_suppression_on_the_control_line(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "  # govdsl: ignore[L403]: owned by the platform team")
    # The comment sits after `{`, on the control's first line: it covers the control.
    assert codes(path) == []


def test_suppression_on_the_line_above(tmp_path):
    text = CONTROL_WITHOUT_OWNER.replace("  control gap {%s", "  # govdsl: ignore[L403]: owned by the platform team\n  control gap {")
    assert codes(write(tmp_path, text)) == []


def test_suppression_without_reason_and_unused(tmp_path):
    assert codes(write(tmp_path, CONTROL_WITHOUT_OWNER % "  # govdsl: ignore[L403]")) == ["L901"]
    unused = CONTROL_WITHOUT_OWNER % '  # govdsl: ignore[L403, L101]: owned elsewhere'
    assert codes(write(tmp_path, unused, "unused.gov")) == ["L902"]


def test_suppression_on_one_line_only(tmp_path):
    text = """
    policy p {
      control gap {
        owner "risk@example.org"
        maps ["EU-AI-ACT:Art.15(1)"]
        remediation "Retrain."
        check demographic_parity_ratio(by = "race") >= 0.8  # govdsl: ignore[L501]: groups are fixed-size strata
        check demographic_parity_difference(by = "race") <= 0.1
      }
    }
    """
    findings = lint_paths([write(tmp_path, text)], as_of=LATER).findings
    assert [(d.code, d.span.line) for d in findings] == [("L501", 7)]


def test_select_ignore_and_prefixes(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    assert codes(path) == ["L403"]
    assert codes(path, select=("L1",)) == []
    assert codes(path, ignore=("L4",)) == []
    assert codes(path, select=("L403",)) == ["L403"]


def test_compile_errors_are_findings(tmp_path):
    path = write(tmp_path, "policy p {\n  control c {\n    check accuracy( >= 0.8\n  }\n}\n")
    result = CliRunner().invoke(main, ["lint", path])
    assert result.exit_code == 1
    assert "error[E0" in result.stderr or "error[E0" in result.stdout


def test_cli_exit_codes_and_fail_level(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    runner = CliRunner()
    assert runner.invoke(main, ["lint", path, "--as-of", "2028-01-01"]).exit_code == 1
    assert runner.invoke(main, ["lint", path, "--as-of", "2028-01-01", "--fail-level", "error"]).exit_code == 0
    clean = write(tmp_path, WAIVED_POLICY, "clean.gov")
    result = runner.invoke(main, ["lint", clean, "--as-of", "2028-01-01"])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.stdout


def test_pyproject_settings(tmp_path, monkeypatch):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    (tmp_path / "pyproject.toml").write_text('[tool.govdsl.lint]\nignore = ["L403"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["lint", path, "--as-of", "2028-01-01"]).exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[tool.govdsl.lint]\nfail-level = "error"\n', encoding="utf-8")
    assert CliRunner().invoke(main, ["lint", path, "--as-of", "2028-01-01"]).exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[tool.govdsl.lint]\nfail-level = "loud"\n', encoding="utf-8")
    bad = CliRunner().invoke(main, ["lint", path])
    assert bad.exit_code == 2
    assert "fail-level" in bad.stderr


def test_sarif_is_valid(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    result = CliRunner().invoke(main, ["lint", path, str(COMPAS_POLICY), "--format", "sarif"])
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["L403"]["help"]["markdown"].startswith("# L403 blocking-without-owner")
    first = run["results"][0]
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == first["ruleId"]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith(".gov")
    assert location["region"]["startLine"] >= 1


def test_github_annotations(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    result = CliRunner().invoke(main, ["lint", path, "--format", "github", "--as-of", "2028-01-01"])
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"::warning file={path},line=2,col=11,endLine=2,endColumn=14,title=L403 blocking-without-owner::")


def test_waiver_files_linted_with_policies(tmp_path):
    policy = write(tmp_path, WAIVED_POLICY)
    waivers = write(tmp_path, RULES["L602"].bad, "waivers.yaml")
    findings = lint_paths([policy, waivers], as_of=LATER).findings
    (diagnostic,) = findings
    assert diagnostic.code == "L602"
    assert "did you mean `p.gap`" in diagnostic.help
    assert diagnostic.span.line == 4


def test_drift_rule_needs_bundle(tmp_path):
    drift = [d for d in RULES if d == "L502"]
    assert drift == ["L502"]
    from govdsl.metrics.registry import REGISTRY

    names = [d.name for d in REGISTRY.values() if "reference" in d.roles]
    if not names:
        pytest.skip("no metric reads reference data yet")
    metric = names[0]
    declaration = REGISTRY[metric]
    required = [p for p in declaration.parameters if p.required]
    arguments = ", ".join(f'{p.name} = "x"' for p in required)
    text = (
        'policy p {\n  control drift {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
        f'    remediation "Retrain."\n    check {metric}({arguments}) >= 0\n  }}\n}}\n'
    )
    path = write(tmp_path, text)
    without = {d.code for d in lint_paths([path], as_of=LATER).findings}
    assert "L502" not in without
    with_bundle = {d.code for d in lint_paths([path], as_of=LATER, bundle_roles={"predictions"}).findings}
    assert "L502" in with_bundle
    declared = {d.code for d in lint_paths([path], as_of=LATER, bundle_roles={"reference", "current"}).findings}
    assert "L502" not in declared


def test_rule_docs_are_generated(tmp_path):
    folder = REPO / "docs" / "rules"
    expected = {"README.md": rules_index_markdown()} | {f"{code}.md": rule_markdown(rule) for code, rule in RULES.items()}
    actual = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    assert actual == expected, "docs/rules is stale: run `govdsl rule --write-docs docs/rules`"


def test_rule_command(tmp_path):
    result = CliRunner().invoke(main, ["rule", "l501"])
    assert result.exit_code == 0
    assert "L501 fairness-without-min-group-size" in result.stdout
    assert "Known limitations" in result.stdout
    unknown = CliRunner().invoke(main, ["rule", "L5O1"])
    assert unknown.exit_code == 2
    assert "did you mean `L501`?" in unknown.stderr


def test_lint_imports_no_numeric_library():
    code = (
        "import sys\nfrom govdsl.cli import main\n"
        "try:\n    main(['lint', %r, '--as-of', '2028-01-01'])\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in ('pandas', 'numpy', 'fairlearn', 'scipy') if m in sys.modules]\n"
        "print('loaded:' + ','.join(loaded))\n"
    ) % str(COMPAS_POLICY)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "loaded:"


def test_cached_lint_loads_no_graph_library(tmp_path):
    # The shipped policies use `requires` without a cycle, so networkx has nothing to report.
    code = (
        "import sys\nfrom govdsl.cli import main\n"
        "try:\n    main(['lint', %r, '--fail-level', 'error'])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('loaded:' + ','.join(m for m in ('networkx', 'yaml', 'jsonschema') if m in sys.modules))\n"
    ) % str(REPO / "policies")
    env = dict(os.environ, GOVDSL_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("GOVDSL_NO_CACHE", None)
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.strip().splitlines()[-1] == "loaded:yaml,jsonschema"
    assert second.stdout.strip().splitlines()[-1] == "loaded:"


def test_typo_in_select_and_unknown_config_key(tmp_path, monkeypatch):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    typo = CliRunner().invoke(main, ["lint", path, "--select", "Z9"])
    assert typo.exit_code == 2
    assert "no lint rule or compiler diagnostic matches Z9" in typo.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.govdsl.lint]\nselct = ["L4"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    unknown = CliRunner().invoke(main, ["lint", path])
    assert unknown.exit_code == 2
    assert "unknown key(s) in [tool.govdsl.lint]" in unknown.stderr


def test_missing_paths_and_empty_folders_are_usage_errors(tmp_path):
    missing = CliRunner().invoke(main, ["lint", str(tmp_path / "none.gov")])
    assert missing.exit_code == 2
    assert "not found" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(main, ["lint", str(tmp_path / "empty")])
    assert empty.exit_code == 2
    assert "no .gov or *waiver*.yaml files" in empty.stderr


def test_compiler_code_list_matches_sources():
    # Every code the parser, compiler, catalogs and waiver checks can report, read from the source.
    folders = ["syntax", "compiler", "metrics", "catalog", "lint"]
    files = [path for folder in folders for path in (REPO / "govdsl" / folder).rglob("*.py")]
    files += [REPO / "govdsl" / "evidence" / "waivers.py", REPO / "govdsl" / "diagnostics.py"]
    found = set()
    for path in files:
        found.update(re.findall(r'"([EWI]\d{3})"', path.read_text(encoding="utf-8")))
    assert found == set(COMPILER_CODES)


@pytest.mark.parametrize("option", ["--select", "--ignore"])
@pytest.mark.parametrize("value", ["W999", "I,W9", "E0,Q1"])
def test_unknown_code_is_usage_error(tmp_path, option, value):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    result = CliRunner().invoke(main, ["lint", path, option, value])
    assert result.exit_code == 2
    assert "no lint rule or compiler diagnostic matches" in result.stderr


def test_comma_separated_codes_on_command_line(tmp_path):
    path = write(tmp_path, CONTROL_WITHOUT_OWNER % "")
    repeated = CliRunner().invoke(main, ["lint", path, "--format", "json", "--select", "L4", "--select", "W"])
    joined = CliRunner().invoke(main, ["lint", path, "--format", "json", "--select", "L4,W"])
    assert joined.exit_code == repeated.exit_code
    assert joined.stdout == repeated.stdout
    assert json.loads(joined.stdout)


def test_broken_file_does_not_hide_other_files(tmp_path):
    write(tmp_path, CONTROL_WITHOUT_OWNER % "", "a.gov")
    write(tmp_path, (CONTROL_WITHOUT_OWNER % "").replace("policy p", "policy q").replace("accuracy()", "acuracy()"), "b.gov")
    write(tmp_path, (CONTROL_WITHOUT_OWNER % "").replace("policy p", "policy r").replace(">= 0.8", "= 0.8"), "c.gov")
    found = {(Path(d.span.file).name, d.code) for d in lint_paths([str(tmp_path)], as_of=LATER).findings if d.span}
    assert ("c.gov", "E006") in found
    assert ("b.gov", "E301") in found
    assert ("a.gov", "L403") in found


def test_unreadable_policy_exits_2(tmp_path):
    path = tmp_path / "latin1.gov"
    path.write_bytes("policy p { # caf\xe9\n}\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["lint", str(path)])
    assert result.exit_code == 2
    assert "E502" in result.stdout


def test_pre_commit_lint_hook_matches_waiver_file_names():
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    pattern = re.compile(hooks["govdsl-lint"]["files"])
    matched = ["policy.gov", "policies/eu/high-risk.gov", "waivers.yaml", "config/team-waivers.yml"]
    skipped = ["waivers/settings.yaml", "pyproject.toml", "waivers.json"]
    assert [path for path in matched if pattern.search(path)] == matched
    assert [path for path in skipped if pattern.search(path)] == []


def test_settings_come_from_nearest_pyproject_above(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.govdsl]\naudit_log = "logs/audit.jsonl"\n[tool.govdsl.lint]\nselect = ["L4"]\n', encoding="utf-8")
    nested = tmp_path / "policies" / "team"
    nested.mkdir(parents=True)
    (tmp_path / "policies" / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    path = write(nested, CONTROL_WITHOUT_OWNER % "")
    monkeypatch.chdir(nested)
    from govdsl.settings import configured_settings

    settings = configured_settings()
    assert settings["lint"] == {"select": ["L4"]}
    assert settings["audit_log"] == str(tmp_path.resolve() / "logs" / "audit.jsonl")
    result = CliRunner().invoke(main, ["lint", path, "--format", "json"])
    assert {finding["code"][:2] for finding in json.loads(result.stdout)} == {"L4"}


def test_findings_in_imported_shipped_policy_are_not_reported(tmp_path):
    path = write(
        tmp_path,
        """
        import "govdsl:examples/adult.gov" as base

        policy credit_gate {
          version "1.0.0"
          control gap {
            owner "risk@example.org"
            maps ["NIST-AI-RMF:MEASURE 2.11"]
            remediation "Retrain."
            requires [base.discrimination]
            check accuracy() >= 0.7
          }
        }
        """,
    )
    findings = lint_paths([path], as_of=EARLIER).findings
    assert [d for d in findings if d.span and d.span.file.startswith("govdsl:")] == []

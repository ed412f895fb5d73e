"""Compiler passes: names, types, clauses, graph, cycles, shared reductions, and a stable plan."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.compiler import compile_policies, load_units
from govdsl.compiler.plan import CHECK, CLAUSE, CONTROL, REDUCTION
from govdsl.errors import InvalidInputError
from support import COMPAS_POLICY, write_policy


def compile_text(tmp_path, text):
    path = write_policy(tmp_path, text)
    return compile_policies([str(path)])


def compile_errors(tmp_path, text):
    with pytest.raises(InvalidInputError) as caught:
        compile_text(tmp_path, text)
    return caught.value.diagnostics


def codes(diagnostics):
    return [d.code for d in diagnostics]


def test_compas_plan_contents():
    plan, warnings = compile_policies([str(COMPAS_POLICY)], as_of=datetime.date(2026, 12, 4))
    assert codes(warnings) == ["I207", "I207"]  # Art.10(2)(f) and (g) apply from 2027-12-02
    assert len(plan.controls) == 6
    assert len(plan.checks) == 6
    control = plan.controls["compas_fairness.fpr_parity_race"]
    assert control.maps == ("EU-AI-ACT:Art.10(2)(f)", "EU-AI-ACT:Art.10(2)(g)", "NIST-AI-RMF:MEASURE 2.11")
    assert control.enforcement == "hard"
    check = plan.checks["compas_fairness.fpr_parity_race.fpr_gap"]
    metric, threshold = check.expression["operands"]
    assert metric["kind"] == "metric"
    assert metric["name"] == "false_positive_rate_difference"
    assert metric["arguments"] == {"by": ["race"]}
    assert check.expression["operators"] == ["<="]
    assert threshold["value"] == 0.1
    assert check.reductions == ("group_confusion[@predictions:race]",)


def test_reductions_shared_per_feature_set():
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    assert sorted(plan.reductions) == ["group_confusion[@predictions:race]", "group_confusion[@predictions:sex]"]
    race_checks = [c for c in plan.checks.values() if c.reductions == ("group_confusion[@predictions:race]",)]
    assert len(race_checks) == 3


def test_graph_nodes_and_edges():
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    kinds = {data["kind"] for _, data in plan.graph.nodes(data=True)}
    assert kinds == {CLAUSE, CONTROL, CHECK, REDUCTION}
    edge = plan.graph.edges["control:compas_fairness.fpr_parity_race", "clause:EU-AI-ACT:Art.10(2)(f)"]
    assert edge["kind"] == "maps"
    edge = plan.graph.edges["check:compas_fairness.fpr_parity_race.fpr_gap", "reduction:group_confusion[@predictions:race]"]
    assert edge["kind"] == "reads"


def test_plan_json_is_stable():
    first, _ = compile_policies([str(COMPAS_POLICY)])
    second, _ = compile_policies([str(COMPAS_POLICY)])
    assert first.to_json() == second.to_json()
    data = json.loads(first.to_json())
    assert data["plan_version"] == 2
    assert {"source", "target", "kind"} == set(data["graph"]["edges"][0])


def test_evaluation_order_dependencies_first(tmp_path):
    plan, _ = compile_text(
        tmp_path,
        """
        policy p {
          control late { requires [early] check selection_rate() <= 1 }
          control early { check selection_rate() <= 1 }
        }
        """,
    )
    order = plan.order
    assert order.index("control:p.early") < order.index("control:p.late")
    reduction = next(n for n in order if n.startswith("reduction:"))
    assert order.index(reduction) < order.index("check:p.early.1")
    assert plan.controls["p.late"].requires == ("p.early",)


def test_unknown_clause_suggests(tmp_path):
    (diagnostic,) = compile_errors(
        tmp_path, 'policy p { control c { maps ["EU-AI-ACT:Art.10(2)(ff)"] check selection_rate() <= 1 } }'
    )
    assert diagnostic.code == "E201"
    assert diagnostic.help == "did you mean `EU-AI-ACT:Art.10(2)(f)`?"
    assert diagnostic.span.line == 1
    assert diagnostic.span.column == 30


def test_unknown_metric_suggests(tmp_path):
    (diagnostic,) = compile_errors(tmp_path, 'policy p { control c { check false_positive_rate_diff(by = "race") <= 0.1 } }')
    assert diagnostic.code == "E301"
    assert diagnostic.help == "did you mean `false_positive_rate_difference`?"
    assert diagnostic.message == "unknown metric or function `false_positive_rate_diff`"


def test_all_errors_collected(tmp_path):
    diagnostics = compile_errors(
        tmp_path,
        """
        policy p {
          control a { severity hgh enforcement hrd maps ["NOPE:1"] requires [b2] }
          control b { check demographic_parity_difference() <= 0.1 }
        }
        """,
    )
    assert sorted(codes(diagnostics)) == ["E102", "E110", "E111", "E202", "E303"]


def test_severity_suggestion(tmp_path):
    diagnostics = compile_errors(tmp_path, "policy p { control a { severity hgh } }")
    assert diagnostics[0].help.startswith("did you mean `high`?")


def test_requires_cycle_printed(tmp_path):
    diagnostics = compile_errors(
        tmp_path,
        """
        policy p {
          control a { requires [b] }
          control b { requires [c] }
          control c { requires [a] }
        }
        """,
    )
    assert codes(diagnostics) == ["E103"]
    assert "p.a -> p.b -> p.c -> p.a" in diagnostics[0].message


def test_duplicate_control(tmp_path):
    diagnostics = compile_errors(tmp_path, "policy p { control a { } control a { } }")
    assert codes(diagnostics) == ["E101"]


def test_per_group_values_need_aggregate(tmp_path):
    (diagnostic,) = compile_errors(tmp_path, 'policy p { control c { check selection_rate(by = "race") <= 0.5 } }')
    assert diagnostic.code == "E333"
    assert "max(...)" in diagnostic.help
    assert "every g in" in diagnostic.help


def test_argument_type_checked(tmp_path):
    (diagnostic,) = compile_errors(tmp_path, "policy p { control c { check demographic_parity_ratio(by = 3) >= 0.8 } }")
    assert diagnostic.code == "E304"


def test_check_must_be_condition(tmp_path):
    (diagnostic,) = compile_errors(tmp_path, "policy p { control c { check selection_rate() } }")
    assert diagnostic.code == "E334"
    assert "not a `number`" in diagnostic.message


def test_threshold_outside_range_warns(tmp_path):
    plan, warnings = compile_text(tmp_path, 'policy p { control c { check demographic_parity_ratio(by = "race") >= 1.5 } }')
    assert codes(warnings) == ["W305"]


def test_metric_on_right_side(tmp_path):
    plan, _ = compile_text(tmp_path, 'policy p { control c { check 0.8 <= demographic_parity_ratio(by = "race") } }')
    check = plan.checks["p.c.1"]
    assert check.expression["operands"][1]["name"] == "demographic_parity_ratio"
    assert check.source == '0.8 <= demographic_parity_ratio(by = "race")'


def test_missing_policy_file(tmp_path):
    with pytest.raises(InvalidInputError) as caught:
        compile_policies([str(tmp_path / "absent.gov")])
    assert caught.value.diagnostics[0].code == "E501"


def test_shipped_policy_by_name():
    (unit,) = load_units(["govdsl:examples/compas.gov"])
    assert unit.module.policy.name.value == "compas_fairness"
    assert unit.file == "govdsl:examples/compas.gov"


def test_unknown_shipped_policy_lists_choices():
    with pytest.raises(InvalidInputError) as caught:
        load_units(["govdsl:examples/nothing.gov"])
    assert "govdsl:examples/compas.gov" in caught.value.diagnostics[0].help


def test_future_clause_info_until_date(tmp_path):
    text = 'policy p { control c { maps ["EU-AI-ACT:Art.10(2)(f)"] check selection_rate() <= 1 } }'
    path = write_policy(tmp_path, text)
    _, before = compile_policies([str(path)], as_of=datetime.date(2027, 12, 1))
    _, on_the_day = compile_policies([str(path)], as_of=datetime.date(2027, 12, 2))
    assert codes(before) == ["I207"]
    assert before[0].severity.value == "info"
    assert "2027-12-02" in before[0].message
    assert on_the_day == []


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from("abcdef"), st.lists(st.sampled_from("abcdef"), unique=True, max_size=4), max_size=6))
def test_requires_cycle_test_agrees_with_networkx(successors):
    import networkx as nx

    from govdsl.compiler.passes import _has_cycle

    graph = nx.DiGraph()
    graph.add_nodes_from(successors)
    graph.add_edges_from((source, target) for source, targets in successors.items() for target in targets)
    assert _has_cycle(successors) == (not nx.is_directed_acyclic_graph(graph))


def test_unquoted_text_suggests_quotes(tmp_path):
    (diagnostic,) = [d for d in compile_errors(
        tmp_path,
        """
        policy p {
          control c {
            maps ["EU-AI-ACT:Art.15(1)"]
            applies when model.risk_tier == high
            check accuracy() >= 0.8
          }
        }
        """,
    ) if d.is_error]
    assert diagnostic.code == "E320"
    assert diagnostic.help.startswith('a text goes in quotes, such as "high"')


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("expected_calibration_error(bins = 0)", "argument `bins` must be a whole number from 1 to 10000, not `0`"),
        ('expected_calibration_error(strategy = "quantil")', 'argument `strategy` must be "uniform" or "quantile", not "quantil"'),
        ('psi(feature = "age", bins = 2.5)', "argument `bins` must be a whole number from 2 to 10000, not `2.5`"),
        ('psi(feature = "age", epsilon = 1)', "argument `epsilon` must be a number at least 0 and below 1, not `1`"),
        ('drifted_share(features = ["age"], test = "kss")', 'argument `test` must be "psi", "ks", "chi_square", "jensen_shannon", "wasserstein" or "missing_rate", not "kss"'),
        ('selection_rate_difference(by = "g", min_group_size = 2.5)', "argument `min_group_size` must be a whole number of at least 0, not `2.5`"),
        ('selection_rate_difference(by = "g", min_group_size = -1)', "argument `min_group_size` must be a number literal"),
    ],
)
def test_metric_argument_bounds(tmp_path, call, message):
    diagnostics = compile_errors(tmp_path, f"policy p {{ control c {{ check {call} <= 0.1 }} }}")
    assert [d.message for d in diagnostics if d.is_error] == [message]


@pytest.mark.parametrize(
    "call",
    [
        "expected_calibration_error(bins = 1)",
        'psi(feature = "age", bins = 10000, epsilon = 0, binning = "equal_width")',
        'selection_rate_difference(by = "g", min_group_size = 0, confidence = 99%)',
    ],
)
def test_metric_argument_bounds_accept_edges(tmp_path, call):
    compile_text(tmp_path, f"policy p {{ control c {{ check {call} <= 0.1 }} }}")


@pytest.mark.parametrize(
    ("check", "warned"),
    [
        ("accuracy() == 0.8", True),
        ("self_approvals() == 0", False),
        ("schema_violations() == 0", False),
        ('attestation(subject = "EU-AI-ACT:Art.14(4)", role = "head_of_compliance") == 1', False),
        ('count(selection_rate(by = "g")) == 2', False),
    ],
)
def test_exact_comparison_warning_skips_counts(tmp_path, check, warned):
    _, warnings = compile_text(tmp_path, f'policy p {{ control c {{ maps ["EU-AI-ACT:Art.15(1)"]\n check {check} }} }}')
    assert ("W312" in [w.code for w in warnings]) == warned

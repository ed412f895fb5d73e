"""Results as an OSCAL assessment-results document (JSON): one finding per clause, one observation per check.

OSCAL version 1.2.1, the version that compliance-trestle 5.2 models. A clause is an
OSCAL control objective: its finding targets the clause as `objective-id` and
relates the observations of every check of the controls that map to it. Each
observation points to its evidence, the datasets, the model card, bundle.yaml and
the policy files, listed with their SHA-256 digests as back-matter resources. A
comparison with --baseline results goes to the result's remarks.

Every UUID is a version 5 UUID of the results' content and the element's place in
the document, and every timestamp is the as-of date at midnight UTC, so the same
run always yields the same document.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable

from govdsl.engine.results import CheckResult, ClauseResult, ControlResult, Results
from govdsl.report.views import (
    baseline_source,
    change_label,
    changed_controls,
    format_number,
    format_threshold,
    group_label,
    metric_move,
    model_line,
    policy_names,
    regression_rule,
)

OSCAL_VERSION = "1.2.1"
PROPERTY_NAMESPACE = "urn:govdsl:oscal"

_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PROPERTY_NAMESPACE)
_TOKEN_INVALID = re.compile(r"[^A-Za-z0-9._-]+")
_MEDIA_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet", ".gov": "text/plain"}


class _Document:
    """The state shared while one document is built: the UUID seed and the time stamp."""

    def __init__(self, results: Results) -> None:
        # The audit record describes where this run was logged, not what was found, so it does not change the UUIDs.
        evaluated = {key: value for key, value in results.to_dict().items() if key != "audit"}
        content = json.dumps(evaluated, sort_keys=True, ensure_ascii=False, allow_nan=False)
        self.seed = hashlib.sha256(content.encode("utf-8")).hexdigest()
        self.timestamp = f"{results.as_of}T00:00:00Z"

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, "\x1f".join((self.seed, *parts))))


def one_line(text: object) -> str:
    """Collapse whitespace, because OSCAL titles and property values are single lines without leading or trailing spaces."""
    return " ".join(str(text).split())


def oscal_props(pairs: Iterable[tuple[str, object]]) -> list[dict]:
    """Return OSCAL props in govdsl's namespace for the (name, value) pairs whose value is not empty."""
    props = []
    for name, value in pairs:
        text = one_line(value) if value is not None else ""
        if text:
            props.append({"name": name, "ns": PROPERTY_NAMESPACE, "value": text})
    return props


def clause_token(reference: str) -> str:
    """Return an OSCAL token for a clause reference: `EU-AI-ACT:Art.10(2)(f)` becomes `EU-AI-ACT_Art.10_2_f`."""
    token = _TOKEN_INVALID.sub("_", reference).strip("_")
    if not token or not (token[0].isalpha() or token[0] == "_"):
        token = "_" + token
    return token


def _clause_tokens(clauses: Iterable[ClauseResult]) -> dict[str, str]:
    """Give each clause a distinct token; two references that map to one token get a numbered suffix."""
    tokens: dict[str, str] = {}
    used: set[str] = set()
    for clause in clauses:
        token = clause_token(clause.reference)
        candidate, number = token, 2
        while candidate in used:
            candidate, number = f"{token}-{number}", number + 1
        used.add(candidate)
        tokens[clause.reference] = candidate
    return tokens


def _media_type(path: str) -> str | None:
    for suffix, media_type in _MEDIA_TYPES.items():
        if path.lower().endswith(suffix):
            return media_type
    return None


def _rlink(href: str, sha256: str | None) -> dict:
    rlink: dict = {"href": href}
    media_type = _media_type(href)
    if media_type:
        rlink["media-type"] = media_type
    if sha256:
        rlink["hashes"] = [{"algorithm": "SHA-256", "value": sha256}]
    return rlink


def _resources(results: Results, document: _Document) -> tuple[list[dict], dict[str, str], dict[str, str]]:
    """Return the back-matter resources and the resource UUIDs of policies and datasets by name."""
    resources, policy_uuids, dataset_uuids = [], {}, {}
    for policy in results.policies:
        resource_uuid = document.uuid("policy", policy["name"])
        policy_uuids[policy["name"]] = resource_uuid
        title = one_line(f"Policy {policy['name']} {policy.get('version') or ''}")
        resource = {
            "uuid": resource_uuid,
            "title": title,
            "description": f"The govdsl policy that defines the controls and checks of `{policy['name']}`.",
            "props": oscal_props([("kind", "policy")]),
        }
        if policy.get("file"):
            resource["rlinks"] = [_rlink(policy["file"], policy.get("sha256"))]
        resources.append(resource)
    bundle_path = str(results.bundle.get("path", "")).rstrip("/")
    for dataset in results.bundle.get("datasets", []):
        resource_uuid = document.uuid("dataset", dataset["name"])
        dataset_uuids[dataset["name"]] = resource_uuid
        href = f"{bundle_path}/{dataset['path']}" if bundle_path else dataset["path"]
        resources.append(
            {
                "uuid": resource_uuid,
                "title": one_line(f"Dataset {dataset['name']} ({dataset['path']})"),
                "description": f"Evidence file of bundle `{bundle_path}` with role `{dataset.get('role')}`.",
                "props": oscal_props([("kind", "dataset"), ("role", dataset.get("role"))]),
                "rlinks": [_rlink(href, dataset.get("sha256"))],
            }
        )
    for kind, entry, title, description in (
        ("manifest", results.bundle.get("manifest"), "Bundle manifest", "The bundle's manifest, which lists its evidence and holds the approvals and attestations."),
        ("model_card", results.bundle.get("model_card"), "Model card", "The model card of the evaluated model."),
    ):
        if not entry:
            continue
        resource_uuid = document.uuid(kind, entry["path"])
        dataset_uuids[f"#{kind}"] = resource_uuid
        href = f"{bundle_path}/{entry['path']}" if bundle_path else entry["path"]
        resources.append(
            {
                "uuid": resource_uuid,
                "title": one_line(f"{title} ({entry['path']})"),
                "description": description,
                "props": oscal_props([("kind", kind.replace("_", "-"))]),
                "rlinks": [_rlink(href, entry.get("sha256"))],
            }
        )
    return resources, policy_uuids, dataset_uuids


# The bundle files a check reads besides datasets: the model card for documentation
# metrics and model card requirements, bundle.yaml for approvals, attestations and
# the declared evidence files.
_CARD_FAMILIES = frozenset({"documentation"})
_MANIFEST_FAMILIES = frozenset({"process", "attestation", "integrity"})
_REQUIREMENT_FILES = {"model_card": "model_card", "approval": "manifest", "evidence": "manifest"}


def _bundle_files_read(check: CheckResult) -> list[str]:
    if check.kind == "require":
        kind = (check.requirement or {}).get("kind")
        return [_REQUIREMENT_FILES[kind]] if kind in _REQUIREMENT_FILES else []
    if not check.metric:
        return []
    from govdsl.metrics.registry import get_metric

    declaration = get_metric(check.metric)
    family = declaration.family if declaration is not None else None
    if family in _CARD_FAMILIES:
        return ["model_card"]
    return ["manifest"] if family in _MANIFEST_FAMILIES else []


def _evidence(check: CheckResult, control: ControlResult, policy_uuids, dataset_uuids, results: Results) -> list[dict]:
    evidence = []
    datasets = {d["name"]: d for d in results.bundle.get("datasets", [])}
    for name in [n.strip() for n in (check.dataset or "").split(",") if n.strip()]:
        if name in dataset_uuids:
            digest = datasets[name].get("sha256")
            evidence.append(
                {
                    "href": f"#{dataset_uuids[name]}",
                    "description": f"Dataset `{name}` ({datasets[name]['path']}), SHA-256 {digest}, read by this check.",
                }
            )
    for kind in _bundle_files_read(check):
        entry = results.bundle.get(kind)
        if entry and f"#{kind}" in dataset_uuids:
            name = "bundle manifest" if kind == "manifest" else "model card"
            evidence.append(
                {
                    "href": f"#{dataset_uuids[f'#{kind}']}",
                    "description": f"The {name} ({entry['path']}), SHA-256 {entry['sha256']}, read by this check.",
                }
            )
    policy = control.id.split(".", 1)[0]
    if policy in policy_uuids:
        evidence.append({"href": f"#{policy_uuids[policy]}", "description": f"Policy `{policy}`, which defines this check."})
    return evidence


def _check_remarks(check: CheckResult) -> str | None:
    lines = []
    for name, value in check.overall.items():
        lines.append(f"- overall {name}: {format_number(value)}")
    for group in check.groups:
        values = ", ".join(f"{name} {format_number(value)}" for name, value in group.values.items())
        lines.append(f"- group {group_label(group.group)} (n = {group.n}): {values}")
    if check.rows_excluded:
        lines.append(f"- {check.rows_excluded} rows without a label or prediction were left out")
    return "\n".join(lines) or None


def _observation(check: CheckResult, control: ControlResult, document: _Document, platform: str, evidence: list[dict]) -> dict:
    observation = {
        "uuid": document.uuid("observation", check.id),
        "title": one_line(f"Check {check.id}: {check.status}"),
        "description": f"{check.source}\n\n{check.message}",
        "props": oscal_props(
            [
                ("check", check.id),
                ("control", control.id),
                ("status", check.status),
                ("metric", check.metric),
                ("measured", check.measured),
                ("metric-value", None if check.metric_value is None or check.metric_value == check.value else repr(check.metric_value)),
                ("value", None if check.value is None else repr(check.value)),
                ("threshold", format_threshold(check) or None),
                ("reason", check.reason),
                ("dataset", check.dataset),
            ]
        ),
        # A `require` statement examines documents; a metric check tests data.
        "methods": ["EXAMINE" if check.kind == "require" else "TEST"],
        "origins": [{"actors": [{"type": "assessment-platform", "actor-uuid": platform}]}],
        "collected": document.timestamp,
    }
    if evidence:
        observation["relevant-evidence"] = evidence
    remarks = _check_remarks(check)
    if remarks:
        observation["remarks"] = remarks
    return observation


def _control_placeholder(control: ControlResult) -> CheckResult:
    """Stand in for the checks of a control that has none, so that the control still has an observation."""
    return CheckResult(id=control.id, kind="check", status=control.status, message=control.message, source="(no checks)")


def _objective_status(status: str) -> dict:
    """Map a clause status to OSCAL's objective status: only `pass` is satisfied."""
    if status == "pass":
        return {"state": "satisfied", "reason": "pass"}
    if status == "fail":
        return {"state": "not-satisfied", "reason": "fail"}
    return {"state": "not-satisfied", "reason": "other", "remarks": f"govdsl status `{status}`"}


def _finding(clause: ClauseResult, token: str, document: _Document, platform: str, observations: dict[str, list[str]]) -> dict:
    controls = ", ".join(f"`{control}` ({status})" for control, status in clause.controls)
    target = {
        "type": "objective-id",
        "target-id": token,
        "title": one_line(clause.reference),
        "description": clause.label,
        "status": _objective_status(clause.status),
    }
    if clause.status == "skipped":
        target["implementation-status"] = {"state": "not-applicable"}
    finding = {
        "uuid": document.uuid("finding", clause.reference),
        "title": one_line(f"{clause.reference}: {clause.status}"),
        "description": f"Clause {clause.reference} ({clause.label}) is `{clause.status}`; its controls: {controls or 'none'}.",
        "props": oscal_props(
            [
                ("clause", clause.reference),
                ("status", clause.status),
                ("assessable", clause.assessable),
                ("applies-from", clause.applies_from),
                ("clause-status", clause.clause_status),
                ("superseded-by", clause.superseded_by),
            ]
        ),
        "origins": [{"actors": [{"type": "assessment-platform", "actor-uuid": platform}]}],
        "target": target,
    }
    related = [uuid_ for control, _ in clause.controls for uuid_ in observations.get(control, [])]
    if related:
        finding["related-observations"] = [{"observation-uuid": uuid_} for uuid_ in related]
    return finding


def _gate_sentence(results: Results) -> str:
    """Say whether the gate passed and, when it is blocked, what blocks it."""
    gate = results.gate
    if gate.passed:
        return "The gate is passed."
    reasons = []
    if gate.blocking_controls:
        reasons.append(f"{len(gate.blocking_controls)} control(s): {', '.join(gate.blocking_controls)}")
    if gate.regressions:
        reasons.append(f"{len(gate.regressions)} regression(s) against the baseline: {'; '.join(gate.regressions)}")
    return f"The gate is blocked by {' and by '.join(reasons)}." if reasons else "The gate is blocked."


def _baseline_remarks(baseline: dict) -> str:
    """Describe the comparison with --baseline results in Markdown: controls whose status changed and how each value moved."""
    lines = [f"Comparison with the baseline results {baseline_source(baseline)}. {regression_rule(baseline)}", ""]
    for warning in baseline.get("warnings", []):
        lines += [f"Warning: {warning}", ""]
    changed = changed_controls(baseline)
    for control in changed:
        before = control.get("before") or "absent"
        after = control.get("after") or "removed"
        lines.append(f"- control {control['id']}: {change_label(control['change'])} ({before} in the baseline, {after} now)")
    if not changed:
        lines.append("- no control changed status")
    for metric in baseline.get("metrics", []):
        move = metric_move(metric, baseline)
        lines.append(
            f"- check {metric['check']}: {metric.get('metric')} {format_number(metric['before'])} in the baseline, "
            f"{format_number(metric['after'])} now ({metric['delta']:+.4f}{', ' + move if move else ''})"
        )
    return "\n".join(lines)


def _result(results: Results, document: _Document, policy_uuids, dataset_uuids) -> dict:
    tool = document.uuid("component", "govdsl")
    platform = document.uuid("platform", "govdsl")
    observations: list[dict] = []
    by_control: dict[str, list[str]] = {}
    for control in results.controls:
        for check in control.checks or (_control_placeholder(control),):
            evidence = _evidence(check, control, policy_uuids, dataset_uuids, results)
            observation = _observation(check, control, document, platform, evidence)
            observations.append(observation)
            by_control.setdefault(control.id, []).append(observation["uuid"])
    tokens = _clause_tokens(results.clauses)
    findings = [_finding(c, tokens[c.reference], document, platform, by_control) for c in results.clauses]

    gate = results.gate
    if tokens:
        selection = {"description": "Clauses the policies map", "include-controls": [{"control-id": t} for t in tokens.values()]}
    else:
        selection = {"description": "The policies map no clause", "include-all": {}}
    result = {
        "uuid": document.uuid("result"),
        "title": one_line(f"govdsl check of {model_line(results)}"),
        "description": (
            f"Policies {policy_names(results)} checked against bundle `{results.bundle.get('path', '')}` "
            f"as of {results.as_of}. {_gate_sentence(results)}"
        ),
        "start": document.timestamp,
        "end": document.timestamp,
        "props": oscal_props(
            [
                ("gate", gate.decision),
                ("blocking-controls", ", ".join(gate.blocking_controls)),
                ("regressions", "; ".join(gate.regressions)),
                ("baseline", results.baseline.get("file") if results.baseline else None),
                ("insufficient-relaxed", "yes" if gate.insufficient_relaxed else "no"),
                ("bundle", results.bundle.get("path")),
                ("model", model_line(results)),
                ("as-of", results.as_of),
            ]
        ),
        "local-definitions": {
            "assessment-assets": {
                "components": [
                    {
                        "uuid": tool,
                        "type": "software",
                        "title": f"govdsl {results.govdsl_version}",
                        "description": "Policy-as-code compiler and rules engine that evaluated the checks.",
                        "status": {"state": "operational"},
                    }
                ],
                "assessment-platforms": [
                    {"uuid": platform, "title": f"govdsl {results.govdsl_version}", "uses-components": [{"component-uuid": tool}]}
                ],
            }
        },
        "reviewed-controls": {"control-selections": [selection]},
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    if results.baseline is not None:
        result["remarks"] = _baseline_remarks(results.baseline)
    return result


def build_assessment_results(results: Results) -> dict:
    """Build the OSCAL document as a dict with OSCAL's hyphenated keys."""
    document = _Document(results)
    resources, policy_uuids, dataset_uuids = _resources(results, document)
    first_policy = next(iter(policy_uuids.values()), None)
    assessment = {
        "uuid": document.uuid("assessment-results"),
        "metadata": {
            "title": one_line(f"govdsl assessment results: {model_line(results)} against {policy_names(results)}"),
            "last-modified": document.timestamp,
            "version": results.as_of,
            "oscal-version": OSCAL_VERSION,
            "props": oscal_props([("govdsl-version", results.govdsl_version)]),
        },
        # govdsl has no OSCAL assessment plan: the policies are the plan, so the reference points to them.
        "import-ap": {
            "href": f"#{first_policy}" if first_policy else "#",
            "remarks": "The govdsl policies listed in back-matter are the plan of this assessment.",
        },
        "results": [_result(results, document, policy_uuids, dataset_uuids)],
    }
    if resources:
        assessment["back-matter"] = {"resources": resources}
    return {"assessment-results": assessment}


def render_oscal(results: Results) -> str:
    """Render results as OSCAL assessment-results JSON text."""
    document = build_assessment_results(results)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

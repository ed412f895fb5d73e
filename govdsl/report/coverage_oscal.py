"""A Coverage matrix as an OSCAL component-definition (JSON): what the policies implement, clause by clause.

OSCAL version 1.2.1, as in govdsl.report.oscal. The policy set is one component of
type `policy`. Each framework with at least one covered leaf clause gets a
control-implementation whose source is a back-matter resource naming the catalog
and its version. Each covered clause is an implemented-requirement whose control-id
is the clause's OSCAL token, as in the assessment results. OSCAL requires at least
one implemented-requirement per control-implementation, so uncovered clauses are
not listed: the counts of covered and not covered clauses are props of each
control-implementation, and a framework without covered clauses is a prop of the
component.

Every UUID is a version 5 UUID of the Coverage's content and the element's place in
the document. Every timestamp is the as-of date at midnight UTC. So the same policies
on the same date yield the same document.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping

from govdsl.compiler.plan import ControlSpec
from govdsl.report.coverage import ClauseRow, Coverage, FrameworkCoverage
from govdsl.report.oscal import OSCAL_VERSION, PROPERTY_NAMESPACE, clause_token, one_line, oscal_props

_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PROPERTY_NAMESPACE)


class _Document:
    """The UUID seed and the time stamp shared while one document is built."""

    def __init__(self, coverage: Coverage, controls: Mapping[str, ControlSpec]) -> None:
        described = {
            "coverage": coverage.to_dict(),
            "controls": {c: [controls[c].title, controls[c].enforcement] for c in sorted(controls)},
        }
        content = json.dumps(described, sort_keys=True, ensure_ascii=False, allow_nan=False)
        self.seed = hashlib.sha256(content.encode("utf-8")).hexdigest()
        # NOTE: a Coverage without an as-of date (compute_coverage's default) gets today's
        # date, so such documents differ from day to day. `govdsl coverage` always sets one.
        day = coverage.as_of or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        self.day = day
        self.timestamp = f"{day}T00:00:00Z"

    def uuid(self, *parts: str) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, "\x1f".join((self.seed, *parts))))


def _requirement_tokens(rows: Iterable[ClauseRow]) -> dict[str, str]:
    """Map each clause reference to its token, adding a numbered suffix when an earlier reference has the same token."""
    tokens: dict[str, str] = {}
    used: set[str] = set()
    for row in rows:
        token = clause_token(row.reference)
        candidate, number = token, 2
        while candidate in used:
            candidate, number = f"{token}-{number}", number + 1
        used.add(candidate)
        tokens[row.reference] = candidate
    return tokens


def _control_phrase(control_id: str, basis: str, controls: Mapping[str, ControlSpec]) -> str:
    spec = controls.get(control_id)
    if spec is None:
        return f"`{control_id}` (basis {basis})"
    title = f" \"{one_line(spec.title)}\"" if spec.title else ""
    return f"`{control_id}`{title} (enforcement {spec.enforcement}, basis {basis})"


def _implemented_requirement(row: ClauseRow, token: str, document: _Document, controls: Mapping[str, ControlSpec]) -> dict:
    named = [_control_phrase(c, basis, controls) for (c, _), basis in zip(row.controls, row.control_bases)]
    coverage_basis = "by evidence" if row.basis == "evidence" else "by attestation only"
    requirement = {
        "uuid": document.uuid("implemented-requirement", row.reference),
        "control-id": token,
        "description": f"Clause `{row.reference}` ({one_line(row.label)}) is covered {coverage_basis} through the govdsl controls {', '.join(named)}.",
        "props": oscal_props(
            [
                ("clause", row.reference),
                ("status", row.status),
                ("basis", row.basis),
                ("assessable", row.assessable),
                *(("control", c) for c, _ in row.controls),
            ]
        ),
    }
    if row.derived:
        links = "; ".join(f"`{d.control}` via `{d.via}` ({d.crosswalk})" for d in row.derived)
        requirement["remarks"] = f"Controls also linked through crosswalks, not counted as coverage: {links}."
    return requirement


def _control_implementation(
    framework: FrameworkCoverage, rows: list[ClauseRow], source: str, document: _Document, controls: Mapping[str, ControlSpec]
) -> dict:
    covered = [r for r in rows if r.covered]
    tokens = _requirement_tokens(covered)
    overall = framework.overall
    return {
        "uuid": document.uuid("control-implementation", framework.framework),
        "source": source,
        "description": (
            f"Leaf clauses of {one_line(framework.name)} (version {framework.version}) that the govdsl policies cover: "
            f"{overall.covered} of {overall.total}. The {overall.not_covered} clauses not covered are not "
            "implemented requirements and are not listed; parent and deleted clauses are never counted."
        ),
        "props": oscal_props(
            [
                ("framework", framework.framework),
                ("catalog-version", framework.version),
                ("superseded-by", framework.superseded_by),
                ("leaf-clauses", overall.total),
                ("covered", overall.covered),
                ("covered-by-evidence", overall.evidence),
                ("covered-by-attestation", overall.attestation),
                ("not-covered", overall.not_covered),
                ("percent-covered", overall.percent),
            ]
        ),
        "implemented-requirements": [_implemented_requirement(r, tokens[r.reference], document, controls) for r in covered],
    }


def _catalog_resource(framework: FrameworkCoverage, document: _Document) -> dict:
    return {
        "uuid": document.uuid("catalog", framework.framework),
        "title": one_line(f"{framework.name}, version {framework.version}"),
        "description": f"The govdsl clause catalog `{framework.framework}`, version {framework.version}.",
        "props": oscal_props([("kind", "catalog"), ("framework", framework.framework), ("catalog-version", framework.version)]),
    }


def _policy_resource(policy: dict, document: _Document) -> dict:
    resource = {
        "uuid": document.uuid("policy", policy["name"]),
        "title": one_line(f"Policy {policy['name']} {policy.get('version') or ''}"),
        "description": f"The govdsl policy `{policy['name']}`.",
        "props": oscal_props([("kind", "policy")]),
    }
    if policy.get("file"):
        rlink: dict = {"href": policy["file"]}
        if policy.get("sha256"):
            rlink["hashes"] = [{"algorithm": "SHA-256", "value": policy["sha256"]}]
        resource["rlinks"] = [rlink]
    return resource


def build_component_definition(coverage: Coverage, controls: Mapping[str, ControlSpec] | None = None) -> dict:
    """Build the OSCAL component-definition of a Coverage as a dict with OSCAL's hyphenated keys.

    `controls` maps control ids to their compiled specs. A requirement's description
    names the title and enforcement of each control found there, and the id alone otherwise.
    """
    controls = coverage.controls if controls is None else controls
    document = _Document(coverage, controls)
    names = ", ".join(p["name"] for p in coverage.policies) or "no policy"
    resources = [_policy_resource(p, document) for p in coverage.policies]
    implementations, without_coverage = [], []
    for framework in coverage.frameworks:
        rows = [r for r in coverage.rows if r.framework == framework.framework]
        if not any(r.covered for r in rows):
            without_coverage.append(framework.framework)
            continue
        catalog = _catalog_resource(framework, document)
        resources.append(catalog)
        implementations.append(_control_implementation(framework, rows, f"#{catalog['uuid']}", document, controls))

    component = {
        "uuid": document.uuid("component", names),
        "type": "policy",
        "title": one_line(f"govdsl policies {names}"),
        "description": (
            f"The govdsl policies {names}, whose controls are mapped to regulatory clauses. "
            "A clause is implemented when a mapped control has a check that reads evidence or attestations."
        ),
    }
    component_props = oscal_props(
        [
            *(("policy", f"{p['name']} {p.get('version') or ''}") for p in coverage.policies),
            *(("framework-without-coverage", f) for f in without_coverage),
            ("below-minimum", ", ".join(coverage.below_minimum)),
            ("min-coverage", None if coverage.min_coverage is None else f"{coverage.min_coverage:g}"),
        ]
    )
    if component_props:  # OSCAL forbids an empty props list
        component["props"] = component_props
    if implementations:
        component["control-implementations"] = implementations
    definition = {
        "uuid": document.uuid("component-definition"),
        "metadata": {
            "title": one_line(f"govdsl coverage of {names}"),
            "last-modified": document.timestamp,
            "version": document.day,
            "oscal-version": OSCAL_VERSION,
        },
        "components": [component],
    }
    if resources:
        definition["back-matter"] = {"resources": resources}
    return {"component-definition": definition}


def render_coverage_oscal(coverage: Coverage, controls: Mapping[str, ControlSpec] | None = None) -> str:
    """Render a Coverage as OSCAL component-definition JSON text."""
    document = build_component_definition(coverage, controls)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

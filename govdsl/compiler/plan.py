"""The compiled Plan: controls, checks, shared reductions, clauses and the dependency graph.

A Plan is plain data with relative paths only, so its JSON form is byte-identical
on every machine for the same policy files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import networkx as nx

PLAN_VERSION = 1

# Node kinds and edge kinds of the dependency graph.
CLAUSE, CONTROL, CHECK, REDUCTION = "clause", "control", "check", "reduction"
MAPS, HAS, READS, REQUIRES = "maps", "has", "reads", "requires"


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    version: str | None
    file: str
    sha256: str


@dataclass(frozen=True)
class ReductionSpec:
    """A pass over one dataset that many checks share, such as per-group confusion counts."""

    id: str
    kind: str
    dataset: str | None  # a bundle dataset name, or None for the dataset whose role is `predictions`
    features: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "dataset": self.dataset, "features": list(self.features)}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    control: str
    metric: str
    arguments: dict
    operator: str  # metric OPERATOR threshold, after moving the metric to the left
    threshold: float
    reduction: str
    source: str
    span: dict

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "control": self.control,
            "metric": self.metric,
            "arguments": self.arguments,
            "operator": self.operator,
            "threshold": self.threshold,
            "reduction": self.reduction,
            "source": self.source,
            "span": self.span,
        }


@dataclass(frozen=True)
class ControlSpec:
    id: str
    policy: str
    title: str | None
    description: str | None
    owner: str | None
    severity: str
    enforcement: str
    maps: tuple[str, ...]
    requires: tuple[str, ...]
    remediation: str | None
    checks: tuple[str, ...]
    span: dict

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "policy": self.policy,
            "title": self.title,
            "description": self.description,
            "owner": self.owner,
            "severity": self.severity,
            "enforcement": self.enforcement,
            "maps": list(self.maps),
            "requires": list(self.requires),
            "remediation": self.remediation,
            "checks": list(self.checks),
            "span": self.span,
        }


@dataclass(frozen=True)
class ClauseInfo:
    reference: str
    label: str
    assessable: str
    applies_from: str | None

    def to_dict(self) -> dict:
        return {
            "reference": self.reference,
            "label": self.label,
            "assessable": self.assessable,
            "applies_from": self.applies_from,
        }


@dataclass
class Plan:
    policies: list[PolicyInfo]
    controls: dict[str, ControlSpec]
    checks: dict[str, CheckSpec]
    reductions: dict[str, ReductionSpec]
    clauses: dict[str, ClauseInfo]
    graph: nx.DiGraph = field(repr=False)
    order: list[str] = field(default_factory=list)
    # Policy texts by display path, for rendering diagnostics; not part of the serialized plan.
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        nodes = [{"id": node, "kind": data["kind"]} for node, data in sorted(self.graph.nodes(data=True))]
        edges = [
            {"source": source, "target": target, "kind": data["kind"]}
            for source, target, data in sorted(self.graph.edges(data=True), key=lambda e: (e[0], e[1], e[2]["kind"]))
        ]
        return {
            "plan_version": PLAN_VERSION,
            "policies": [p.__dict__ for p in self.policies],
            "controls": [self.controls[key].to_dict() for key in sorted(self.controls)],
            "checks": [self.checks[key].to_dict() for key in sorted(self.checks)],
            "reductions": [self.reductions[key].to_dict() for key in sorted(self.reductions)],
            "clauses": [self.clauses[key].to_dict() for key in sorted(self.clauses)],
            "graph": {"nodes": nodes, "edges": edges},
            "evaluation_order": self.order,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def node_id(kind: str, name: str) -> str:
    return f"{kind}:{name}"

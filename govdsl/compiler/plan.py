"""The compiled Plan: policies, parameters, controls, checks, shared reductions, clauses and the graph.

A Plan is plain data with relative paths only, so its JSON form is byte-identical
on every machine for the same policy files. Expressions are stored as trees of
dicts with a `kind` key (see govdsl.compiler.expressions), which the engine evaluates;
parameters and applicability stay references, bound when a bundle is evaluated.

The spec classes are frozen dataclasses without slots, so their `__dict__` holds
exactly their fields. `to_dict` copies that dict instead of calling
dataclasses.asdict, which deep-copies every expression tree: the dicts returned
share the expression trees and span dicts of the plan, so copy one before changing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from govdsl.compiler import jsontext

if TYPE_CHECKING:
    import networkx as nx

PLAN_VERSION = 2

# Node kinds and edge kinds of the dependency graph.
CLAUSE, CONTROL, CHECK, REDUCTION = "clause", "control", "check", "reduction"
MAPS, HAS, READS, REQUIRES = "maps", "has", "reads", "requires"


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    version: str | None
    file: str
    sha256: str
    description: str | None = None
    applies: dict | None = None
    applies_source: str | None = None


@dataclass(frozen=True)
class ParamSpec:
    name: str  # qualified: policy.param
    type: str
    default: dict | None
    doc: str | None
    tiers: dict[str, dict]


@dataclass(frozen=True)
class ReductionSpec:
    """A pass over one dataset that many checks share, such as per-group confusion counts."""

    id: str
    kind: str
    dataset: str | None  # a bundle dataset name, or None for the dataset of each role in `roles`
    features: tuple[str, ...]
    roles: tuple[str, ...] = ("predictions",)
    # Arguments that shape the reduction, as sorted (name, value) pairs; a list value is a tuple.
    options: tuple[tuple[str, object], ...] = ()

    def option(self, name: str, default=None):
        for key, value in self.options:
            if key == name:
                return value
        return default

    def to_dict(self) -> dict:
        data = {"id": self.id, "kind": self.kind, "dataset": self.dataset, "features": list(self.features)}
        if self.roles != ("predictions",):
            data["roles"] = list(self.roles)
        if self.options:
            data["options"] = {name: list(value) if isinstance(value, tuple) else value for name, value in self.options}
        return data


@dataclass(frozen=True)
class CheckSpec:
    """A check (an expression) or a requirement (a model card section, an approval, an evidence file)."""

    id: str
    control: str
    kind: str  # "check" or "require"
    source: str
    span: dict
    expression: dict | None = None
    requirement: dict | None = None
    reductions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["reductions"] = list(self.reductions)
        return data


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
    waivable_by: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    applies: dict | None = None
    applies_source: str | None = None

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        for key in ("maps", "requires", "checks", "waivable_by", "tags", "references"):
            data[key] = list(data[key])
        return data


@dataclass(frozen=True)
class ClauseInfo:
    reference: str
    label: str
    assessable: str
    applies_from: str | None
    status: str = "in_force"  # in_force, amended or deleted
    superseded_by: str | None = None  # the successor catalog, once it has superseded this clause's catalog
    position: int = 0  # index in its catalog, for listing clauses in document order

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Plan:
    policies: list[PolicyInfo]
    controls: dict[str, ControlSpec]
    checks: dict[str, CheckSpec]
    reductions: dict[str, ReductionSpec]
    clauses: dict[str, ClauseInfo]
    # The dependency graph: node id -> node kind, and (source, target) -> edge kind.
    nodes: dict[str, str] = field(default_factory=dict, repr=False)
    edges: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    order: list[str] = field(default_factory=list)
    params: dict[str, ParamSpec] = field(default_factory=dict)
    # Policy texts by display path, for rendering diagnostics; not part of the serialized plan.
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The dependency graph as a networkx DiGraph whose nodes and edges carry a `kind` attribute."""
        # networkx takes about 0.4 s to import, so only a caller that needs the graph loads it.
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from((node, {"kind": kind}) for node, kind in self.nodes.items())
        graph.add_edges_from((source, target, {"kind": kind}) for (source, target), kind in self.edges.items())
        return graph

    def to_dict(self) -> dict:
        return self._document(copy=True)

    def to_json(self) -> str:
        # The writer writes a tuple as a list, which is all that the specs' to_dict changes,
        # so the JSON text needs no copy of each spec.
        return jsontext.dumps(self._document(copy=False)) + "\n"

    def _document(self, copy: bool) -> dict:
        """Return the plan as nested dicts: each spec as its to_dict, or without `copy` its own __dict__."""

        def spec_fields(spec) -> dict:
            return spec.to_dict() if copy else spec.__dict__

        def record_fields(record) -> dict:
            return dict(record.__dict__) if copy else record.__dict__

        nodes = [{"id": node, "kind": kind} for node, kind in sorted(self.nodes.items())]
        edges = [{"source": source, "target": target, "kind": kind} for (source, target), kind in sorted(self.edges.items())]
        return {
            "plan_version": PLAN_VERSION,
            "policies": [record_fields(p) for p in self.policies],
            "params": [record_fields(self.params[key]) for key in sorted(self.params)],
            "controls": [spec_fields(self.controls[key]) for key in sorted(self.controls)],
            "checks": [spec_fields(self.checks[key]) for key in sorted(self.checks)],
            "reductions": [self.reductions[key].to_dict() for key in sorted(self.reductions)],
            "clauses": [spec_fields(self.clauses[key]) for key in sorted(self.clauses)],
            "graph": {"nodes": nodes, "edges": edges},
            "evaluation_order": self.order,
        }


def node_id(kind: str, name: str) -> str:
    return f"{kind}:{name}"

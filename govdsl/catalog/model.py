"""Catalog data model: frameworks, their clauses, and clause-reference resolution."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


def reference_key(text: str) -> str:
    """Return the lookup key of a clause id: case and whitespace do not matter."""
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class Clause:
    catalog: str
    id: str
    parent: str | None
    title: str | None
    topic: str | None
    assessable: str
    applies_from: str | None = None
    status: str = "in_force"  # in_force, amended or deleted
    replaced_by: str | None = None
    note: str | None = None

    @property
    def reference(self) -> str:
        """The canonical reference, `FRAMEWORK:ID`."""
        return f"{self.catalog}:{self.id}"

    @property
    def label(self) -> str:
        return self.title or self.topic or ""


@dataclass
class Catalog:
    prefix: str
    name: str
    version: str
    clauses: dict[str, Clause]
    published: str | None = None
    sources: list[dict] = field(default_factory=list)
    applies_from: list[dict] = field(default_factory=list)
    supersedes: str | None = None
    superseded_by: str | None = None
    unverified: list[str] = field(default_factory=list)
    superseded_on: str | None = None
    relation_note: str | None = None
    note: str | None = None
    alias_prefixes: list[dict] = field(default_factory=list)
    path: str = ""

    def __post_init__(self) -> None:
        self._by_key = {reference_key(clause_id): clause for clause_id, clause in self.clauses.items()}
        self._children: dict[str, list[Clause]] = {}
        for clause in self.clauses.values():
            if clause.parent is not None:
                self._children.setdefault(clause.parent, []).append(clause)

    def find(self, clause_id: str) -> Clause | None:
        """Return the clause with this id, ignoring case and whitespace and applying alias prefixes."""
        key = reference_key(clause_id)
        clause = self._by_key.get(key)
        if clause is not None:
            return clause
        for alias in self.alias_prefixes:
            source = reference_key(alias["from"])
            if key.startswith(source):
                return self._by_key.get(reference_key(alias["to"]) + key[len(source) :])
        return None

    def children(self, clause_id: str) -> list[Clause]:
        return list(self._children.get(clause_id, []))

    def is_leaf(self, clause_id: str) -> bool:
        return clause_id not in self._children

    def leaves(self) -> list[Clause]:
        """Return the leaf clauses in catalog order; coverage counts these."""
        return [c for c in self.clauses.values() if self.is_leaf(c.id)]

    def root(self, clause_id: str) -> Clause:
        """Return the top-level ancestor of a clause, such as its article or function."""
        clause = self.clauses[clause_id]
        while clause.parent is not None:
            clause = self.clauses[clause.parent]
        return clause

    def ancestors(self, clause_id: str) -> list[Clause]:
        found = []
        clause = self.clauses[clause_id]
        while clause.parent is not None:
            clause = self.clauses[clause.parent]
            found.append(clause)
        return found


class ResolveError(Exception):
    """A clause reference that does not name a clause; carries a code and a help line."""

    def __init__(self, code: str, message: str, help: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help = help


class CatalogSet:
    """All loaded catalogs, keyed by framework prefix, and the crosswalks between them."""

    def __init__(self, catalogs: list[Catalog], crosswalks: list | None = None) -> None:
        self.catalogs = {c.prefix: c for c in sorted(catalogs, key=lambda c: c.prefix)}
        self._by_key = {reference_key(prefix): catalog for prefix, catalog in self.catalogs.items()}
        self.crosswalks = list(crosswalks or [])
        self._links: dict[str, list] = {}
        for crosswalk in self.crosswalks:
            for link in crosswalk.links():
                self._links.setdefault(link.reference, []).append(link)

    def related(self, reference: str) -> list:
        """Return the crosswalk links from a canonical clause reference to clauses of other frameworks."""
        return list(self._links.get(reference, []))

    def clause(self, reference: str) -> Clause:
        """Return the clause of a canonical reference; raise KeyError when there is none."""
        prefix, clause_id = reference.split(":", 1)
        return self.catalogs[prefix].clauses[clause_id]

    def resolve(self, reference: str) -> Clause:
        """Return the clause a `FRAMEWORK:ID` reference names, or raise ResolveError with a suggestion."""
        if ":" not in reference:
            raise ResolveError(
                "E203",
                f"clause reference `{reference}` has no framework prefix",
                f"write it as FRAMEWORK:ID, for example `EU-AI-ACT:Art.10(2)(f)`; frameworks: {self._prefix_list()}",
            )
        prefix, clause_id = reference.split(":", 1)
        catalog = self._by_key.get(reference_key(prefix))
        if catalog is None:
            close = difflib.get_close_matches(prefix.strip().upper(), list(self.catalogs), n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise ResolveError(
                "E202",
                f"unknown framework `{prefix.strip()}` in clause reference `{reference}`",
                f"{hint}known frameworks: {self._prefix_list()}",
            )
        clause = catalog.find(clause_id)
        if clause is None:
            raise ResolveError(
                "E201",
                f"unknown clause `{clause_id.strip()}` in {catalog.prefix} ({catalog.name})",
                self._suggest(catalog, clause_id),
            )
        return clause

    def _prefix_list(self) -> str:
        return ", ".join(self.catalogs) or "none loaded"

    @staticmethod
    def _suggest(catalog: Catalog, clause_id: str) -> str:
        keys = {reference_key(c): c for c in catalog.clauses}
        close = difflib.get_close_matches(reference_key(clause_id), list(keys), n=1, cutoff=0.6)
        if close:
            return f"did you mean `{catalog.prefix}:{keys[close[0]]}`?"
        return f"run `govdsl catalog show {catalog.prefix}` to list its clauses"

"""Render regulation catalogs and single clauses for `govdsl catalog list` and `govdsl catalog show`."""

from __future__ import annotations

import json

from govdsl.catalog.model import Catalog, CatalogSet, Clause


def catalog_summary(catalog: Catalog) -> dict:
    all_leaves = catalog.leaves()
    leaves = [c for c in all_leaves if c.status != "deleted"]
    return {
        "framework": catalog.prefix,
        "name": catalog.name,
        "version": catalog.version,
        "published": catalog.published,
        "clauses": len(catalog.clauses),
        "leaf_clauses": len(leaves),
        "technical_leaf_clauses": sum(1 for c in leaves if c.assessable == "technical"),
        "deleted_leaf_clauses": len(all_leaves) - len(leaves),
        "supersedes": catalog.supersedes,
        "superseded_by": catalog.superseded_by,
        "file": catalog.path,
    }


def render_catalog_list(catalogs: CatalogSet, output_format: str) -> str:
    summaries = [catalog_summary(c) for c in catalogs.catalogs.values()]
    if output_format == "json":
        crosswalks = [
            {"crosswalk": x.name, "from": x.from_catalog, "to": x.to_catalog, "rows": len(x.rows)} for x in catalogs.crosswalks
        ]
        return json.dumps({"catalogs": summaries, "crosswalks": crosswalks}, indent=2, sort_keys=True) + "\n"
    lines = []
    width = max(len(s["framework"]) for s in summaries)
    for s in summaries:
        status = f"; superseded by {s['superseded_by']}" if s["superseded_by"] else ""
        deleted = f", {s['deleted_leaf_clauses']} deleted" if s["deleted_leaf_clauses"] else ""
        counts = f"{s['clauses']:>4} clauses, {s['leaf_clauses']:>4} leaves ({s['technical_leaf_clauses']:>2} technical{deleted})"
        lines.append(f"{s['framework']:<{width}}  {counts:<48}  {s['name']}{status}")
    for crosswalk in catalogs.crosswalks:
        lines.append(f"crosswalk {crosswalk.name}: {crosswalk.from_catalog} -> {crosswalk.to_catalog}, {len(crosswalk.rows)} rows")
    return "\n".join(lines) + "\n"


def clause_detail(catalogs: CatalogSet, clause: Clause) -> dict:
    catalog = catalogs.catalogs[clause.catalog]
    return {
        "reference": clause.reference,
        "title": clause.title,
        "topic": clause.topic,
        "parent": f"{clause.catalog}:{clause.parent}" if clause.parent else None,
        "children": [c.reference for c in catalog.children(clause.id)],
        "assessable": clause.assessable,
        "applies_from": clause.applies_from,
        "status": clause.status,
        "replaced_by": clause.replaced_by,
        "note": clause.note,
        "catalog": catalog.name,
        "superseded_by": catalog.superseded_by,
        "crosswalk": [
            {"clause": link.related, "crosswalk": link.crosswalk, "source": link.source, "relation": link.relation}
            for link in catalogs.related(clause.reference)
        ],
    }


def render_clause(catalogs: CatalogSet, clause: Clause, output_format: str) -> str:
    detail = clause_detail(catalogs, clause)
    if output_format == "json":
        return json.dumps(detail, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    lines = [detail["reference"]]
    for key in ("title", "topic", "parent", "assessable", "applies_from", "status", "replaced_by", "note", "catalog", "superseded_by"):
        if detail[key]:
            lines.append(f"  {key.replace('_', ' ')}: {detail[key]}")
    if detail["children"]:
        lines.append(f"  children: {', '.join(detail['children'])}")
    for link in detail["crosswalk"]:
        lines.append(f"  crosswalk: {link['clause']} ({link['relation']}; {link['crosswalk']}; source: {link['source']})")
    return "\n".join(lines) + "\n"


def render_catalog(catalogs: CatalogSet, catalog: Catalog, output_format: str) -> str:
    if output_format == "json":
        data = catalog_summary(catalog) | {
            "sources": catalog.sources,
            "applies_from": catalog.applies_from,
            "unverified": catalog.unverified,
            "note": catalog.note,
            "relation_note": catalog.relation_note,
            "clause_list": [clause_detail(catalogs, c) for c in catalog.clauses.values()],
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    summary = catalog_summary(catalog)
    lines = [f"{catalog.prefix}: {catalog.name}", f"  version {catalog.version}, published {catalog.published or 'unknown'}"]
    if catalog.supersedes:
        lines.append(f"  supersedes {catalog.supersedes}")
    if catalog.superseded_by:
        lines.append(f"  superseded by {catalog.superseded_by} on {catalog.superseded_on or 'an unrecorded date'}")
    if catalog.relation_note:
        lines.append(f"  {catalog.relation_note}")
    for entry in catalog.applies_from:
        moved = f" (was {entry['replaces']})" if entry.get("replaces") else ""
        lines.append(f"  applies from {entry['date']}{moved}: {entry['scope']}")
    for source in catalog.sources:
        checked = f", checked {source['checked']}" if source.get("checked") else ", not opened"
        lines.append(f"  source: {source['title']} <{source['url']}>{checked}")
    for item in catalog.unverified:
        lines.append(f"  unverified: {item}")
    lines.append(f"  {summary['clauses']} clauses, {summary['leaf_clauses']} leaves, {summary['technical_leaf_clauses']} technical leaves")
    lines.append("")
    for clause in catalog.clauses.values():
        depth = len(catalog.ancestors(clause.id))
        flag = "" if clause.status == "in_force" else f" [{clause.status}]"
        lines.append(f"{'  ' * depth}{clause.id}  [{clause.assessable}]{flag}  {clause.label}")
    return "\n".join(lines) + "\n"

"""Inclusion and consistency proofs of an audit log as JSON documents, and their offline verification.

A proof document carries everything a verifier needs besides the record and the
checkpoints: the tree size(s), the leaf index, and the list of hashes. Verifying
needs no access to the log.
"""

from __future__ import annotations

from govdsl.audit import merkle
from govdsl.audit.log import AuditError, AuditLog

INCLUSION = "govdsl-inclusion-proof/1"
CONSISTENCY = "govdsl-consistency-proof/1"


def prove_inclusion(audit: AuditLog, index: int, size: int | None = None) -> dict:
    leaves = audit.leaves()
    size = len(leaves) if size is None else size
    if not 0 < size <= len(leaves):
        raise AuditError(f"tree size {size} is outside 1..{len(leaves)}, the records in `{audit.path}`")
    if not 0 <= index < size:
        raise AuditError(f"record index {index} is outside 0..{size - 1}")
    return {
        "format": INCLUSION,
        "index": index,
        "size": size,
        "leaf_hash": leaves[index].hex(),
        "root": merkle.root_of(leaves[:size]).hex(),
        "path": [h.hex() for h in merkle.inclusion_proof(leaves[:size], index)],
    }


def prove_consistency(audit: AuditLog, old_size: int, new_size: int) -> dict:
    leaves = audit.leaves()
    if not 0 <= old_size <= new_size <= len(leaves):
        raise AuditError(f"sizes must satisfy 0 <= OLD <= NEW <= {len(leaves)}, the records in `{audit.path}`")
    return {
        "format": CONSISTENCY,
        "old_size": old_size,
        "new_size": new_size,
        "old_root": merkle.root_of(leaves[:old_size]).hex(),
        "new_root": merkle.root_of(leaves[:new_size]).hex(),
        "path": [h.hex() for h in merkle.consistency_proof(leaves[:new_size], old_size)],
    }


def _hashes(values, what: str) -> list[bytes]:
    try:
        return [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        raise AuditError(f"{what} must be a list of hex SHA-256 hashes") from None


def _checkpoint_root(checkpoint: dict, size: int, name: str) -> bytes:
    if not isinstance(checkpoint, dict) or checkpoint.get("size") != size:
        raise AuditError(f"{name} has size {checkpoint.get('size') if isinstance(checkpoint, dict) else None}, but the proof is for size {size}")
    return _hashes([checkpoint.get("root")], f"`root` of {name}")[0]


def verify_inclusion_document(proof: dict, record_line: bytes, checkpoint: dict) -> list[str]:
    """Return the problems of an inclusion proof for a record line against a checkpoint; empty when it holds."""
    if proof.get("format") != INCLUSION:
        return [f"the proof is not a {INCLUSION} document"]
    leaf = merkle.leaf_hash(record_line.rstrip(b"\n"))
    problems = []
    if proof.get("leaf_hash") and proof["leaf_hash"] != leaf.hex():
        problems.append("the record's hash differs from the proof's leaf hash: the record was changed")
    root = _checkpoint_root(checkpoint, proof.get("size"), "the checkpoint")
    path = _hashes(proof.get("path", []), "`path`")
    if not merkle.verify_inclusion(leaf, proof.get("index", -1), proof.get("size", 0), path, root):
        problems.append(f"the record is not at index {proof.get('index')} of the tree whose root the checkpoint gives")
    return problems


def verify_consistency_document(proof: dict, old: dict, new: dict) -> list[str]:
    """Return the problems of a consistency proof between two checkpoints; empty when the old tree is a prefix of the new."""
    if proof.get("format") != CONSISTENCY:
        return [f"the proof is not a {CONSISTENCY} document"]
    old_root = _checkpoint_root(old, proof.get("old_size"), "the old checkpoint")
    new_root = _checkpoint_root(new, proof.get("new_size"), "the new checkpoint")
    path = _hashes(proof.get("path", []), "`path`")
    if not merkle.verify_consistency(proof["old_size"], proof["new_size"], old_root, new_root, path):
        return ["the old checkpoint's tree is not a prefix of the new checkpoint's tree: records were changed or removed"]
    return []

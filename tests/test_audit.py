"""The audit log: RFC 6962 hashing and proofs against published vectors and pymerkle, tamper detection, locking, CLI."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest
import rfc8785
from click.testing import CliRunner
from pymerkle import InmemoryTree

from govdsl.audit import merkle
from govdsl.audit.log import AuditError, AuditLog, verify_log
from govdsl.audit.repair import repair_torn_line
from govdsl.cli import main
from govdsl.evidence.bundle import file_sha256
from support import COMPAS_BUNDLE, COMPAS_POLICY

# Test vectors of Certificate Transparency's Merkle tree tests (certificate-transparency-go,
# merkle verifier tests): eight leaves, the roots of the first n of them, and known proofs.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf number counted from 1, tree size, audit path)
CT_INCLUSION = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (old size, new size, consistency proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
LEAVES = [merkle.leaf_hash(d) for d in CT_LEAVES]


def test_roots_match_ct_vectors():
    assert merkle.root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for size in range(1, 9):
        assert merkle.root_of(LEAVES[:size]).hex() == CT_ROOTS[size - 1], size


@pytest.mark.parametrize(("leaf", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_ct_vectors(leaf, size, path):
    proof = merkle.inclusion_proof(LEAVES[:size], leaf - 1)
    assert [h.hex() for h in proof] == path
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, proof, root)
    # Corrupted proofs, as the CT tests probe them: wrong index or size, extra or missing or flipped hashes.
    assert not merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size * 2, proof, root)
    assert not merkle.verify_inclusion(LEAVES[leaf - 1], (leaf - 1) ^ 2, size, proof, root)
    assert not merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, proof + [root], root)
    assert not merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, [root] + proof, root)
    assert not merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, proof[:-1], root)
    for index in range(len(proof)):
        flipped = list(proof)
        flipped[index] = bytes([flipped[index][0] ^ 8]) + flipped[index][1:]
        assert not merkle.verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, flipped, root)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_consistency_proofs_match_ct_vectors(old, new, path):
    proof = merkle.consistency_proof(LEAVES[:new], old)
    assert [h.hex() for h in proof] == path
    old_root, new_root = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    if proof:
        assert not merkle.verify_consistency(old, new, new_root, old_root, proof)
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(old, new, old_root, new_root, [])
        assert not merkle.verify_consistency(old + 1, new, old_root, new_root, proof)
        flipped = [bytes([proof[0][0] ^ 16]) + proof[0][1:]] + proof[1:]
        assert not merkle.verify_consistency(old, new, old_root, new_root, flipped)


def test_roots_and_paths_match_pymerkle():
    tree = InmemoryTree(algorithm="sha256")
    leaves = []
    for size in range(1, 71):
        data = f"record:{size}".encode()
        tree.append_entry(data)
        leaves.append(merkle.leaf_hash(data))
        root = merkle.root_of(leaves)
        assert root == tree.get_root(), size
        for index in range(size):
            theirs = tree.prove_inclusion(index + 1, size).serialize()["path"]
            # pymerkle's path starts with the leaf hash itself; the rest is the RFC 6962 audit path.
            assert [h.hex() for h in merkle.inclusion_proof(leaves, index)] == theirs[1:]


def test_compact_range_and_generated_consistency():
    leaves = [merkle.leaf_hash(f"data:{i}".encode()) for i in range(130)]
    tree = merkle.CompactRange()
    roots = [merkle.EMPTY_ROOT]
    for leaf in leaves:
        tree.append(leaf)
        roots.append(tree.root())
        assert roots[-1] == merkle.root_of(leaves[: tree.size])
    for old in range(0, 130, 7):
        for new in range(old, 131, 11):
            proof = merkle.consistency_proof(leaves[:new], old)
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)


# The log file


def append_many(path: str, worker: int, count: int) -> None:
    # Without fsync: this test is about the lock, and 16,000 fsyncs take minutes on slow disks.
    audit = AuditLog(path, durable=False)
    for number in range(count):
        audit.append({"worker": worker, "number": number, "text": "line\nbreak and \u00e9"})


@pytest.fixture
def audit(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for number in range(6):
        log.append({"number": number, "model": "m"})
    return log


def kinds(verification):
    return [(f.kind, f.index) for f in verification.findings]


def rewrite(audit: AuditLog, change) -> None:
    lines = audit.path.read_bytes().split(b"\n")[:-1]
    lines = change(lines)
    audit.path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_records_are_canonical_json(audit):
    first = audit.path.read_bytes().split(b"\n")[0]
    assert first == rfc8785.dumps({"model": "m", "number": 0})
    assert first == b'{"model":"m","number":0}'


def test_untouched_log_verifies(audit):
    verification = verify_log(audit)
    assert verification.ok
    assert verification.size == 6
    assert verification.root == merkle.root_of(audit.leaves()).hex()


def test_modified_record_found(audit):
    rewrite(audit, lambda lines: lines[:2] + [lines[2].replace(b'"number":2', b'"number":9')] + lines[3:])
    assert kinds(verify_log(audit)) == [("modified", 2)]


def test_deleted_inserted_reordered_found(audit):
    rewrite(audit, lambda lines: lines[:1] + lines[2:])
    assert kinds(verify_log(audit)) == [("deleted", 1)]


def test_inserted_record_found(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for number in range(4):
        log.append({"number": number})
    rewrite(log, lambda lines: lines[:2] + [b'{"number":99}'] + lines[2:])
    assert kinds(verify_log(log)) == [("inserted", 2)]


def test_reordered_records_found(audit):
    rewrite(audit, lambda lines: [lines[0], lines[1], lines[3], lines[2], lines[4], lines[5]])
    assert ("reordered", 2) in kinds(verify_log(audit)) or ("reordered", 3) in kinds(verify_log(audit))
    assert all(kind == "reordered" for kind, _ in kinds(verify_log(audit)))


def test_truncation_found_against_checkpoint(audit, tmp_path):
    saved = dict(audit.checkpoints()[-1])
    rewrite(audit, lambda lines: lines[:4])
    # The checkpoints file still records the appends...
    assert kinds(verify_log(audit)) == [("truncated", 4), ("truncated", 5)]
    # ...and a checkpoint kept elsewhere catches it even when the checkpoints file is cut too.
    audit.checkpoints_path.write_bytes(b"".join(line + b"\n" for line in audit.checkpoints_path.read_bytes().split(b"\n")[:4]))
    assert verify_log(audit).ok
    assert kinds(verify_log(audit, checkpoint=saved)) == [("truncated", 4)]


def test_torn_line_reported_blocks_append_and_is_repaired(audit):
    with open(audit.path, "ab") as handle:
        handle.write(b'{"number":6,"mod')
    assert kinds(verify_log(audit)) == [("torn", 6)]
    with pytest.raises(AuditError, match="torn line"):
        audit.append({"number": 7})
    with pytest.raises(AuditError, match="cancelled"):
        repair_torn_line(audit, lambda size: False)
    message = repair_torn_line(audit, lambda size: size == 16)
    copies = list(audit.path.parent.glob("audit.jsonl.torn-*"))
    assert len(copies) == 1
    assert copies[0].read_bytes() == b'{"number":6,"mod'
    assert "16 bytes" in message
    assert verify_log(audit).ok
    audit.append({"number": 6})
    assert verify_log(audit).ok


def test_record_without_checkpoint_is_adopted(audit):
    # A process that died after writing its record but before its checkpoint.
    with open(audit.path, "ab") as handle:
        handle.write(b'{"number":6}\n')
    assert kinds(verify_log(audit)) == [("unrecorded", 6)]
    audit.append({"number": 7})
    assert verify_log(audit).ok
    assert len(audit.records()) == 8


def test_lost_checkpoints_rebuild_the_tree(audit):
    audit.checkpoints_path.unlink()
    result = audit.append({"number": 6})
    assert result.index == 6
    assert result.root == merkle.root_of(audit.leaves()).hex()


def test_parallel_appends_never_interleave(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    processes = [multiprocessing.Process(target=append_many, args=(path, worker, 1000)) for worker in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        assert process.exitcode == 0
    audit = AuditLog(path)
    records = audit.records()
    assert len(records) == 8000
    for worker in range(8):
        assert [r["number"] for r in records if r["worker"] == worker] == list(range(1000))
    verification = verify_log(audit)
    assert verification.ok, verification.findings[:3]
    assert len(audit.checkpoints()) == 8000


def test_signed_checkpoints(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    audit = AuditLog(tmp_path / "audit.jsonl", key_path)
    for number in range(3):
        audit.append({"number": number})
    assert verify_log(audit, public_key=key.public_key()).ok
    other = Ed25519PrivateKey.generate().public_key()
    assert [f.kind for f in verify_log(audit, public_key=other).findings] == ["signature"] * 3
    unsigned = AuditLog(tmp_path / "audit.jsonl")
    unsigned.append({"number": 3})
    assert kinds(verify_log(audit, public_key=key.public_key())) == [("signature", 3)]


# The command line


def test_check_appends_and_cli_verifies(tmp_path):
    log_path = tmp_path / "audit.jsonl"
    runner = CliRunner()
    for _ in range(3):
        result = runner.invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--audit-log", str(log_path)])
        assert result.exit_code == 1
    assert "Audit record 2 (leaf sha256:" in result.stdout
    json_run = runner.invoke(
        main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--audit-log", str(log_path), "--format", "json"]
    )
    document = json.loads(json_run.stdout)
    assert document["audit"]["index"] == 3
    record = AuditLog(log_path).records()[3]
    assert record["gate"]["decision"] == "blocked"
    assert record["bundle"]["model"] == {"id": "compas-recidivism", "version": "broward-2013-2014"}
    assert record["bundle"]["evidence"][0]["sha256"] == "a2901f19fdb573a99468170d200b411e634a9cccb650528d2df066e029ca46b1"
    assert record["bundle"]["manifest"] == {"path": "bundle.yaml", "sha256": file_sha256(COMPAS_BUNDLE / "bundle.yaml")}
    assert record["bundle"]["model_card"] == {"path": "model_card.md", "sha256": file_sha256(COMPAS_BUNDLE / "model_card.md")}
    assert record["policies"][0]["sha256"]
    assert len(record["plan_sha256"]) == 64
    assert runner.invoke(main, ["audit", "verify", str(log_path)]).exit_code == 0

    skipped = runner.invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--audit-log", str(log_path), "--no-audit"])
    assert "Audit record" not in skipped.stdout
    assert len(AuditLog(log_path).records()) == 4


def test_cli_proofs_verify_offline(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    for number in range(9):
        audit.append({"number": number})
    runner = CliRunner()
    log_path = str(audit.path)
    proof = runner.invoke(main, ["audit", "prove", log_path, "4", "--record-output", str(tmp_path / "record.json")])
    (tmp_path / "proof.json").write_text(proof.stdout)
    checkpoint = runner.invoke(main, ["audit", "checkpoint", log_path])
    (tmp_path / "cp.json").write_text(checkpoint.stdout)
    arguments = ["audit", "verify-proof", str(tmp_path / "proof.json"), "--record", str(tmp_path / "record.json"), "--checkpoint", str(tmp_path / "cp.json")]
    assert runner.invoke(main, arguments).exit_code == 0
    (tmp_path / "record.json").write_text('{"number":5}\n')
    changed = runner.invoke(main, arguments)
    assert changed.exit_code == 1
    assert "the record was changed" in changed.stdout

    consistency = runner.invoke(main, ["audit", "consistency", log_path, "3", "9"])
    (tmp_path / "consistency.json").write_text(consistency.stdout)
    old = {"size": 3, "root": merkle.root_of(audit.leaves()[:3]).hex()}
    (tmp_path / "old.json").write_text(json.dumps(old))
    check = ["audit", "verify-proof", str(tmp_path / "consistency.json"), "--old", str(tmp_path / "old.json"), "--new", str(tmp_path / "cp.json")]
    assert runner.invoke(main, check).exit_code == 0
    (tmp_path / "old.json").write_text(json.dumps({"size": 3, "root": "00" * 32}))
    assert runner.invoke(main, check).exit_code == 1


def test_cli_verify_reports_and_show_filters(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    for number, model in enumerate(["a", "b", "a"]):
        audit.append({"time": f"2026-0{number + 1}-01T00:00:00Z", "bundle": {"model": {"id": model, "version": "1"}}, "gate": {"decision": "passed"}})
    runner = CliRunner()
    shown = runner.invoke(main, ["audit", "show", str(audit.path), "--model", "a", "--since", "2026-02-01", "--format", "json"])
    assert [entry["index"] for entry in json.loads(shown.stdout)] == [2]
    csv_text = runner.invoke(main, ["audit", "show", str(audit.path), "--format", "csv"]).stdout
    assert csv_text.splitlines()[0].startswith("index,time,model")
    assert len(csv_text.splitlines()) == 4
    rewrite(audit, lambda lines: lines[:1] + [lines[1].replace(b'"b"', b'"c"')] + lines[2:])
    result = runner.invoke(main, ["audit", "verify", str(audit.path)])
    assert result.exit_code == 1
    assert "MODIFIED    record 1 (line 2)" in result.stdout
    missing = runner.invoke(main, ["audit", "verify", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2
    assert "E903" in missing.stderr


def test_check_fails_closed_on_a_torn_log(tmp_path):
    log_path = tmp_path / "audit.jsonl"
    log_path.write_bytes(b'{"torn')
    result = CliRunner().invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--audit-log", str(log_path)])
    assert result.exit_code == 2
    assert "E902" in result.stderr
    assert "govdsl audit repair" in result.stderr
    assert "Controls" not in result.stdout


def test_environment_and_pyproject_choose_the_log(tmp_path, monkeypatch):
    from govdsl.audit.record import log_path

    monkeypatch.delenv("GOVDSL_AUDIT_LOG", raising=False)
    assert str(log_path(None, {})) == os.path.join(".govdsl", "audit.jsonl")
    assert str(log_path(None, {"audit_log": "logs/a.jsonl"})) == "logs/a.jsonl"
    monkeypatch.setenv("GOVDSL_AUDIT_LOG", "env.jsonl")
    assert str(log_path(None, {"audit_log": "logs/a.jsonl"})) == "env.jsonl"
    assert str(log_path("option.jsonl", {})) == "option.jsonl"


def test_repair_without_an_answer_leaves_the_log(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append({"number": 0})
    with open(audit.path, "ab") as handle:
        handle.write(b'{"torn')
    result = CliRunner().invoke(main, ["audit", "repair", str(audit.path)], input="")
    assert result.exit_code == 2
    assert "repair cancelled" in result.stderr
    assert "internal error" not in result.stderr
    assert audit.path.read_bytes().endswith(b'{"torn')


def test_show_and_prove_on_changed_log(audit):
    rewrite(audit, lambda lines: lines[:2] + [lines[2].replace(b'"number":2', b'"number":7')] + lines[3:])
    runner = CliRunner()
    listing = runner.invoke(main, ["audit", "show", str(audit.path), "--format", "json"])
    assert listing.exit_code == 1
    assert len(json.loads(listing.stdout)) == 6
    assert "does not verify: 1 finding(s), first MODIFIED record 2" in listing.stderr
    for command in (["prove", str(audit.path), "0"], ["consistency", str(audit.path), "2", "6"]):
        result = runner.invoke(main, ["audit", *command])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "a proof from it would not show anything" in result.stderr


def test_show_of_intact_log_exits_0(audit):
    listing = CliRunner().invoke(main, ["audit", "show", str(audit.path)])
    assert listing.exit_code == 0
    assert listing.stderr == ""

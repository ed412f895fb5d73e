"""The audit log: an append-only file of canonical JSON records, one per line, under a Merkle tree.

Two files live side by side, with a lock file:

- `LOG` (such as `audit.jsonl`): one record per line, each the RFC 8785 canonical JSON
  of the record. The bytes of a line without its newline are the Merkle leaf.
- `LOG.checkpoints`: one JSON line per append, with the new tree size, the root hash,
  the appended leaf hash, the time and, when a signing key is configured, an Ed25519
  signature of the checkpoint. Each line also keeps the tree's compact range (the
  O(log n) roots of its perfect subtrees) and the byte length of the log it covers,
  so the next append reads only the last line and costs O(log n) however long the
  log is.

Appends hold an exclusive file lock (`LOG.lock`), so parallel processes never
interleave lines. A process killed during an append leaves at worst a torn final line
or a last record without checkpoint; the next append stops on the first and adopts
the second, and `verify` reports both.
"""

from __future__ import annotations

import base64
import datetime
import difflib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import rfc8785
from filelock import FileLock

from govdsl.audit import merkle

log = logging.getLogger("govdsl")

CHECKPOINT_FORMAT = "govdsl-checkpoint/1"


class AuditError(Exception):
    """The audit log cannot be appended to or read; the message names the fix."""


def canonical(record: dict) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of a record."""
    return rfc8785.dumps(record)


def checkpoint_message(size: int, root: bytes) -> bytes:
    """Return the bytes a checkpoint signature covers: the format, the tree size and the root."""
    return f"{CHECKPOINT_FORMAT}\n{size}\n{root.hex()}\n".encode()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class AppendResult:
    index: int
    leaf_hash: str
    size: int
    root: str


class AuditLog:
    def __init__(self, path: str | Path, signing_key_path: str | Path | None = None, durable: bool = True) -> None:
        self.path = Path(path)
        # With `durable`, every append waits until the record and its checkpoint are on disk (fsync).
        self.durable = durable
        self.checkpoints_path = self.path.with_name(self.path.name + ".checkpoints")
        self.lock = FileLock(str(self.path.with_name(self.path.name + ".lock")))
        self.signing_key_path = signing_key_path

    # Appending

    def append(self, record: dict) -> AppendResult:
        """Append one record under the lock and write its checkpoint; raise AuditError when the log is damaged."""
        line = canonical(record)
        if b"\n" in line:
            raise AuditError("a canonical record contains a newline")  # RFC 8785 escapes newlines in strings
        signer = self._signer()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # filelock retries a held lock by polling; a short interval keeps parallel CI jobs from idling.
        with self.lock.acquire(poll_interval=0.002):
            tree, length = self._load_state()
            length = self._adopt_unrecorded(tree, length)
            with open(self.path, "ab") as handle:
                handle.write(line + b"\n")
                self._sync(handle)
            leaf = merkle.leaf_hash(line)
            index = tree.size
            tree.append(leaf)
            self._write_checkpoint(tree, leaf, signer, length + len(line) + 1)
        return AppendResult(index, leaf.hex(), tree.size, tree.root().hex())

    def _signer(self):
        if self.signing_key_path is None:
            return None
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import load_pem_private_key
        except ImportError:
            raise AuditError("signing checkpoints needs the `cryptography` package: pip install 'govdsl[signing]'") from None
        try:
            key = load_pem_private_key(Path(self.signing_key_path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise AuditError(f"cannot read the Ed25519 signing key `{self.signing_key_path}`: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"signing key `{self.signing_key_path}` is not an Ed25519 private key")
        return key

    def _load_state(self) -> tuple[merkle.CompactRange, int]:
        """Return the tree and the log length it covers from the last checkpoint, or rebuild both from the log."""
        log_length = self.path.stat().st_size if self.path.exists() else 0
        last = self._last_checkpoint_line()
        try:
            state = json.loads(last)
            tree = merkle.CompactRange(state["size"], [bytes.fromhex(h) for h in state["range"]])
            length = int(state["log_bytes"])
        except (ValueError, KeyError, TypeError) as exc:
            if log_length:
                log.warning("audit log %s: the last checkpoint is unusable (%s); rebuilding the tree from the log", self.path, exc)
            return self._rebuild()
        if length > log_length:
            raise AuditError(
                f"audit log `{self.path}` is shorter ({log_length} bytes) than its last checkpoint says ({length} bytes):"
                f" records were removed; run `govdsl audit verify {self.path}`"
            )
        return tree, length

    def _last_checkpoint_line(self) -> bytes:
        """Return the last complete line of the checkpoints file, or b"" when there is none."""
        try:
            with open(self.checkpoints_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                # A checkpoint line contains at most 64 subtree hashes, so it is shorter than 16 KiB.
                handle.seek(max(0, size - 16384))
                tail = handle.read()
        except FileNotFoundError:
            return b""
        if not tail.endswith(b"\n"):
            return b""  # a torn checkpoint line: rebuild from the log
        start = tail.rfind(b"\n", 0, len(tail) - 1)
        return tail[start + 1 : -1]

    def _rebuild(self) -> tuple[merkle.CompactRange, int]:
        tree = merkle.CompactRange()
        lines, torn = read_lines(self.path)
        if torn is not None:
            raise AuditError(_torn_message(self.path, len(lines)))
        for line in lines:
            tree.append(merkle.leaf_hash(line))
        return tree, sum(len(line) + 1 for line in lines)

    def _adopt_unrecorded(self, tree: merkle.CompactRange, length: int) -> int:
        """Add complete records written after the state (by a process that died before its checkpoint)."""
        if not self.path.exists() or self.path.stat().st_size == length:
            return length
        with open(self.path, "rb") as handle:
            handle.seek(length)
            tail = handle.read()
        if not tail.endswith(b"\n"):
            raise AuditError(_torn_message(self.path, tree.size + tail.count(b"\n")))
        for line in tail.splitlines():
            leaf = merkle.leaf_hash(line)
            tree.append(leaf)
            length += len(line) + 1
            self._write_checkpoint(tree, leaf, self._signer(), length)
            log.warning("audit log %s: record %d had no checkpoint, so one was added", self.path, tree.size - 1)
        return length

    def _write_checkpoint(self, tree: merkle.CompactRange, leaf: bytes, signer, log_bytes: int) -> None:
        root = tree.root()
        checkpoint = {
            "format": CHECKPOINT_FORMAT,
            "size": tree.size,
            "root": root.hex(),
            "leaf": leaf.hex(),
            "time": _now(),
            "range": [h.hex() for h in tree.hashes],
            "log_bytes": log_bytes,
        }
        if signer is not None:
            checkpoint["signature"] = base64.b64encode(signer.sign(checkpoint_message(tree.size, root))).decode()
        with open(self.checkpoints_path, "ab") as handle:
            if handle.tell() and not self._ends_with_newline():
                handle.write(b"\n")  # end a torn line, so verify reports it alone
            handle.write(canonical(checkpoint) + b"\n")
            self._sync(handle)

    def _ends_with_newline(self) -> bool:
        with open(self.checkpoints_path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def _sync(self, handle) -> None:
        handle.flush()
        if self.durable:
            os.fsync(handle.fileno())

    # Reading

    def records(self) -> list[dict]:
        lines, _ = read_lines(self.path)
        return [json.loads(line) for line in lines]

    def leaves(self) -> list[bytes]:
        lines, torn = read_lines(self.path)
        if torn is not None:
            raise AuditError(_torn_message(self.path, len(lines)))
        return [merkle.leaf_hash(line) for line in lines]

    def checkpoints(self) -> list[dict]:
        checkpoints = []
        if not self.checkpoints_path.exists():
            return checkpoints
        for number, line in enumerate(self.checkpoints_path.read_bytes().splitlines(), start=1):
            try:
                checkpoints.append(json.loads(line))
            except ValueError:
                checkpoints.append({"invalid": f"line {number} of {self.checkpoints_path.name} is not JSON"})
        return checkpoints


def read_lines(path: Path) -> tuple[list[bytes], bytes | None]:
    """Return the complete lines of a log file without newlines, and the torn final line if any."""
    if not path.exists():
        return [], None
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = lines.pop()
    return lines, (torn if torn else None)


def _torn_message(path: Path, index: int) -> str:
    return (
        f"audit log `{path}` ends in a torn line at record {index} (a process stopped while appending);"
        f" run `govdsl audit verify {path}`, then `govdsl audit repair {path}`"
    )


# Verifying


@dataclass
class Finding:
    kind: str  # modified, deleted, inserted, reordered, truncated, torn, unrecorded, checkpoint, signature, invalid
    index: int | None
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "index": self.index, "message": self.message}


@dataclass
class Verification:
    size: int
    root: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_log(audit: AuditLog, checkpoint: dict | None = None, public_key=None) -> Verification:
    """Recompute the tree of the log and compare it with its checkpoints, an outside checkpoint and signatures."""
    lines, torn = read_lines(audit.path)
    leaves = [merkle.leaf_hash(line) for line in lines]
    findings: list[Finding] = []
    for index, line in enumerate(lines):
        try:
            json.loads(line)
        except ValueError:
            findings.append(Finding("invalid", index, f"record {index} is not JSON"))
    if torn is not None:
        findings.append(Finding("torn", len(lines), f"the log ends in a torn line after record {len(lines) - 1}: {len(torn)} bytes without a newline"))

    recorded = audit.checkpoints()
    recorded_leaves = []
    for entry in recorded:
        if "invalid" in entry:
            findings.append(Finding("checkpoint", None, entry["invalid"]))
            continue
        recorded_leaves.append(bytes.fromhex(entry["leaf"]))
    findings += _compare_leaves(recorded_leaves, leaves)

    # Every recorded root must match the tree of that many leaves of the log as it is now.
    tree = merkle.CompactRange()
    roots = {0: merkle.EMPTY_ROOT}
    for leaf in leaves:
        tree.append(leaf)
        roots[tree.size] = tree.root()
    for entry in recorded:
        if "invalid" in entry:
            continue
        size, root = entry["size"], entry["root"]
        if size in roots and roots[size].hex() != root and not any(f.kind in ("modified", "deleted", "inserted", "reordered") for f in findings):
            findings.append(Finding("checkpoint", size - 1, f"checkpoint of size {size} has root {root[:16]}..., but the log gives {roots[size].hex()[:16]}..."))
        if public_key is not None:
            findings += _signature_findings(entry, public_key)

    if checkpoint is not None:
        findings += _outside_checkpoint(checkpoint, roots, len(leaves), public_key)
    return Verification(len(leaves), tree.root().hex(), findings)


def _compare_leaves(recorded: list[bytes], actual: list[bytes]) -> list[Finding]:
    """Align the leaves the checkpoints recorded with the log's leaves and name each difference with its index.

    A leaf that left one position and appears at another is a reordered record. A
    position that lost its appended leaf and holds a new one is a modified record.
    Other losses are deleted records (truncated at the end), other gains inserted ones
    (unrecorded after the last checkpoint).
    """
    matcher = difflib.SequenceMatcher(a=recorded, b=actual, autojunk=False)
    removed: dict[bytes, int] = {}  # leaf -> its index when appended
    added: dict[bytes, int] = {}  # leaf -> its index in the log now
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        for index in range(a_start, a_end):
            removed[recorded[index]] = index
        for index in range(b_start, b_end):
            added[actual[index]] = index
    moved = set(removed) & set(added)
    lost = {index: leaf for leaf, index in removed.items() if leaf not in moved}
    gained = {index: leaf for leaf, index in added.items() if leaf not in moved}
    modified = set(lost) & set(gained)

    findings = [Finding("reordered", added[leaf], f"record {added[leaf]} was record {removed[leaf]} when it was appended") for leaf in moved]
    findings += [Finding("modified", index, f"record {index} differs from the record appended at that position") for index in modified]
    for index in set(lost) - modified:
        if index >= len(actual):
            findings.append(Finding("truncated", index, f"record {index} was appended, but the log ends before it"))
        else:
            findings.append(Finding("deleted", index, f"record {index} as appended is missing from the log"))
    for index in set(gained) - modified:
        if index >= len(recorded):
            message = f"record {index} has no checkpoint: a process stopped before writing it, or the record was written outside govdsl"
            findings.append(Finding("unrecorded", index, message))
        else:
            findings.append(Finding("inserted", index, f"record {index} was not appended through govdsl at this position"))
    return sorted(findings, key=lambda f: (f.index, f.kind))


def _signature_findings(entry: dict, public_key) -> list[Finding]:
    from cryptography.exceptions import InvalidSignature

    size = entry.get("size")
    signature = entry.get("signature")
    if signature is None:
        return [Finding("signature", size - 1 if size else None, f"checkpoint of size {size} is not signed")]
    try:
        public_key.verify(base64.b64decode(signature), checkpoint_message(size, bytes.fromhex(entry["root"])))
    except (InvalidSignature, ValueError):
        return [Finding("signature", size - 1 if size else None, f"checkpoint of size {size} has a bad signature")]
    return []


def _outside_checkpoint(checkpoint: dict, roots: dict[int, bytes], size: int, public_key) -> list[Finding]:
    wanted = checkpoint.get("size")
    root = checkpoint.get("root")
    if not isinstance(wanted, int) or not isinstance(root, str):
        return [Finding("checkpoint", None, "the checkpoint file has no integer `size` and hex `root`")]
    if wanted > size:
        return [Finding("truncated", size, f"the checkpoint covers {wanted} records, but the log has only {size}")]
    if roots[wanted].hex() != root:
        return [Finding("checkpoint", wanted - 1, f"the first {wanted} records do not give the checkpoint's root {root[:16]}...")]
    if public_key is not None:
        return _signature_findings(checkpoint, public_key)
    return []

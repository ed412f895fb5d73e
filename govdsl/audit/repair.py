"""Repair an audit log whose last append was cut off: remove the torn final line, keeping a copy of it."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

from govdsl.audit.log import AuditError, AuditLog, read_lines


def repair_torn_line(audit: AuditLog, confirm: Callable[[int], bool]) -> str:
    """Truncate the log after its last complete line once `confirm(torn_size)` agrees; return what was done."""
    with audit.lock:
        lines, torn = read_lines(audit.path)
        if torn is None:
            return f"{audit.path} ends in a complete line: nothing to repair"
        if not confirm(len(torn)):
            raise AuditError("repair cancelled: the log is unchanged")
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        copy = audit.path.with_name(f"{audit.path.name}.torn-{stamp}")
        copy.write_bytes(torn)
        keep = sum(len(line) + 1 for line in lines)
        with open(audit.path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    return f"removed a torn line of {len(torn)} bytes after record {len(lines) - 1}; its bytes are in {copy}"

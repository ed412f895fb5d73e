"""The attestations of a bundle: their checks when the bundle loads, and the reduction the attestation metrics read.

The reduction reads no dataset. It is called as `function(bundle, spec, as_of)`
(see `govdsl.evidence.kinds`) and returns a table with the model's fields, the
attestations in bundle.yaml and the evaluation date.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from govdsl.evidence.bundle import Bundle, _inside
from govdsl.metrics.attestation import ATTESTATION_FEATURES, missing_attestation_message, of_subject
from govdsl.yamlfiles import YamlProblems, key_text

# A link has a URL scheme, such as `https:`; anything else is a path inside the bundle.
_LINK = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_link(evidence: str) -> bool:
    return bool(_LINK.match(evidence))


def check_attestations(root: Path, display: str, entries: object, problems: YamlProblems) -> None:
    """Report repeated ids, expiry before the date, and evidence files outside the bundle or not found.

    Entries with a wrong shape are left to the schema errors.
    """
    if not isinstance(entries, list):
        return
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        key: list[str | int] = ["attestations", index]
        name = entry.get("id")
        if isinstance(name, str):
            if name in first_index:
                problems.add(
                    "E413",
                    f"attestation id `{name}` at `{key_text(key + ['id'])}` is already used at `attestations[{first_index[name]}]`",
                    key + ["id"],
                    "give every attestation its own id",
                )
            first_index.setdefault(name, index)
        _check_dates(entry, key, problems)
        evidence = entry.get("evidence")
        if isinstance(evidence, str) and evidence and not is_link(evidence):
            path = _inside(root, evidence, key + ["evidence"], problems)
            if path is not None and not path.is_file():
                problems.add(
                    "E406",
                    f"attestation `{name}`: evidence file `{evidence}` declared at `{key_text(key + ['evidence'])}` not found in bundle `{display}`",
                    key + ["evidence"],
                    "add the file to the bundle, correct the path, or give a link such as https://...",
                )


def _check_dates(entry: dict, key: list[str | int], problems: YamlProblems) -> None:
    try:
        date = datetime.date.fromisoformat(str(entry.get("date")))
        expires = datetime.date.fromisoformat(str(entry.get("expires")))
    except ValueError:
        return  # the schema reports a date that does not exist
    if expires < date:
        problems.add(
            "E413",
            f"attestation `{entry.get('id')}` expires on {expires.isoformat()}, before its date {date.isoformat()}",
            key + ["expires"],
            "`expires` is the last day the attestation counts, on or after `date`",
        )


@dataclass(frozen=True)
class AttestationTable:
    model: dict
    attestations: tuple[dict, ...]
    as_of: datetime.date
    features: tuple[str, ...] = ATTESTATION_FEATURES
    rows_excluded: int = 0


def reduce_attestations(bundle: Bundle, spec, as_of: datetime.date) -> AttestationTable:
    """Return the attestations; raise EvidenceMissing when none has the spec's subject, so the check is `error`.

    A subject the bundle never attests is missing evidence. An attestation that
    exists but does not count (expired, another role) is a finding, which the
    metrics report as a value.
    """
    # Imported here because it loads pandas, which the bundle loader's checks above do not need.
    from govdsl.evidence.reductions import EvidenceMissing

    subject = spec.option("subject")
    if not of_subject(bundle.attestations, subject):
        raise EvidenceMissing(missing_attestation_message(subject, bundle.attestations))
    return AttestationTable(bundle.model, tuple(bundle.attestations), as_of)

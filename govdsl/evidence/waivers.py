"""Load a waivers file: recorded acceptances of a risk, validated before anything is evaluated.

A waiver names one control, the models and versions it covers, why the risk is
accepted, who approved it in which role, when, and when it expires. A file that
breaks the schema, repeats a waiver id or expires a waiver before its approval is
invalid input. Whether a well-formed waiver applies to a run is decided later by
the engine, which reports the outcome.
"""

from __future__ import annotations

import datetime
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from govdsl import resources
from govdsl.diagnostics import error
from govdsl.errors import InvalidInputError
from govdsl.yamlfiles import YamlProblems, key_text, locate, parse_yaml_document, schema_error_text, stringify_dates

_HELP = "the fields of a waivers file are described in docs/waivers.md of the govdsl repository"


@dataclass(frozen=True)
class ModelScope:
    id: str
    versions: tuple[str, ...] = ()  # empty: every version; entries may use the wildcards * and ?

    def covers(self, model_id: str, version: str) -> bool:
        if self.id != model_id:
            return False
        return not self.versions or any(fnmatch.fnmatchcase(version, pattern) for pattern in self.versions)


@dataclass(frozen=True)
class Waiver:
    id: str
    control: str
    models: tuple[ModelScope, ...]
    justification: str
    approver_name: str
    approver_role: str
    approved_on: datetime.date
    expires: datetime.date
    ticket: str | None
    compensating_controls: tuple[str, ...]
    file: str
    line: int | None

    def covers(self, model_id: str, version: str) -> bool:
        return any(scope.covers(model_id, version) for scope in self.models)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "control": self.control,
            "models": [{"id": m.id, "versions": list(m.versions)} for m in self.models],
            "justification": self.justification,
            "approved_by": {"name": self.approver_name, "role": self.approver_role},
            "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "compensating_controls": list(self.compensating_controls),
            "file": self.file,
            "line": self.line,
        }


def load_waivers(path: str | Path) -> tuple[Waiver, ...]:
    """Read and validate a waivers file; raise InvalidInputError listing every problem in it."""
    display = Path(path).as_posix()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError([error("E801", f"waivers file `{display}` not found", help="check the path given to --waivers")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError([error("E801", f"cannot read waivers file `{display}`: {exc}", help="a waivers file is UTF-8 YAML")]) from None
    data = stringify_dates(parse_yaml_document(text, display, "E802", "waivers file"))

    problems = YamlProblems(display, text)
    validator = jsonschema.Draft202012Validator(resources.load_package_schema("waivers.schema.json"))
    for problem in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path, message, hint = schema_error_text(problem)
        where = key_text(path) or "the top level"
        text = _message(problem) if problem.validator == "pattern" else message
        problems.add("E803", f"waivers file `{display}` is invalid at `{where}`: {text}", path, hint or _HELP)
    problems.raise_if_any()

    waivers: list[Waiver] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["waivers"]):
        key = ["waivers", index]
        approved_on = _date(raw["approved_on"], key + ["approved_on"], problems)
        expires = _date(raw["expires"], key + ["expires"], problems)
        if raw["id"] in seen:
            problems.add("E804", f"waiver id `{raw['id']}` is used twice (also at waivers[{seen[raw['id']]}])", key + ["id"], "give every waiver its own id")
            continue
        seen[raw["id"]] = index
        if approved_on is None or expires is None:
            continue
        if expires < approved_on:
            problems.add(
                "E805",
                f"waiver `{raw['id']}` expires on {expires.isoformat()}, before it was approved on {approved_on.isoformat()}",
                key + ["expires"],
                "correct `approved_on` or `expires`",
            )
            continue
        position = _line(text, key)
        waivers.append(
            Waiver(
                id=raw["id"],
                control=raw["control"],
                models=tuple(ModelScope(m["id"], tuple(m.get("versions", ()))) for m in raw["models"]),
                justification=raw["justification"].strip(),
                approver_name=raw["approved_by"]["name"],
                approver_role=raw["approved_by"]["role"],
                approved_on=approved_on,
                expires=expires,
                ticket=raw.get("ticket"),
                compensating_controls=tuple(raw.get("compensating_controls", ())),
                file=display,
                line=position,
            )
        )
    problems.raise_if_any()
    return tuple(waivers)


def _line(text: str, path: list) -> int | None:
    position = locate(text, path)
    return position[0] if position else None


def _date(value: str, path: list, problems: YamlProblems) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        problems.add("E803", f"`{key_text(path)}` is not a calendar date: `{value}`", path, "write the date as YYYY-MM-DD")
        return None


def _message(problem: jsonschema.ValidationError) -> str:
    """Return a schema error in words a waiver author can act on."""
    if problem.validator == "pattern" and problem.absolute_path and problem.absolute_path[-1] == "control":
        return f"{problem.instance!r} is not a control id; write it as `policy.control`, as `govdsl check` prints it"
    if problem.validator == "pattern" and problem.absolute_path and problem.absolute_path[-1] in ("approved_on", "expires"):
        return f"{problem.instance!r} is not a date written as YYYY-MM-DD"
    return problem.message
